import { ThreadError } from '../errors.ts';
import { runChunk } from './kernel-program.ts';
import type { WasmMemory } from './runtime.ts';
import type { ThreadHost, ThreadWorker } from './thread-host.ts';
import { controlLayout, MAX_CHUNKS, SLOT, STATE, TAG_MASK, TEXT_CHARS, WORKER_BASE, WORKER_PROGRAM, WORKER_SLOT, WORKER_SLOTS, type WorkerMessage } from './worker-program.ts';

/*
 * A pool of worker threads that run KernelProgram chunks (kernel-program.ts) on WebAssembly instances that
 * share one memory with the calling thread. The protocol is in worker-program.ts; in short:
 *
 *   attach   each worker instantiates the same compiled module on the same shared memory (a "context");
 *   run      the caller publishes a job (context, program, chunk count) and wakes the workers; every thread,
 *            the caller included, claims chunks one at a time until none is left, then the caller waits
 *            until all are done. A worker that is slow to wake simply gets fewer chunks: the caller never
 *            sits idle, and which thread runs a chunk never changes its result.
 *
 * Failures end the job with a ThreadError, never a hang: a chunk that throws in a worker (a kernel trap) is
 * reported after the job; a worker that exits while holding a chunk, or makes no progress for the stall
 * limit, closes the pool (its results are incomplete, and a late worker must not touch the next job).
 *
 * The caller blocks in Atomics.wait where the host allows it (Node), else polls (a browser's main thread).
 */

/** Settings of a pool; the defaults suit training steps and inference batches of ~0.1–10 ms. */
export interface PoolOptions {
  /**
   * How long (µs) an idle worker keeps polling for the next job before it sleeps (and the caller for the
   * last chunk of a job); default 200, which outlasts the serial stretches between a training step's jobs
   * (~50–90 µs for LeNet-300-100), so the workers do not sleep within a step.
   */
  readonly spinMicros?: number;
  /** ms without any finished chunk after which a job counts as lost (at least 20× the caller's own chunk time); default 10 000. */
  readonly stallMs?: number;
  /** ms to wait for workers to start and to instantiate a module, where the caller may wait; default 10 000. */
  readonly startMs?: number;
}

/** What a job may ask of the caller besides its share of the chunks (WorkerPool.run). */
export interface RunOptions {
  /**
   * Writes chunk `chunk`'s inputs into the memory. The job is published first and `feed` is called for each
   * chunk in order; no thread runs a chunk before its feed returned, so the workers start on chunk 0 while the
   * caller still writes the others'. A feed that throws ends the job (its error is rethrown).
   */
  readonly feed?: (chunk: number) => void;
  /**
   * Work of the caller's own that does not touch the job's memory (a training step gathers its next batch
   * here): done after the feeds, before the caller claims any chunk, while the workers run the first ones.
   * Throwing ends the job like a feed.
   */
  readonly callerWork?: () => void;
}

/** A module instantiated on a shared memory in every worker of a pool (and in the caller: `functions`). */
export interface ThreadContext {
  readonly pool: WorkerPool;
  readonly id: number;
  readonly memory: WasmMemory;
  /** The caller's instance's exported functions, in the order of the names given to attach. */
  readonly functions: readonly ((...args: number[]) => void)[];
}

const SLICE_MS = 20;

/**
 * The default poll before sleeping. Measured on LeNet-300-100 training (`npx tsx
 * experiments/threads-train-probe.ts --spin-us 50,200`, interleaved on one warm pool): two threads gave
 * 1.41–1.60× one thread with 50 µs and 1.62–1.70× with 200 µs in four runs (docs/benchmarks.md, "Threads").
 */
const DEFAULT_SPIN_MICROS = 200;

function now(): number {
  const clock = (globalThis as { performance?: { now(): number } }).performance;
  return clock === undefined ? Date.now() : clock.now();
}

/** Worker threads sharing WebAssembly memories with the calling thread; see the comment at the top. */
export class WorkerPool {
  private readonly control: Int32Array;
  private readonly text: Uint16Array;
  private readonly workers: ThreadWorker[] = [];
  private readonly exitReasons: (string | null)[] = [];
  private spinMicros: number;
  private readonly stallMs: number;
  private readonly startMs: number;
  private job = 0;
  private nextContext = 1;
  private isClosed = false;
  /** Tells the workers to drop an instance once the object that owned it (an inference model) is gone. */
  private readonly detacher = new FinalizationRegistry<number>((context) => this.broadcast({ type: 'detach', context }));

  /** Starts `workerCount` workers on `host`. Throws ThreadError if they do not start (where the caller may wait). */
  constructor(private readonly host: ThreadHost, workerCount: number, options: PoolOptions = {}) {
    if (!Number.isSafeInteger(workerCount) || workerCount < 1 || workerCount >= MAX_CHUNKS) throw new RangeError(`WorkerPool: ${workerCount} workers (expected 1 to ${MAX_CHUNKS - 1})`);
    this.spinMicros = options.spinMicros ?? DEFAULT_SPIN_MICROS;
    this.stallMs = options.stallMs ?? 10_000;
    this.startMs = options.startMs ?? 10_000;
    const { bytes, textOffset } = controlLayout(workerCount);
    const buffer = new SharedArrayBuffer(bytes);
    this.control = new Int32Array(buffer, 0, textOffset / 4);
    this.text = new Uint16Array(buffer, textOffset, TEXT_CHARS + 1);
    Atomics.store(this.control, SLOT.SPIN_US, this.spinMicros);
    for (let index = 0; index < workerCount; index++) {
      let worker: ThreadWorker;
      try {
        worker = host.spawn(WORKER_PROGRAM);
      } catch (error) {
        this.close();
        throw new ThreadError(`${host.name}: could not start a worker thread (${error instanceof Error ? error.message : String(error)})`);
      }
      this.workers.push(worker);
      this.exitReasons.push(null);
      worker.onExit((reason) => this.markDead(index, reason));
      this.post(index, { type: 'init', control: buffer, index, textOffset });
    }
    if (!this.waitUntil(() => this.workers.every((_, w) => this.state(w) !== STATE.STARTING), this.startMs)) {
      this.close();
      throw new ThreadError(`${host.name}: the worker threads did not start within ${this.startMs / 1000} s`);
    }
  }

  /** Threads a job can run on: the caller and every live worker. */
  get threads(): number {
    return 1 + this.workers.filter((_, w) => this.state(w) !== STATE.DEAD).length;
  }

  /** Chunks the workers (not the caller) have run since the pool started: whether they take part. */
  get workerChunks(): number {
    return Atomics.load(this.control, SLOT.WORKER_CHUNKS);
  }

  /** True after close() (also when a lost job closed the pool). */
  get closed(): boolean {
    return this.isClosed;
  }

  /**
   * Instantiates `module` (compiled for a shared memory import, env.memory) on `memory` in every worker.
   * `names` are the exported functions programs call, `functions` the caller's own instance's ones in the
   * same order. When `owner` is collected, the workers drop their instances. Throws ThreadError when a worker
   * cannot instantiate the module, or (where the caller may wait) does not do so in time.
   */
  attach(module: object, memory: WasmMemory, names: readonly string[], functions: ThreadContext['functions'], owner?: object): ThreadContext {
    this.checkOpen();
    const id = this.nextContext++;
    this.broadcast({ type: 'attach', context: id, module, memory, names: [...names] });
    const attached = (w: number): boolean => this.state(w) === STATE.DEAD || Atomics.load(this.control, this.slot(w, WORKER_SLOT.ATTACHED)) >= id;
    if (!this.waitUntil(() => this.workers.every((_, w) => attached(w)), this.startMs)) {
      this.close();
      throw new ThreadError(`${this.host.name}: the worker threads did not instantiate the kernels within ${this.startMs / 1000} s`);
    }
    this.throwWorkerError('could not instantiate the kernels');
    if (owner !== undefined) this.detacher.register(owner, id);
    return { pool: this, id, memory, functions };
  }

  /**
   * Runs the `chunks` chunks of the KernelProgram at byte address `program` of the context's memory on the
   * caller and the workers, and returns when all are done (see RunOptions for `feed` and `callerWork`).
   * Throws what the caller's own chunk, feed or work threw, or ThreadError when a worker's chunk threw, a
   * worker exited mid-job or the job stalled (see the top).
   */
  run(context: ThreadContext, program: number, chunks: number, options: RunOptions = {}): void {
    const { feed, callerWork } = options;
    this.checkOpen();
    if (context.pool !== this) throw new RangeError('WorkerPool.run: the context belongs to another pool');
    if (!Number.isSafeInteger(chunks) || chunks < 1 || chunks > MAX_CHUNKS) throw new RangeError(`WorkerPool.run: ${chunks} chunks (expected 1 to ${MAX_CHUNKS})`);
    const c = this.control;
    this.job = (this.job + 1) & 0x7fffffff;
    const tag = this.job & TAG_MASK;
    Atomics.store(c, SLOT.DONE, 0);
    Atomics.store(c, SLOT.ERROR, 0);
    Atomics.store(c, SLOT.CONTEXT, context.id);
    Atomics.store(c, SLOT.PROGRAM, program);
    Atomics.store(c, SLOT.CHUNKS, chunks);
    Atomics.store(c, SLOT.READY, feed === undefined ? chunks : 0);
    Atomics.store(c, SLOT.CLAIM, tag << 8);
    Atomics.store(c, SLOT.JOB, this.job);
    this.wake();

    // Inputs fed chunk by chunk: the workers start on chunk 0 while the caller still writes the others'.
    // Then the caller's own work, while the workers claim the first chunks.
    try {
      if (feed !== undefined) {
        for (let chunk = 0; chunk < chunks; chunk++) {
          feed(chunk);
          Atomics.store(c, SLOT.READY, chunk + 1);
        }
      }
      callerWork?.();
    } catch (error) {
      this.awaitChunks(this.closeClaims(tag, chunks), 0);
      throw error;
    }

    // The caller's share: claim chunks like any worker.
    const words = new Float64Array(context.memory.buffer);
    let failure: { error: unknown } | null = null;
    let ownMs = 0;
    let claimed = chunks;
    for (;;) {
      const claim = Atomics.load(c, SLOT.CLAIM);
      const chunk = claim & 255;
      if (chunk >= chunks) break;
      if (Atomics.compareExchange(c, SLOT.CLAIM, claim, claim + 1) !== claim) continue;
      const started = now();
      try {
        runChunk(context.functions, words, program / 8, chunk);
      } catch (error) {
        failure = { error };
      }
      ownMs = Math.max(ownMs, now() - started);
      Atomics.add(c, SLOT.DONE, 1);
      if (failure !== null) {
        claimed = this.closeClaims(tag, chunks);
        break;
      }
    }
    this.awaitChunks(claimed, ownMs);
    if (failure !== null) throw failure.error;
    this.throwWorkerError('failed during a job');
  }

  /** Changes the poll before sleeping (PoolOptions.spinMicros) on a running pool: for probes that compare polls on warm workers. */
  setSpinMicros(micros: number): void {
    if (!(Number.isSafeInteger(micros) && micros >= 0)) throw new RangeError(`WorkerPool.setSpinMicros: ${micros} µs (expected a non-negative integer)`);
    this.spinMicros = micros;
    Atomics.store(this.control, SLOT.SPIN_US, micros);
  }

  /** Stops every worker (idempotent). Contexts of this pool cannot run jobs afterwards. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    Atomics.store(this.control, SLOT.STOP, 1);
    this.wake();
    this.workers.forEach((worker, w) => {
      Atomics.store(this.control, this.slot(w, WORKER_SLOT.STATE), STATE.DEAD);
      worker.terminate();
    });
  }

  private slot(worker: number, slot: number): number {
    return WORKER_BASE + WORKER_SLOTS * worker + slot;
  }

  private state(worker: number): number {
    return Atomics.load(this.control, this.slot(worker, WORKER_SLOT.STATE));
  }

  private checkOpen(): void {
    if (this.isClosed) throw new ThreadError(`${this.host.name}: the thread pool is closed`);
  }

  private wake(): void {
    Atomics.add(this.control, SLOT.SIGNAL, 1);
    Atomics.notify(this.control, SLOT.SIGNAL);
  }

  /** Posts a message to worker w and counts it in its mailbox, so the worker leaves its job loop to read it. */
  private post(worker: number, message: WorkerMessage): void {
    this.workers[worker]!.postMessage(message);
    Atomics.add(this.control, this.slot(worker, WORKER_SLOT.MAILBOX), 1);
  }

  private broadcast(message: WorkerMessage): void {
    if (this.isClosed) return;
    this.workers.forEach((_, w) => {
      if (this.state(w) !== STATE.DEAD) this.post(w, message);
    });
    this.wake();
  }

  private markDead(worker: number, reason: string): void {
    this.exitReasons[worker] ??= reason;
    Atomics.store(this.control, this.slot(worker, WORKER_SLOT.STATE), STATE.DEAD);
    Atomics.notify(this.control, SLOT.DONE);
  }

  /** Ends the claiming of a job early; returns how many chunks were claimed (and so will be counted done). */
  private closeClaims(tag: number, chunks: number): number {
    for (;;) {
      const claim = Atomics.load(this.control, SLOT.CLAIM);
      if (Atomics.compareExchange(this.control, SLOT.CLAIM, claim, (tag << 8) | 255) === claim) return Math.min(claim & 255, chunks);
    }
  }

  /**
   * Waits until `expected` chunks are done. A worker that died holding a chunk, or no progress for the stall
   * limit, closes the pool and throws ThreadError.
   */
  private awaitChunks(expected: number, ownMs: number): void {
    const c = this.control;
    const stallMs = Math.max(this.stallMs, 20 * ownMs);
    const spinUntil = now() + this.spinMicros / 1000;
    let done = Atomics.load(c, SLOT.DONE);
    let progressAt = now();
    while (done < expected) {
      if (now() < spinUntil) {
        done = Atomics.load(c, SLOT.DONE);
        continue;
      }
      this.pause(SLOT.DONE, done, SLICE_MS);
      const next = Atomics.load(c, SLOT.DONE);
      if (next !== done) {
        done = next;
        progressAt = now();
        continue;
      }
      const lost = this.workers.findIndex((_, w) => this.state(w) === STATE.DEAD && Atomics.load(c, this.slot(w, WORKER_SLOT.HOLDING)) !== 0);
      if (lost >= 0) {
        const reason = this.exitReasons[lost] ?? 'it exited';
        this.close();
        throw new ThreadError(`${this.host.name}: worker ${lost + 1} of ${this.workers.length} stopped during a job (${reason}); the job's results are incomplete and the threads were stopped`);
      }
      if (now() - progressAt > stallMs) {
        const holders = this.workers.map((_, w) => w).filter((w) => Atomics.load(c, this.slot(w, WORKER_SLOT.HOLDING)) !== 0).map((w) => w + 1);
        this.close();
        throw new ThreadError(`${this.host.name}: worker ${holders.join(', ') || '?'} did not finish its part of a job within ${(stallMs / 1000).toFixed(1)} s; the threads were stopped`);
      }
    }
  }

  /** Blocks (or polls, where the caller may not block) until control[slot] ≠ value or `ms` pass. */
  private pause(slot: number, value: number, ms: number): void {
    if (this.host.callerMayWait) {
      Atomics.wait(this.control, slot, value, ms);
      return;
    }
    const until = now() + ms;
    while (Atomics.load(this.control, slot) === value && now() < until) {
      // a browser's main thread may not block: poll
    }
  }

  /** Waits (where the caller may) until `condition` holds or `ms` pass; returns whether it holds. Polls only briefly elsewhere. */
  private waitUntil(condition: () => boolean, ms: number): boolean {
    if (!this.host.callerMayWait) return true; // workers join as they come up; jobs run on whoever is ready
    const deadline = now() + ms;
    while (!condition()) {
      if (now() > deadline) return false;
      Atomics.wait(this.control, SLOT.SIGNAL, Atomics.load(this.control, SLOT.SIGNAL), 1);
    }
    return true;
  }

  /** Throws ThreadError with the first worker error of the last job or attach, if there was one (and clears it). */
  private throwWorkerError(what: string): void {
    const failed = Atomics.load(this.control, SLOT.ERROR);
    if (failed === 0) return;
    const length = Math.min(this.text[0]!, TEXT_CHARS);
    const message = String.fromCharCode(...this.text.subarray(1, 1 + length));
    Atomics.store(this.control, SLOT.ERROR, 0);
    throw new ThreadError(`${this.host.name}: worker ${failed} of ${this.workers.length} ${what}: ${message}`);
  }
}
