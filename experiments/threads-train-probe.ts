/**
 * One thread against two on a training epoch, round by round: the probe behind the "Threads" notes in
 * docs/benchmarks.md (the good and bad rounds, the spin and garbage-collector experiments).
 *
 *   npx tsx experiments/threads-train-probe.ts [--rounds R] [--images N] [--spin-us S[,S2,…]] [--per-job]
 *   node --single-threaded-gc --import tsx experiments/threads-train-probe.ts …   (V8's GC on one thread)
 *
 * Each round trains a fresh LeNet-300-100 (seed 0, Adam 1e-3, batch 64) for one pass over the first N
 * Fashion-MNIST training images (default 20,000) on one thread, then on two, and prints both times and their
 * ratio; the median ratio ends the run. `--spin-us` sets how long an idle worker polls before it sleeps (the
 * pool's `spinMicros`, default the library's 200); with several values each round runs one two-thread epoch
 * per value, in a rotating order, on the same warm pool (a new pool's workers would start on unoptimised
 * code), and the run ends with one median per value. Each two-thread epoch also reports its jobs (kernel
 * programs handed to the pool), their chunks, how many of those the worker ran, and the share of the epoch
 * spent inside jobs — counted by wrapping WorkerPool.run here, for this probe only; with `--per-job`, the
 * time inside each of a step's 6 jobs (two large products forward, the small layer's, two backward, the
 * update) and the serial time on the caller before it, per step. Needs the Fashion-MNIST package (README, "Data").
 */
import { subset } from '../src/data/dataset.ts';
import { Adam, fit, mlp } from '../src/nn/index.ts';
import { FASHION_MNIST_DIR, loadIdxDirectory } from '../src/node/data.ts';
import { nodeThreadHost } from '../src/node/threads.ts';
import { closeThreads, setThreadHost, threadPool } from '../src/tensor/threads.ts';
import { WorkerPool } from '../src/wasm/thread-pool.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1]! : fallback;
};
const spins = arg('spin-us', '200').split(',').map(Number);
setThreadHost(nodeThreadHost);
const full = loadIdxDirectory(FASHION_MNIST_DIR, { name: 'fashion-mnist' }).train;
const data = subset(full, Int32Array.from({ length: Math.min(Number(arg('images', '20000')), full.count) }, (_, i) => i), 'fashion-mnist/first');

/** Jobs, chunks and milliseconds inside WorkerPool.run since the last reset. */
const jobs = { count: 0, chunks: 0, ms: 0 };
/** Per job of a step (the k-th job of every step): ms inside it, and ms on the caller alone since the job before. */
const JOBS_PER_STEP = 6;
const perJob = { inside: new Float64Array(JOBS_PER_STEP), gapBefore: new Float64Array(JOBS_PER_STEP), lastEnd: 0, inStep: 0, steps: 0 };
const run = WorkerPool.prototype.run;
WorkerPool.prototype.run = function (this: WorkerPool, ...args: Parameters<WorkerPool['run']>): void {
  const start = performance.now();
  run.apply(this, args);
  const end = performance.now();
  const k = Math.min(perJob.inStep++, JOBS_PER_STEP - 1);
  perJob.inside[k] = perJob.inside[k]! + end - start;
  if (jobs.count > 0) perJob.gapBefore[k] = perJob.gapBefore[k]! + start - perJob.lastEnd;
  perJob.lastEnd = end;
  jobs.count++;
  jobs.chunks += args[2];
  jobs.ms += end - start;
};

function seconds(threads: number): number {
  const model = mlp([784, 300, 100, 10], { seed: 0 });
  const start = performance.now();
  const onProgress = (): void => {
    perJob.inStep = 0; // a step ended: the next job is the first of the next step
    perJob.steps++;
  };
  fit(model, data, { epochs: 1, batchSize: 64, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0, backend: 'wasm-simd', threads, onProgress });
  return (performance.now() - start) / 1000;
}

seconds(1);
seconds(2); // warm up both paths
const pool = threadPool(2)!;
const ratios: number[][] = spins.map(() => []);
for (let round = 0; round < Number(arg('rounds', '5')); round++) {
  const one = seconds(1);
  for (let k = 0; k < spins.length; k++) {
    const which = (round + k) % spins.length; // rotating order: no value always runs right after the 1-thread epoch
    pool.setSpinMicros?.(spins[which]!); // absent before 2026-11-30 (the probe then runs on the pool default)
    Object.assign(jobs, { count: 0, chunks: 0, ms: 0 });
    perJob.inside.fill(0);
    perJob.gapBefore.fill(0);
    perJob.steps = 0;
    const workerBefore = pool.workerChunks;
    const two = seconds(2);
    ratios[which]!.push(one / two);
    const inside = `${jobs.count} jobs, ${jobs.chunks} chunks (${pool.workerChunks - workerBefore} on the worker), ${(100 * jobs.ms / 1000 / two).toFixed(0)} % of the epoch inside jobs`;
    console.log(`round ${round + 1}: 1 thread ${one.toFixed(3)} s, 2 threads (spin ${spins[which]} µs) ${two.toFixed(3)} s, ${(one / two).toFixed(2)}×; ${inside}`);
    if (args.includes('--per-job')) {
      const steps = perJob.steps;
      const us = (ms: number): string => ((1000 * ms) / steps).toFixed(0);
      console.log(`  per step, job k of ${JOBS_PER_STEP}: µs inside (µs on the caller alone before it): ${Array.from(perJob.inside, (ms, k) => `${k}: ${us(ms)} (${us(perJob.gapBefore[k]!)})`).join(', ')}`);
    }
  }
}
spins.forEach((spin, i) => {
  const sorted = [...ratios[i]!].sort((a, b) => a - b);
  console.log(`spin ${spin} µs: median ${sorted[sorted.length >> 1]!.toFixed(2)}× (min–max ${sorted[0]!.toFixed(2)}–${sorted.at(-1)!.toFixed(2)})`);
});
closeThreads();
