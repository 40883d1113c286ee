/**
 * A small calibrated timer for measurements inside CLI runs (the bench/ suites use benchmark.js; the
 * library's runtime has no dependencies). The inner loop is doubled until one sample takes `minMs`, then
 * the median of `samples` samples is returned, which is robust to the occasional GC pause or JIT hiccup.
 */
export function medianSecondsPerCall(fn: () => void, options: { minMs?: number; samples?: number } = {}): number {
  const minMs = options.minMs ?? 40;
  const samples = options.samples ?? 7;
  for (let i = 0; i < 3; i++) fn(); // warm up: let the JIT compile the hot path first
  let iterations = 1;
  for (;;) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (ms >= minMs || iterations >= 1 << 24) break;
    iterations *= ms < minMs / 8 ? 8 : 2;
  }
  const times: number[] = [];
  for (let s = 0; s < samples; s++) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    times.push(Number(process.hrtime.bigint() - started) / 1e9 / iterations);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}
