import type { Dataset } from '../data/dataset.ts';
import { allocateOverwritten, Tensor } from '../tensor/tensor.ts';
import { dropCallerWork, offerCallerWork, runCallerWork } from '../tensor/wasm/parallel.ts';

/*
 * The mini-batches of a training run, gathered into two buffers in turn so that the next batch can be
 * gathered while the current step still runs. Gathering copies `batchSize` random rows out of the whole
 * training set (for Fashion-MNIST 188 MB, so the rows come from memory, not cache): it was most of the
 * 105–110 µs the caller spent alone between two steps of LeNet-300-100 on two threads, while the worker
 * waited (`npx tsx experiments/threads-train-probe.ts --per-job`; ~20 µs since).
 *
 * So `prefetch(b + 1)` offers the gather of the next batch as caller work (tensor/wasm/parallel.ts): the
 * optimizer update that follows is cut into more shares, the workers start on them while the caller
 * gathers, and all threads share the rest. On one thread nothing takes the offer and the batch is gathered
 * when it is asked for, as before. Either way a batch holds the same rows: the order is fixed for the epoch.
 */

/** One mini-batch: inputs [rows, features] and their labels. */
export interface Batch {
  readonly x: Tensor;
  readonly y: Uint8Array;
}

/** Copies the samples order[start..end) into `x` (row by row) and `y`. */
export function gatherRows(data: Dataset, order: Int32Array, start: number, end: number, x: Float32Array, y: Uint8Array): void {
  const f = data.features;
  for (let i = 0; i < end - start; i++) {
    const row = order[start + i]!;
    x.set(data.x.subarray(row * f, (row + 1) * f), i * f);
    y[i] = data.y[row]!;
  }
}

/** The samples order[start..end) as a batch in fresh (or, during a SIMD step, scratch) memory. */
export function gatherBatch(data: Dataset, order: Int32Array, start: number, end: number): Batch {
  const n = end - start;
  const x = allocateOverwritten(n * data.features, 'float32') as Float32Array; // resident during a SIMD step
  const y = new Uint8Array(n);
  gatherRows(data, order, start, end, x, y);
  return { x: new Tensor(x, [n, data.features]), y };
}

/**
 * The batches of one epoch after another, batch b in buffer b % 2. A batch's tensors stay valid until the
 * step after the next one gathers into its buffer (the next step's update, or its start on one thread).
 */
export class BatchPrefetcher {
  private readonly inputs: [Float32Array, Float32Array];
  private readonly labels: [Uint8Array, Uint8Array];
  /** The epoch's batch index each buffer holds, or -1. */
  private readonly holds = [-1, -1];

  /** `allocate(length)` gives a buffer that lasts the run (in the SIMD kernels' memory when training there). */
  constructor(private readonly data: Dataset, private readonly order: Int32Array, private readonly batchSize: number, allocate: (length: number) => Float32Array) {
    const rows = Math.min(batchSize, data.count);
    this.inputs = [allocate(rows * data.features), allocate(rows * data.features)];
    this.labels = [new Uint8Array(rows), new Uint8Array(rows)];
  }

  private get batches(): number {
    return Math.ceil(this.data.count / this.batchSize);
  }

  /** Starts an epoch: `shuffle` reorders the samples, so nothing gathered before is a batch of it. */
  startEpoch(shuffle: (order: Int32Array) => void): void {
    dropCallerWork(); // prefetch never crosses an epoch; a gather with the old order must not land later
    shuffle(this.order);
    this.holds.fill(-1);
  }

  /** Batch `b` of the epoch: prefetched, or gathered now. */
  batch(b: number): Batch {
    runCallerWork();
    if (this.holds[b % 2] !== b) this.gather(b);
    const rows = Math.min(this.batchSize, this.data.count - b * this.batchSize);
    const slot = b % 2;
    return { x: new Tensor(this.inputs[slot]!.subarray(0, rows * this.data.features), [rows, this.data.features]), y: this.labels[slot]!.subarray(0, rows) };
  }

  /** Offers the gather of batch `b` (if the epoch has one) to the next call split over threads. */
  prefetch(b: number): void {
    if (b < this.batches) offerCallerWork(() => this.gather(b));
  }

  /** Ends the run: a gather not done yet must not run into buffers that are about to be freed. */
  close(): void {
    dropCallerWork();
  }

  private gather(b: number): void {
    const slot = b % 2;
    const start = b * this.batchSize;
    gatherRows(this.data, this.order, start, Math.min(start + this.batchSize, this.data.count), this.inputs[slot]!, this.labels[slot]!);
    this.holds[slot] = b;
  }
}
