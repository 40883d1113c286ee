/**
 * Shared benchmark plumbing: timing through benchmark.js, machine facts, and the table/JSON output every
 * suite prints. Suites live next to this file (bench/<suite>.ts) and export `run(options)`.
 */
import Benchmark from 'benchmark';
import os from 'node:os';

export interface BenchOptions {
  /** Print one JSON object as the last stdout line; human text goes to stderr. */
  json: boolean;
  /** Smaller sizes and shorter timings, to check that a suite still works (not for quoting numbers). */
  quick: boolean;
  /** Seconds benchmark.js may spend on one measurement. */
  maxTime: number;
  /** Threads of the threaded rows (`--threads N`, default: one per core). */
  threads: number;
  /** Free-form suite arguments after the suite name. */
  args: string[];
}

export interface Timing {
  name: string;
  /** Mean seconds per call, as benchmark.js estimates it. */
  seconds: number;
  /** Relative margin of error of the mean, in percent. */
  rme: number;
  /** Number of samples benchmark.js took. */
  samples: number;
}

/** Keeps results alive so the JIT cannot drop the work being timed. */
export let blackhole = 0;
export function consume(x: ArrayLike<number>): void {
  blackhole += x[0] ?? 0;
}

/**
 * Times `fn` with benchmark.js (synchronously): calibrated inner loops, samples until `maxTime`, mean and
 * relative margin of error.
 */
export function measure(name: string, fn: () => void, options: { maxTime?: number; minSamples?: number; minTime?: number } = {}): Timing {
  const bench = new Benchmark(name, fn, {
    maxTime: options.maxTime ?? 1,
    minSamples: options.minSamples ?? 5,
    ...(options.minTime === undefined ? {} : { minTime: options.minTime }),
    initCount: 1,
  });
  bench.run({ async: false });
  const error = (bench as unknown as { error?: unknown }).error;
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return { name, seconds: bench.stats.mean, rme: bench.stats.rme, samples: bench.stats.sample.length };
}

export function machineInfo(): Record<string, string | number> {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    platform: `${os.platform()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/** Writes progress or human-readable text: to stderr in JSON mode so stdout stays machine-readable. */
export function say(options: BenchOptions, text: string): void {
  (options.json ? process.stderr : process.stdout).write(text + '\n');
}

/** A fixed-width text table of `rows` for the given columns. */
export function formatTable(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const cell = (v: unknown): string => {
    if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toPrecision(4);
    return v === undefined || v === null ? '' : String(v);
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]): string => values.map((v, i) => v.padStart(widths[i]!)).join('  ');
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
