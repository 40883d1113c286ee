/*
 * How a platform starts worker threads: the one thing the thread pool (thread-pool.ts) cannot do in
 * portable code. The browser-safe core ships the Web Workers host below; the Node host (worker_threads)
 * lives in src/node/threads.ts, and `setThreadHost` (threads.ts) picks one.
 *
 * The worker program (worker-program.ts) expects a global `host` with two functions, which each host's
 * prelude defines in the worker's own terms:
 *   host.listen(fn)   calls fn(data) for every message the worker receives
 *   host.atExit(fn)   runs fn when the worker thread exits, if the platform can (it tells the pool a
 *                     worker died mid-job instead of leaving it waiting)
 */

/** A started worker, as the pool sees it. */
export interface ThreadWorker {
  /** Sends a message (structured clone: SharedArrayBuffer, WebAssembly.Module and shared Memory included). */
  postMessage(message: unknown): void;
  /** Stops the worker at once (it may be in the middle of nothing or of a job). */
  terminate(): void;
  /** `listener` is called once when the worker stops or fails outside any job, with a reason. */
  onExit(listener: (reason: string) => void): void;
}

/** A platform's way to start workers; see the comment at the top of this file. */
export interface ThreadHost {
  /** For messages: 'worker_threads', 'web-workers', … */
  readonly name: string;
  /**
   * Whether the calling thread may block in Atomics.wait (Node's main thread and workers: yes; a browser's
   * main thread: no, so it polls instead, and does not wait for workers to start).
   */
  readonly callerMayWait: boolean;
  /** Starts a worker running `program` (JavaScript source) after this host's prelude. */
  spawn(program: string): ThreadWorker;
}

/** The globals of a Web Workers platform this file uses (typed here: the core is checked without DOM types). */
interface WebGlobals {
  Worker?: new (url: string) => {
    postMessage(message: unknown): void;
    terminate(): void;
    addEventListener(type: 'error', listener: (event: { message?: string }) => void): void;
  };
  Blob?: new (parts: string[], options: { type: string }) => object;
  URL?: { createObjectURL(blob: object): string };
  crossOriginIsolated?: boolean;
  importScripts?: unknown;
}

const WEB_PRELUDE = `const host = {
  listen: (fn) => self.addEventListener('message', (event) => fn(event.data)),
  atExit: () => {},
};
`;

/**
 * The Web Workers host of browsers (and Deno): each worker runs from a Blob URL of the program, so no file
 * needs serving. Null where there are no Web Workers. Threads also need SharedArrayBuffer, which a page only
 * gets when it is cross-origin isolated (see resolveThreads in threads.ts).
 */
export function webWorkerHost(): ThreadHost | null {
  const web = globalThis as unknown as WebGlobals;
  const { Worker, Blob, URL } = web;
  if (Worker === undefined || Blob === undefined || URL === undefined) return null;
  const urls = new Map<string, string>(); // one Blob URL per program, kept: a worker may still be loading it
  return {
    name: 'web-workers',
    // A worker (a page's computation moved off its main thread) may block; a page's main thread may not.
    callerMayWait: typeof web.importScripts === 'function',
    spawn(program) {
      let url = urls.get(program);
      if (url === undefined) {
        url = URL.createObjectURL(new Blob([WEB_PRELUDE + program], { type: 'text/javascript' }));
        urls.set(program, url);
      }
      const worker = new Worker(url);
      let exitListener: ((reason: string) => void) | null = null;
      worker.addEventListener('error', (event) => exitListener?.(`the worker failed: ${event.message ?? 'unknown error'}`));
      return {
        postMessage: (message) => worker.postMessage(message),
        terminate: () => worker.terminate(),
        onExit: (listener) => {
          exitListener = listener;
        },
      };
    },
  };
}
