/**
 * A worker thread of a parallel study (study-pool.ts): it receives the study's setup once (datasets in
 * shared memory, the model, the validation plan), then runs the tasks it is sent one at a time with the same
 * code as a run in the main thread, and posts each result — or the error it threw — back. Messages are
 * handled strictly in order, so a task never starts before the setup modules have been imported.
 */
import { parentPort } from 'node:worker_threads';
import type { ProgressEvent } from '../nn/train.ts';
import type { ModelState } from '../study/model-state.ts';
import { StudyRunner, type StudySetup, type StudyTask } from '../study/tasks.ts';
import { SparsegradError } from '../errors.ts';
import { setThreadHost, threadHost } from '../wasm/threads.ts';
import { nodeThreadHost } from './threads.ts';

// A study job may run its kernels on several threads (StudySetup.threads): workers may start workers.
if (threadHost() === null) setThreadHost(nodeThreadHost);

/** Messages from the pool. */
export type ToWorker =
  | { readonly type: 'init'; readonly setup: StudySetup; readonly setupModules: readonly string[] }
  | { readonly type: 'dense-models'; readonly models: readonly (readonly [number, ModelState])[] }
  | { readonly type: 'task'; readonly task: StudyTask };

/** Messages to the pool. */
export type FromWorker =
  | { readonly type: 'result'; readonly key: string; readonly result: unknown }
  | { readonly type: 'error'; readonly key: string; readonly error: { readonly name: string; readonly code?: string; readonly message: string } }
  | { readonly type: 'progress'; readonly key: string; readonly event: ProgressEvent }
  | { readonly type: 'note'; readonly text: string };

/** At most this many progress messages per second per worker. */
const PROGRESS_INTERVAL_MS = 250;

const port = parentPort;
if (port === null) throw new Error('study-worker.ts runs in a worker thread (see study-pool.ts)');
let runner: StudyRunner | null = null;
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: ToWorker) => {
  queue = queue.then(() => handle(message));
});

async function handle(message: ToWorker): Promise<void> {
  const post = (reply: FromWorker): void => port!.postMessage(reply);
  if (message.type === 'init') {
    // Custom pruning methods and criteria registered in the main thread do not exist here: the study's
    // setup modules register them again.
    for (const module of message.setupModules) await import(module);
    runner = new StudyRunner(message.setup);
  } else if (message.type === 'dense-models') {
    for (const [fold, model] of message.models) runner!.addDenseModel(fold, model);
  } else {
    const { task } = message;
    let lastProgress = 0;
    try {
      if (runner === null) throw new Error('the worker received a task before its setup');
      const result = runner.run(task, {
        onNote: (text) => post({ type: 'note', text }),
        onProgress: (event) => {
          const now = Date.now();
          if (now - lastProgress < PROGRESS_INTERVAL_MS) return;
          lastProgress = now;
          post({ type: 'progress', key: task.key, event });
        },
      });
      post({ type: 'result', key: task.key, result });
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      post({ type: 'error', key: task.key, error: { name: e.name, message: e.message, ...(error instanceof SparsegradError ? { code: error.code } : {}) } });
    }
  }
}
