/**
 * A timer for A/B probes on a shared machine: CPU time of this process (user + system) per call, which leaves
 * out the time the process waited for a core. Cache and memory-bandwidth effects of other processes remain.
 */
export function cpuMicros(fn: () => void, minMs = 5): number {
  let n = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) fn();
    if (performance.now() - t0 >= minMs / 4) break;
    n *= 2;
  }
  n *= 4;
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}
