/**
 * How much of a second core does this machine give? The ceiling for every two-thread target.
 *
 *   npx tsx experiments/two-core-probe.ts [--seconds S] [--rounds R] [--kinds peak,stream,train]
 *
 * Runs the same work in one process, then in two processes started together, and compares the summed
 * throughput. Three kinds of work: the f32x4 multiply-add peak loop of `bench gemm` (registers only: what
 * the GEMM is bound by), a streaming sum over 64 MiB (memory bound), and training itself — one-thread SIMD
 * epochs of LeNet-300-100 on the built-in digits (batch 64, Adam), in samples per second: what two threads
 * of one training run could get at best if nothing in the library cost anything. Processes, not threads, so nothing
 * in the library's thread pool (hand-off, chunking) is part of the measurement: the ratio is what two
 * perfectly independent workers get. R rounds (default 5) alternate one and two processes; the report is
 * the median of the per-round ratios with their min–max.
 */
import { spawn } from 'node:child_process';
import { assembleModule } from '../src/wasm/assembler.ts';
import { wasmApi } from '../src/wasm/runtime.ts';
import { peakLoop } from '../bench/gemm.ts';
import { Adam, fit, mlp } from '../src/nn/index.ts';
import { loadDigits } from '../src/node/data.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 3);

/** Work units per second of `kind` for SECONDS, in this process. */
function rate(kind: string): number {
  if (kind === 'peak') {
    const api = wasmApi()!;
    const memory = new api.Memory({ initial: 1 });
    const peak = new api.Instance(new api.Module(assembleModule([peakLoop(10)], 1)), { env: { memory } }).exports.peak10 as (n: number, a: number) => void;
    new Float32Array(memory.buffer).fill(1e-3, 0, 12).fill(0.999, 4, 8);
    return loop(() => peak(1_000_000, 0), 8 * 10 * 1_000_000 / 1e9); // GFLOP per call
  }
  if (kind === 'train') {
    const train = loadDigits().train;
    return loop(() => {
      const model = mlp([784, 300, 100, 10], { seed: 0 });
      fit(model, train, { epochs: 1, batchSize: 64, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0, backend: 'wasm-simd', threads: 1 });
    }, train.count); // samples per call
  }
  const data = new Float64Array(8 << 20).fill(1); // 64 MiB
  let sink = 0;
  const r = loop(() => { let s = 0; for (let i = 0; i < data.length; i++) s += data[i]!; sink += s; }, data.byteLength / 2 ** 30); // GiB per call
  return sink > 0 ? r : 0;
}

function loop(call: () => void, unitsPerCall: number): number {
  for (let i = 0; i < 3; i++) call(); // warm up the compiler
  const start = performance.now();
  let calls = 0;
  while (performance.now() - start < SECONDS * 1000) { call(); calls++; }
  return (calls * unitsPerCall) / ((performance.now() - start) / 1000);
}

function child(kind: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--child', kind, '--seconds', String(SECONDS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    p.on('exit', (code) => (code === 0 ? resolve(Number(out)) : reject(new Error(`child exited with ${code}`))));
  });
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };

async function main(): Promise<void> {
  const childKind = args.indexOf('--child');
  if (childKind >= 0) { process.stdout.write(String(rate(args[childKind + 1]!))); return; }
  const kinds = args.includes('--kinds') ? args[args.indexOf('--kinds') + 1]!.split(',') : ['peak', 'stream', 'train'];
  for (const kind of kinds) {
    const ratios: number[] = [];
    const singles: number[] = [];
    for (let round = 0; round < arg('rounds', 5); round++) {
      const one = await child(kind);
      const two = await Promise.all([child(kind), child(kind)]);
      singles.push(one);
      ratios.push((two[0]! + two[1]!) / one);
      console.error(`${kind} round ${round + 1}: one process ${one.toFixed(2)}, two ${two.map((x) => x.toFixed(2)).join(' + ')} → ${ratios.at(-1)!.toFixed(2)}×`);
    }
    const unit = { peak: 'f32x4 multiply-add (GFLOP/s)', stream: 'streaming sum (GiB/s)', train: 'one-thread training (samples/s)' }[kind] ?? kind;
    console.log(`${unit}: one process ${median(singles).toFixed(2)}; two processes together ${median(ratios).toFixed(2)}× (min–max ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
