/**
 * Threads in a real browser (headless Chromium, where /usr/bin/chromium exists): the browser-safe entry
 * point, bundled, on a page served with the cross-origin isolation headers runs Web Workers on a shared
 * WebAssembly memory (same bits as one thread, the workers taking part); the same page served without them
 * falls back to one thread and says why. The page reports through document.title.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkPageInChromium } from '../support/chromium.ts';

const hasChromium = existsSync('/usr/bin/chromium');
const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-browser-threads-'));
let server: Server | null = null;
let port = 0;

beforeAll(async () => {
  if (!hasChromium) return;
  const bundle = buildSync({ entryPoints: [new URL('../fixtures/browser/threads-page.ts', import.meta.url).pathname], bundle: true, format: 'esm', write: false, platform: 'browser', target: 'es2022' });
  writeFileSync(join(dir, 'page.js'), bundle.outputFiles[0]!.contents);
  server = createServer((request, response) => {
    const isolated = request.url?.startsWith('/isolated/') === true;
    const file = request.url?.endsWith('.js') === true ? 'page.js' : null;
    if (isolated) {
      response.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      response.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    }
    if (file === null) {
      response.setHeader('Content-Type', 'text/html');
      response.end('<!DOCTYPE html><html><head><title>running</title><script type="module" src="page.js"></script></head><body></body></html>');
    } else {
      response.setHeader('Content-Type', 'text/javascript');
      response.end(readFileSync(join(dir, file)));
    }
  });
  await new Promise<void>((done) => server!.listen(0, '127.0.0.1', done));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((done) => (server === null ? done() : server.close(() => done())));
  rmSync(dir, { recursive: true, force: true });
});

async function pageResult(path: string): Promise<Record<string, unknown>> {
  const result = await checkPageInChromium(`http://127.0.0.1:${port}${path}`, { chromiumPath: '/usr/bin/chromium', timeoutMs: 60_000, settleMs: 4000 });
  expect(result.errors).toEqual([]);
  expect(result.title).toMatch(/^RESULT /);
  return JSON.parse(result.title.slice('RESULT '.length)) as Record<string, unknown>;
}

describe('threads in a browser', () => {
  it.runIf(hasChromium)('run on Web Workers on a cross-origin isolated page, with the bits of one thread', async () => {
    const result = await pageResult('/isolated/index.html');
    expect(result).toMatchObject({ isolated: true, resolvedThreads: 2, modelThreads: 2, predictSame: true, trainThreads: 2, trainSame: true });
    expect(result['inferenceChunks'], 'chunks the workers ran for predict').toBeGreaterThan(0);
    expect(result['trainingChunks'], 'chunks the workers ran for fit').toBeGreaterThan(0);
  });

  it.runIf(hasChromium)('fall back to one thread, saying why, on a page that is not cross-origin isolated', async () => {
    expect(await pageResult('/plain/index.html')).toMatchObject({
      isolated: false, resolvedThreads: 1, note: expect.stringMatching(/cross-origin isolated/), modelThreads: 1, predictSame: true,
      trainThreads: 1, trainNote: expect.stringMatching(/cross-origin isolated/), trainSame: true,
    });
  });
});
