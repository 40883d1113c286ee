import { Worker } from 'node:worker_threads';
import type { ThreadHost } from '../wasm/thread-host.ts';

/*
 * Worker threads for Node (worker_threads). The workers run the core's worker program from source (eval),
 * after a prelude that defines its `host` (see src/wasm/thread-host.ts): messages from the parent port, and
 * an exit hook that marks the worker dead in the shared control block, so a worker that ends mid-job ends
 * the job with a ThreadError instead of leaving the caller waiting.
 *
 * Workers are unref'd: an idle pool never keeps a process alive. closeThreads() stops them explicitly.
 */

const NODE_PRELUDE = `const { parentPort } = require('node:worker_threads');
const host = {
  listen: (fn) => parentPort.on('message', fn),
  atExit: (fn) => process.on('exit', fn),
};
`;

/**
 * The Node host for threads: `setThreadHost(nodeThreadHost)` lets `threads` options and `--threads` use
 * worker_threads. The caller (main thread or a worker) may block in Atomics.wait.
 */
export const nodeThreadHost: ThreadHost = {
  name: 'worker_threads',
  callerMayWait: true,
  spawn(program) {
    // No inherited Node options: the program is plain JavaScript, and loaders (tsx) or `-e` flags of the
    // parent would only slow a worker's start or stop it.
    const worker = new Worker(NODE_PRELUDE + program, { eval: true, execArgv: [] });
    worker.unref();
    return {
      postMessage: (message) => worker.postMessage(message),
      terminate: () => void worker.terminate(),
      onExit(listener) {
        worker.once('error', (error) => listener(`it threw ${error.name}: ${error.message}`));
        worker.once('exit', (code) => listener(`it exited with code ${code}`));
      },
    };
  },
};
