import { ConfigError } from '../errors.ts';
import { wasmApi } from './runtime.ts';
import { webWorkerHost, type ThreadHost } from './thread-host.ts';
import { WorkerPool, type PoolOptions } from './thread-pool.ts';
import { MAX_CHUNKS } from './worker-program.ts';

/*
 * The realm's threads: which host starts workers, whether threads can run here at all, and the one pool
 * that training and inference share (created on first use, grown when more threads are asked for, closed by
 * closeThreads). Threads are opt-in: the library runs on one thread unless a `threads` option says otherwise.
 *
 * Requirements: SharedArrayBuffer and a shared WebAssembly.Memory — in a browser only on a cross-origin
 * isolated page (served with `Cross-Origin-Opener-Policy: same-origin` and
 * `Cross-Origin-Embedder-Policy: require-corp`) — and a host: Web Workers in browsers (the default there);
 * in Node, `setThreadHost(nodeThreadHost)` from sparsegrad/node (the CLI does this).
 */

/** The most threads one job uses (below MAX_CHUNKS, the control block's 8-bit chunk count). */
export const MAX_THREADS = Math.min(64, MAX_CHUNKS);

let host: ThreadHost | null | undefined;
let pool: WorkerPool | null = null;
let poolOptions: PoolOptions = {};

/**
 * Chooses how worker threads are started (null: never) and closes the current pool. In Node pass
 * `nodeThreadHost` from sparsegrad/node; browsers use Web Workers without this call. `options` tune the
 * pool (tests use a short stall limit).
 */
export function setThreadHost(next: ThreadHost | null, options: PoolOptions = {}): void {
  closeThreads();
  host = next;
  poolOptions = options;
}

/** The host threads start on: the one set by setThreadHost, else Web Workers where they exist, else null. */
export function threadHost(): ThreadHost | null {
  if (host === undefined) host = webWorkerHost();
  return host;
}

let sharedMemory: boolean | undefined;

/**
 * Whether this JavaScript realm can share WebAssembly memory between threads: SharedArrayBuffer exists, the
 * page is not one that says it is not cross-origin isolated, and a shared WebAssembly.Memory can be made.
 */
function sharedMemorySupported(): boolean {
  const g = globalThis as { SharedArrayBuffer?: unknown; crossOriginIsolated?: boolean };
  if (typeof g.SharedArrayBuffer !== 'function' || g.crossOriginIsolated === false) return false;
  sharedMemory ??= probeSharedMemory();
  return sharedMemory;
}

function probeSharedMemory(): boolean {
  const api = wasmApi();
  if (api === undefined) return false;
  try {
    const memory = new api.Memory({ initial: 1, maximum: 1, shared: true });
    return Object.prototype.toString.call(memory.buffer) === '[object SharedArrayBuffer]';
  } catch {
    return false;
  }
}

/**
 * Checks a requested thread count (a positive integer up to MAX_THREADS; ConfigError otherwise) and says
 * how many threads will run: the request, or 1 with a note saying why (no shared memory — a browser page
 * that is not cross-origin isolated —, no thread host).
 */
export function resolveThreads(requested: number): { threads: number; note?: string } {
  if (!Number.isSafeInteger(requested) || requested < 1 || requested > MAX_THREADS) {
    throw new ConfigError(`threads must be an integer from 1 to ${MAX_THREADS}, got ${String(requested)}`);
  }
  if (requested === 1) return { threads: 1 };
  if (!sharedMemorySupported()) {
    return { threads: 1, note: 'threads need SharedArrayBuffer and shared WebAssembly memory, which this page lacks (a browser page must be cross-origin isolated: COOP/COEP headers): running on one thread' };
  }
  if (threadHost() === null) {
    return { threads: 1, note: "no thread host in this JavaScript engine (in Node: setThreadHost(nodeThreadHost) from 'sparsegrad/node'): running on one thread" };
  }
  return { threads: requested };
}

/**
 * The realm's pool with room for `threads` threads (the caller and threads − 1 workers), started or grown
 * (restarted larger) as needed; null when resolveThreads would not give that many. A pool that a failed job
 * closed is replaced. Throws ThreadError when workers do not start.
 */
export function threadPool(threads: number): WorkerPool | null {
  if (threads <= 1 || resolveThreads(threads).threads !== threads) return null;
  if (pool !== null && (pool.closed || pool.threads < threads)) closeThreads();
  pool ??= new WorkerPool(threadHost()!, threads - 1, poolOptions);
  return pool;
}

/** Stops the realm's worker threads (the next threaded call starts new ones). Safe to call at any time outside a job. */
export function closeThreads(): void {
  pool?.close();
  pool = null;
}
