/**
 * A tiny static server for the browser example — Node's http module only, no dependency.
 *
 *     npm run build && npx tsx examples/browser/serve.ts [--port 8080] [--lib DIR]    → http://127.0.0.1:8080/
 *
 * It serves exactly three things, and answers 404 to everything else:
 *   /, /index.html, /app.js      the page (this folder)
 *   /models/NAME.safetensors     the model files the page fetches (this folder's models/)
 *   /lib/...                     the library as ES modules: the built package (dist/, from `npm run build`),
 *                                or `--lib DIR` (the Chromium test serves a bundle of src/infer there)
 *
 * Every response is cross-origin isolated (Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-
 * Policy: require-corp), which is what lets the page use SharedArrayBuffer — a shared WebAssembly memory, and
 * worker threads later. Files are read under the library's input rules (src/node/input-file.ts: regular
 * files only, within a size limit, not changing while read); paths are resolved inside their folder, so
 * `..` cannot leave it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { readInputFile } from '../../src/node/input-file.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const REPOSITORY = fileURLToPath(new URL('../../', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.safetensors': 'application/octet-stream',
  '.png': 'image/png',
};

/** Headers every response carries: cross-origin isolation, and no caching of a development server's files. */
const COMMON_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-store',
};

/** Largest file served: the example's models are ~1 MiB, the library's modules far less. */
const MAX_FILE_BYTES = 64 * 1024 * 1024;

/** Where the server takes files from. */
export interface ServeOptions {
  /** Port to listen on; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** The library folder served under /lib/. Default: the repository's dist/. */
  readonly lib?: string;
}

/** A running server: its address and how to stop it. */
export interface RunningServer {
  readonly url: string;
  close(): Promise<void>;
}

/** The file a request path maps to, or null (→ 404). Never leaves the folder it maps into. */
export function fileFor(path: string, lib: string): string | null {
  if (path === '/' || path === '/index.html') return join(HERE, 'index.html');
  if (path === '/app.js') return join(HERE, 'app.js');
  const inside = (root: string, rest: string): string | null => {
    const target = resolve(root, normalize(rest).replace(/^([/\\])+/, ''));
    return target.startsWith(resolve(root) + sep) ? target : null;
  };
  if (/^\/models\/[\w.-]+\.safetensors$/.test(path)) return inside(join(HERE, 'models'), path.slice('/models/'.length));
  if (path.startsWith('/lib/') && /\.(js|map)$/.test(path)) return inside(lib, path.slice('/lib/'.length));
  return null;
}

function respond(request: IncomingMessage, response: ServerResponse, lib: string): void {
  const send = (status: number, body: string | Uint8Array, type = 'text/plain; charset=utf-8'): void => {
    response.writeHead(status, { ...COMMON_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
    response.end(request.method === 'HEAD' ? undefined : body);
  };
  if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'method not allowed\n');
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url ?? '/', 'http://localhost').pathname);
  } catch {
    return send(400, 'bad request\n');
  }
  const file = fileFor(path, lib);
  if (file === null) return send(404, 'not found\n');
  try {
    const bytes = readInputFile(file, { what: 'file', maxBytes: MAX_FILE_BYTES, fail: (code, message) => Object.assign(new Error(message), { code }) });
    send(200, bytes, CONTENT_TYPES[extname(file)] ?? 'application/octet-stream');
  } catch (error) {
    const missing = (error as { code?: string }).code === 'E_UNREADABLE';
    send(missing ? 404 : 500, missing ? 'not found\n' : 'cannot read the file\n');
  }
}

/** Starts the server on 127.0.0.1. */
export function serve(options: ServeOptions = {}): Promise<RunningServer> {
  const lib = resolve(options.lib ?? join(REPOSITORY, 'dist'));
  const server: Server = createServer((request, response) => respond(request, response, lib));
  return new Promise((resolvePromise, rejectPromise) => {
    server.once('error', rejectPromise);
    server.listen(options.port ?? 8080, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : options.port;
      resolvePromise({
        url: `http://127.0.0.1:${port}/`,
        close: () => new Promise((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
      });
    });
  });
}

// Run as a script: parse --port and --lib, start, and say where.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const flag = (name: string): string | undefined => {
    const at = process.argv.indexOf(`--${name}`);
    return at < 0 ? undefined : process.argv[at + 1];
  };
  const port = Number(flag('port') ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    process.stderr.write(`serve: --port must be an integer from 0 to 65535\n`);
    process.exit(2);
  }
  const lib = flag('lib');
  const running = await serve({ port, ...(lib === undefined ? {} : { lib }) });
  process.stdout.write(`serving the browser example at ${running.url} (library from ${resolve(lib ?? join(REPOSITORY, 'dist'))}); Ctrl-C stops\n`);
}
