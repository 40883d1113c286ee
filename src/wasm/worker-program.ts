/*
 * What every worker thread runs, and the shared control block through which the calling thread hands it
 * work. The program is JavaScript source (a worker is started from source, in Node and in browsers alike,
 * and must not depend on how this library was bundled); a ThreadHost prepends a few lines that define
 * `host` for its platform (thread-host.ts).
 *
 * The control block is an Int32Array over a SharedArrayBuffer:
 *   SIGNAL    bumped by the caller after every change a sleeping worker must see (a job, a message, stop);
 *             idle workers sleep in Atomics.wait on it
 *   JOB       the current job's number; its low 23 bits are the job's tag
 *   CLAIM     tag << 8 | the next unclaimed chunk: threads claim chunks with compare-and-swap, so a thread
 *             that wakes late can never take a chunk of a newer job for the job it saw
 *   DONE      chunks finished (by any thread, also when they failed)
 *   CONTEXT   which instance of which memory the job runs on (see thread-pool.ts, attach)
 *   PROGRAM   the byte address of the job's KernelProgram in that memory; CHUNKS its chunk count
 *   ERROR     0, or 1 + the index of the first worker that failed (its message is in the text area)
 *   STOP      1 once the pool closes; SPIN_US how long an idle worker polls before it sleeps
 *   WORKER_CHUNKS   chunks run by workers since the pool started (a statistic: do the workers take part?)
 *   READY     chunks whose inputs are in place: a chunk at or past it is not claimed yet (the caller may feed
 *             a job's inputs chunk by chunk after publishing it, so the workers start on the first ones)
 * and per worker w, at WORKER_BASE + WORKER_SLOTS·w:
 *   STATE     STARTING, READY or DEAD (set by the worker's exit hook, or by the pool)
 *   HOLDING   1 + the chunk it is running, or 0
 *   ATTACHED  the highest context it has instantiated
 *   MAILBOX   messages posted to it: while it has handled fewer, it returns to its event loop to get them
 * then a Uint16 text area (length, characters) for the first error's message.
 */

/** Indices of the pool-wide slots of the control block (see above). */
export const SLOT = { SIGNAL: 0, JOB: 1, CLAIM: 2, DONE: 3, CONTEXT: 4, PROGRAM: 5, CHUNKS: 6, ERROR: 7, STOP: 8, SPIN_US: 9, WORKER_CHUNKS: 10, READY: 11 } as const;
/** Where the per-worker slots start, and how many each worker has. */
export const WORKER_BASE = 16;
export const WORKER_SLOTS = 4;
/** Offsets of a worker's slots from WORKER_BASE + WORKER_SLOTS·w. */
export const WORKER_SLOT = { STATE: 0, HOLDING: 1, ATTACHED: 2, MAILBOX: 3 } as const;
/** Values of a worker's STATE slot. */
export const STATE = { STARTING: 0, READY: 1, DEAD: 2 } as const;
/** Most chunks in one job (8 bits of CLAIM). */
export const MAX_CHUNKS = 255;
/** The job tag's bits in CLAIM (23, so CLAIM stays a positive int32). */
export const TAG_MASK = 0x7fffff;
/** Characters kept of an error message. */
export const TEXT_CHARS = 1000;

/** Bytes of the control block for `workers` workers, and where its text area starts. */
export function controlLayout(workers: number): { bytes: number; textOffset: number } {
  const textOffset = 4 * (WORKER_BASE + WORKER_SLOTS * workers);
  return { bytes: textOffset + 2 * (TEXT_CHARS + 1), textOffset };
}

/** The messages a worker understands. */
export type WorkerMessage =
  | { type: 'init'; control: SharedArrayBuffer; index: number; textOffset: number }
  | { type: 'attach'; context: number; module: object; memory: object; names: string[] }
  | { type: 'detach'; context: number };

const w = (slot: number): string => `WORKER_BASE + WORKER_SLOTS * index + ${slot}`;

/**
 * The worker's source, without the host prelude. `host.listen(fn)` must call fn with each message's data;
 * `host.atExit(fn)` must run fn if the thread exits (Node: process 'exit'; browsers have no such hook).
 */
export const WORKER_PROGRAM = `'use strict';
const WORKER_BASE = ${WORKER_BASE}, WORKER_SLOTS = ${WORKER_SLOTS};
let control = null, text = null, index = -1, handled = 0, seenJob = 0, lastWork = 0;
const contexts = new Map();
const args = [];

function fail(error) {
  if (Atomics.compareExchange(control, ${SLOT.ERROR}, 0, index + 1) !== 0) return;
  const message = String(error instanceof Error ? error.name + ': ' + error.message : error).slice(0, ${TEXT_CHARS});
  for (let i = 0; i < message.length; i++) text[1 + i] = message.charCodeAt(i);
  text[0] = message.length;
}

function runChunk(context, base, chunk) {
  let words = context.words;
  if (words.length < base + 3 + chunk) words = context.words = new Float64Array(context.memory.buffer);
  const end = base + words[base + 2 + chunk];
  if (words.length < end) words = context.words = new Float64Array(context.memory.buffer);
  for (let at = base + words[base + 1 + chunk]; at < end;) {
    const count = words[at + 1];
    args.length = count;
    for (let i = 0; i < count; i++) args[i] = words[at + 2 + i];
    Reflect.apply(context.functions[words[at]], undefined, args);
    at += 2 + count;
  }
}

function work(job) {
  const context = contexts.get(Atomics.load(control, ${SLOT.CONTEXT}));
  if (context === undefined) return; // not attached (yet): the other threads run the job
  const tag = job & ${TAG_MASK};
  const base = Atomics.load(control, ${SLOT.PROGRAM}) / 8;
  const chunks = Atomics.load(control, ${SLOT.CHUNKS});
  for (;;) {
    const claim = Atomics.load(control, ${SLOT.CLAIM});
    if (claim >>> 8 !== tag || (claim & 255) >= chunks) return;
    if ((claim & 255) >= Atomics.load(control, ${SLOT.READY})) continue; // its inputs are being fed: poll
    if (Atomics.compareExchange(control, ${SLOT.CLAIM}, claim, claim + 1) !== claim) continue;
    const chunk = claim & 255;
    Atomics.store(control, ${w(WORKER_SLOT.HOLDING)}, chunk + 1);
    try {
      runChunk(context, base, chunk);
    } catch (error) {
      fail(error);
    }
    Atomics.store(control, ${w(WORKER_SLOT.HOLDING)}, 0);
    Atomics.add(control, ${SLOT.WORKER_CHUNKS}, 1);
    Atomics.add(control, ${SLOT.DONE}, 1);
    Atomics.notify(control, ${SLOT.DONE});
  }
}

// The job loop. It returns to the event loop only to receive messages (and when the pool stops).
function serve() {
  for (;;) {
    const signal = Atomics.load(control, ${SLOT.SIGNAL});
    if (Atomics.load(control, ${SLOT.STOP}) !== 0) return;
    if (handled < Atomics.load(control, ${w(WORKER_SLOT.MAILBOX)})) return;
    const job = Atomics.load(control, ${SLOT.JOB});
    if (job !== seenJob) {
      seenJob = job;
      work(job);
      lastWork = performance.now();
      continue;
    }
    if (performance.now() - lastWork < Atomics.load(control, ${SLOT.SPIN_US}) / 1000) continue;
    Atomics.wait(control, ${SLOT.SIGNAL}, signal);
  }
}

host.listen((message) => {
  if (message.type === 'init') {
    control = new Int32Array(message.control, 0, message.textOffset / 4);
    text = new Uint16Array(message.control, message.textOffset, ${TEXT_CHARS + 1});
    index = message.index;
    seenJob = Atomics.load(control, ${SLOT.JOB});
    host.atExit(() => {
      Atomics.store(control, ${w(WORKER_SLOT.STATE)}, ${STATE.DEAD});
      Atomics.notify(control, ${SLOT.DONE});
      Atomics.notify(control, ${w(WORKER_SLOT.STATE)});
    });
    Atomics.store(control, ${w(WORKER_SLOT.STATE)}, ${STATE.READY});
    Atomics.notify(control, ${w(WORKER_SLOT.STATE)});
  } else if (message.type === 'attach') {
    try {
      const instance = new WebAssembly.Instance(message.module, { env: { memory: message.memory } });
      const functions = message.names.map((name) => instance.exports[name]);
      contexts.set(message.context, { memory: message.memory, functions, words: new Float64Array(message.memory.buffer) });
    } catch (error) {
      fail(error);
    }
    Atomics.store(control, ${w(WORKER_SLOT.ATTACHED)}, message.context);
    Atomics.notify(control, ${w(WORKER_SLOT.ATTACHED)});
  } else if (message.type === 'detach') {
    contexts.delete(message.context);
  }
  handled++;
  serve();
});
`;
