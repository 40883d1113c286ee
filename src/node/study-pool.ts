/**
 * Runs a study's tasks (src/study/tasks.ts) in parallel, and resumably.
 *
 * Why worker threads, not processes: every task of a study reads the same training data — 188 MB of floats
 * for Fashion-MNIST — and threads share it through one SharedArrayBuffer, copied once, where processes would
 * each load and hold their own copy; a thread also starts in a fraction of a second. Isolation is what
 * threads give up, and a study does not need it: each task is a pure function of plain data, a task that
 * throws reports its error, and a thread that dies (process.exit, an out-of-memory abort) emits 'exit',
 * which ends the study with an error naming the run — it never waits forever.
 *
 * Same numbers with any number of jobs: every task starts from the same model state with its own seed, and
 * a thread runs exactly the code the main thread runs (`--jobs 1` runs the tasks in the main thread).
 * Results are journaled as they finish (run-journal.ts); those already in the journal are not run again.
 */
import { Worker } from 'node:worker_threads';
import type { Dataset } from '../data/dataset.ts';
import { ConfigError, DataFormatError, LabelError, NonFiniteError, ShapeError, SparsegradError, StateError, UnsupportedError } from '../errors.ts';
import type { ProgressEvent } from '../nn/train.ts';
import type { ModelState } from '../study/model-state.ts';
import { StudyRunner, type DenseResult, type StudySetup, type StudyTask, type TaskResult } from '../study/tasks.ts';
import type { RunJournal } from './run-journal.ts';
import type { FromWorker, ToWorker } from './study-worker.ts';

/** A worker thread of a study died or failed outside a task. Exit code 1. */
export class StudyWorkerError extends SparsegradError {
  constructor(message: string) {
    super('E_WORKER', message);
  }
}

/** How to run a study's tasks. */
export interface StudyJobOptions {
  /** Parallel worker threads; 1 runs every task in this thread. A positive integer. */
  readonly jobs: number;
  /** Where finished runs are written, and runs already finished are read from. */
  readonly journal?: RunJournal | null;
  /** Modules each worker imports first (URLs or absolute paths), e.g. one that registers a custom method. */
  readonly setupModules?: readonly string[];
  /** A task is about to run (`index` counts the runs of this session). */
  readonly onStart?: (task: StudyTask, index: number, total: number) => void;
  /** A task finished, or (`resumed`) was found in the journal. */
  readonly onResult?: (task: StudyTask, result: TaskResult, resumed: boolean) => void;
  readonly onNote?: (text: string) => void;
  readonly onProgress?: (event: ProgressEvent, task: StudyTask) => void;
}

/**
 * Runs `tasks` (dense tasks first: a cv fold's trials need its retrained model) and returns every result by
 * task key, the journaled ones included. Throws ConfigError for `jobs` that is not a positive integer, the
 * error a task threw (with the run named), or StudyWorkerError when a worker dies.
 */
export async function runStudyTasks(setup: StudySetup, tasks: readonly StudyTask[], options: StudyJobOptions): Promise<Map<string, TaskResult>> {
  if (!Number.isSafeInteger(options.jobs) || options.jobs < 1) throw new ConfigError(`jobs must be a positive integer, got ${options.jobs}`);
  const results = new Map<string, TaskResult>();
  for (const task of tasks) {
    const done = options.journal?.results.get(task.key);
    if (done === undefined || done.kind !== task.kind) continue;
    results.set(task.key, done);
    options.onResult?.(task, done, true);
  }
  const missingTrials = tasks.filter((t) => t.kind === 'trial' && !results.has(t.key));
  // A retrained fold model is never journaled: rerun a cv fold's dense task while any of its trials is missing.
  const retrains = setup.plan?.recipe != null;
  const denseToRun = tasks.filter((t) => t.kind === 'dense' && (!results.has(t.key) || (retrains && missingTrials.some((m) => m.kind === 'trial' && m.fold === t.fold))));
  const total = denseToRun.length + missingTrials.length;
  let started = 0;
  const record = (task: StudyTask, result: TaskResult): void => {
    results.set(task.key, result);
    options.journal?.append(result);
    options.onResult?.(task, result, false);
  };
  const hooks = { onStart: (task: StudyTask) => options.onStart?.(task, started++, total), record, options };

  if (options.jobs === 1 || total <= 1) {
    const runner = new StudyRunner(setup);
    for (const task of [...denseToRun, ...missingTrials]) {
      hooks.onStart(task);
      let result: TaskResult;
      try {
        result = runner.run(task, {
          ...(options.onNote === undefined ? {} : { onNote: options.onNote }),
          ...(options.onProgress === undefined ? {} : { onProgress: (event: ProgressEvent) => options.onProgress!(event, task) }),
        });
      } catch (error) {
        if (error instanceof Error) error.message = `${task.label}: ${error.message}`; // the same error, naming the run
        throw error;
      }
      record(task, result);
    }
    return results;
  }

  const pool = new WorkerPool(shareSetup(setup), Math.min(options.jobs, Math.max(denseToRun.length, missingTrials.length)), options.setupModules ?? []);
  try {
    await pool.run(denseToRun, hooks);
    const models = denseToRun.flatMap((t) => {
      const model = (results.get(t.key) as DenseResult).model;
      return t.kind === 'dense' && model !== undefined ? [[t.fold, model] as const] : [];
    });
    if (models.length > 0) pool.broadcast({ type: 'dense-models', models });
    await pool.run(missingTrials, hooks);
  } finally {
    await pool.close();
  }
  return results;
}

interface PoolHooks {
  onStart(task: StudyTask): void;
  record(task: StudyTask, result: TaskResult): void;
  options: StudyJobOptions;
}

/** A fixed set of worker threads that run tasks from a queue, one task per worker at a time. */
class WorkerPool {
  private readonly workers: Worker[];
  private readonly exited = new Set<Worker>();

  constructor(setup: StudySetup, size: number, setupModules: readonly string[]) {
    this.workers = Array.from({ length: size }, () => spawnWorker());
    for (const worker of this.workers) {
      worker.on('exit', () => this.exited.add(worker));
      this.send(worker, { type: 'init', setup, setupModules });
    }
  }

  broadcast(message: ToWorker): void {
    for (const worker of this.workers) this.send(worker, message);
  }

  /** Runs `tasks` on the workers; resolves when all are done, rejects at the first failure. */
  run(tasks: readonly StudyTask[], hooks: PoolHooks): Promise<void> {
    if (tasks.length === 0) return Promise.resolve();
    const queue = [...tasks];
    let running = 0;
    return new Promise<void>((resolve, reject) => {
      let failed = false;
      const listeners: (() => void)[] = [];
      const fail = (error: Error): void => {
        if (failed) return;
        failed = true;
        for (const remove of listeners) remove();
        reject(error);
      };
      const next = (worker: Worker): void => {
        const task = queue.shift();
        if (task === undefined) {
          if (running === 0) {
            for (const remove of listeners) remove();
            resolve();
          }
          return;
        }
        running++;
        hooks.onStart(task);
        current.set(worker, task);
        this.send(worker, { type: 'task', task });
      };
      const current = new Map<Worker, StudyTask>();
      for (const worker of this.workers) {
        const onMessage = (message: FromWorker): void => {
          if (failed) return;
          if (message.type === 'note') hooks.options.onNote?.(message.text);
          else if (message.type === 'progress') hooks.options.onProgress?.(message.event, current.get(worker)!);
          else if (message.type === 'error') fail(taskError(current.get(worker)!, message.error));
          else {
            const task = current.get(worker)!;
            current.delete(worker);
            running--;
            try {
              hooks.record(task, message.result as TaskResult); // journals it: a failing write ends the study, not the process
              next(worker);
            } catch (error) {
              fail(error instanceof Error ? error : new Error(String(error)));
            }
          }
        };
        const onError = (error: Error): void => {
          const task = current.get(worker);
          fail(new StudyWorkerError(`a study worker failed${task === undefined ? '' : ` while running ${task.label}`}: ${error.message}`));
        };
        const onExit = (code: number): void => {
          const task = current.get(worker);
          fail(new StudyWorkerError(`a study worker exited (code ${code})${task === undefined ? ' before its runs were done' : ` while running ${task.label}`}; the study stops (finished runs are in the journal; --resume continues)`));
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        listeners.push(() => {
          worker.off('message', onMessage);
          worker.off('error', onError);
          worker.off('exit', onExit);
        });
        if (this.exited.has(worker)) onExit(-1);
      }
      for (const worker of this.workers) next(worker);
    });
  }

  /** Stops every worker (running tasks are abandoned). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private send(worker: Worker, message: ToWorker): void {
    worker.postMessage(message);
  }
}

/**
 * A worker thread running study-worker. From the TypeScript sources (tests, tsx) the worker registers tsx's
 * loader first — Node 20 does not pass a thread's module hooks on to workers; the built package runs the
 * compiled .js worker directly.
 */
function spawnWorker(): Worker {
  const here = import.meta.url;
  if (!here.endsWith('.ts')) return new Worker(new URL('./study-worker.js', here));
  const workerUrl = new URL('./study-worker.ts', here).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  return new Worker(`import(${JSON.stringify(tsx)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerUrl)}); })`, { eval: true });
}

/** The setup with its data sets in SharedArrayBuffers, so every worker reads one copy. */
function shareSetup(setup: StudySetup): StudySetup {
  const plan = setup.plan === null || setup.plan.external === null ? setup.plan : { ...setup.plan, external: shareDataset(setup.plan.external) };
  return { ...setup, train: shareDataset(setup.train), test: setup.test === null ? null : shareDataset(setup.test), plan };
}

function shareDataset(data: Dataset): Dataset {
  if (data.x.buffer instanceof SharedArrayBuffer && data.y.buffer instanceof SharedArrayBuffer) return data;
  const x = new Float32Array(new SharedArrayBuffer(data.x.byteLength));
  x.set(data.x);
  const y = new Uint8Array(new SharedArrayBuffer(data.y.byteLength));
  y.set(data.y);
  return { ...data, x, y };
}

/** The error a task threw in a worker, as the same error class here, naming the run. */
function taskError(task: StudyTask, error: { name: string; code?: string; message: string }): Error {
  const message = `${task.label}: ${error.message}`;
  const classes: Record<string, new (message: string) => Error> = { ConfigError, NonFiniteError, ShapeError, LabelError, StateError, DataFormatError, UnsupportedError };
  const known = classes[error.name];
  if (known !== undefined) return new known(message);
  if (error.code !== undefined) return new SparsegradError(error.code, message);
  return new StudyWorkerError(`${message} (${error.name} in a study worker)`);
}
