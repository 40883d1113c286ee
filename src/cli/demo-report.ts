import type { Report, ReportSection } from '../report/html.ts';
import { lineChart, type LineSeries } from '../report/svg-chart.ts';
import { compressionChart, type CompressionPoint } from '../report/compression-chart.ts';
import { DEMO_BATCHES, DEMO_METHODS, type DemoResult, type DemoRun, type LatencyRow } from './demo.ts';

/*
 * Turns the demo's results into the report: accuracy vs sparsity per method, inference speedup vs sparsity
 * next to the ideal 1/(1−s), latency and file sizes. Pure: the caller writes the HTML and the JSON.
 */

const pct = (x: number, digits = 2): string => `${(x * 100).toFixed(digits)}%`;

export function demoReport(result: DemoResult, meta: { date: string; command: string }): Report {
  const { dense, runs } = result;
  const byMethod = DEMO_METHODS.map((m) => ({ method: m, runs: runs.filter((r) => r.method === m.id).sort((a, b) => a.sparsity - b.sparsity) }));
  const best = [...runs].filter((r) => r.testAccuracy >= dense.testAccuracy - 0.01).sort((a, b) => b.sparsity - a.sparsity)[0];

  const accuracyChart = lineChart({
    title: 'Test accuracy vs sparsity',
    xLabel: 'sparsity (fraction of weights removed)',
    yLabel: 'test accuracy (%)',
    xScale: 'sparsity',
    series: byMethod.map(({ method, runs: rs }) => ({ name: method.label, points: rs.map((r) => [r.sparsity, r.testAccuracy * 100] as [number, number]) })),
    referenceLines: [{ y: dense.testAccuracy * 100, label: `dense ${pct(dense.testAccuracy)}` }],
  });

  // Speedup depends on the weights' sparsity, not on how they were pruned: one line per batch size, each
  // point the mean over the methods at that target sparsity, next to the ideal.
  const targets = [...new Set(runs.map((r) => r.targetSparsity))].sort((a, b) => a - b);
  const meanAt = (target: number, pick: (r: DemoRun) => number): [number, number] => {
    const rs = runs.filter((r) => r.targetSparsity === target);
    return [rs.reduce((a, r) => a + r.sparsity, 0) / rs.length, rs.reduce((a, r) => a + pick(r), 0) / rs.length];
  };
  const latencyOf = (r: DemoRun, batch: number): LatencyRow => r.latency.find((l) => l.batch === batch)!;
  const speedupSeries: LineSeries[] = DEMO_BATCHES.map((batch) => ({
    name: `measured, batch ${batch}`,
    points: targets.map((t) => meanAt(t, (r) => latencyOf(r, batch).speedup)),
  }));
  speedupSeries.push({ name: 'ideal 1/(1−s)', dashed: true, markers: false, points: targets.map((t) => [t, 1 / (1 - t)] as [number, number]) });
  const speedupChart = lineChart({
    title: 'Sparse vs dense inference: speedup',
    xLabel: 'sparsity',
    yLabel: 'speedup over the dense kernel (×)',
    xScale: 'sparsity',
    yScale: 'log',
    series: speedupSeries,
    referenceLines: [{ y: 1, label: 'as fast as dense' }],
  });
  const latencyChart = lineChart({
    title: 'Inference latency per call',
    xLabel: 'sparsity',
    yLabel: 'microseconds per call',
    xScale: 'sparsity',
    yScale: 'log',
    series: DEMO_BATCHES.flatMap((batch) => [
      { name: `sparse, batch ${batch}`, points: targets.map((t) => meanAt(t, (r) => latencyOf(r, batch).sparseUs)) },
      { name: `dense, batch ${batch}`, dashed: true, points: targets.map((t) => meanAt(t, (r) => latencyOf(r, batch).denseUs)) },
    ]),
  });
  const lossChart = lineChart({
    title: 'Dense training',
    xLabel: 'epoch',
    yLabel: 'training loss',
    series: [{ name: 'loss', points: dense.history.map((h) => [h.epoch, h.loss] as [number, number]) }],
  });

  const sections: ReportSection[] = [
    {
      title: 'Summary',
      blocks: [
        {
          kind: 'keyValue',
          entries: [
            ['dense test accuracy', pct(dense.testAccuracy)],
            ['dense model file', `${(dense.fileBytes / 1024).toFixed(1)} KiB`],
            ['training speed', `${dense.secondsPerEpoch.toFixed(2)} s per epoch (${result.options.epochs} epochs)`],
            ...(best === undefined
              ? ([['sparsest model within 1 point', 'none']] as [string, string][])
              : ([
                  ['sparsest model within 1 point', `${best.label} at ${pct(best.sparsity)}: ${pct(best.testAccuracy)}`],
                  ['its file', `${(best.fileBytes / 1024).toFixed(1)} KiB (${(dense.fileBytes / best.fileBytes).toFixed(1)}× smaller)`],
                  ['its speed', best.latency.map((l) => `batch ${l.batch}: ${l.speedup.toFixed(1)}× faster (${l.sparseUs.toFixed(1)} µs vs ${l.denseUs.toFixed(1)} µs)`).join('; ')],
                ] as [string, string][])),
            ['total run time', `${result.seconds.toFixed(0)} s`],
          ],
        },
      ],
    },
    {
      title: 'Accuracy vs sparsity',
      blocks: [
        { kind: 'chart', svg: accuracyChart, caption: `Each point: the trained dense model pruned to that sparsity and retrained ${result.options.pruneEpochs} epochs.` },
        {
          kind: 'table',
          columns: ['method', { label: 'target', format: 'percent' }, { label: 'sparsity', format: 'percent' }, { label: 'test accuracy', format: 'percent' }, { label: 'file KiB', format: { decimals: 1 } }, { label: 'prune+retrain s', format: { decimals: 1 } }],
          rows: runs.map((r) => [r.label, r.targetSparsity, r.sparsity, r.testAccuracy, r.fileBytes / 1024, r.trainSeconds]),
        },
      ],
    },
    {
      title: 'Inference speed',
      blocks: [
        { kind: 'chart', svg: speedupChart, caption: 'Each point: the mean over the three pruning methods at that target sparsity.' },
        { kind: 'chart', svg: latencyChart },
        {
          kind: 'table',
          columns: ['method', { label: 'sparsity', format: 'percent' }, 'batch', { label: 'dense µs', format: { decimals: 1 } }, { label: 'sparse µs', format: { decimals: 1 } }, { label: 'speedup', format: 'speedup' }, { label: 'ideal', format: 'speedup' }, 'kernels'],
          rows: [
            ...dense.latency.map((l) => ['dense (unpruned)', 0, l.batch, l.denseUs, l.sparseUs, l.speedup, 1, l.kernels]),
            ...runs.flatMap((r) => r.latency.map((l) => [r.label, r.sparsity, l.batch, l.denseUs, l.sparseUs, l.speedup, l.ideal, l.kernels])),
          ],
        },
        {
          kind: 'text',
          tone: 'note',
          text: `${result.options.backend === 'wasm-simd'
            ? "Backend: WebAssembly SIMD kernels (--backend wasm-simd). Dense = its register-tiled SIMD dense kernels on the same weights"
            : "Backend: TypeScript kernels. Dense = the project's own best dense TypeScript kernel (cache-blocked, register-tiled) on the same weights"}; sparse = the compiled model on the same backend, whose per-layer kernel (listed) is chosen by a measured cost model. Median of several calibrated timing samples of ${result.options.timingMs} ms each, on ${result.machine.cpu}, ${result.options.threads ?? 1} thread(s) (batch 1 always runs on one). For the rigorous numbers, run \`npx sparsegrad bench sparse\`.`,
        },
      ],
    },
    ...compressionSections(result),
    { title: 'Training', blocks: [{ kind: 'chart', svg: lossChart }] },
  ];

  return {
    title: `sparsegrad demo: ${result.options.architecture} on the built-in digits`,
    summary:
      `A ${result.options.architecture === 'LeNet-300-100' ? 'LeNet-300-100 network (784-300-100-10)' : `${result.options.architecture} network`} trained on 8,000 MNIST digits, pruned by gradual magnitude pruning and by gradient-based criteria at several sparsities, compiled into sparse kernels, and timed against the dense model at batch 1 and 64.`,
    meta: { date: meta.date, seed: result.options.seed, nodeVersion: result.machine.node, cpu: result.machine.cpu, platform: result.machine.platform, command: meta.command },
    sections,
    data: result,
    footer: 'Generated by sparsegrad',
  };
}

/**
 * The compression axis (issue 14), when the demo quantized its pruned models: test accuracy against file size
 * (log scale) after each stage — pruned float32, quantized, + Huffman — and the stage table.
 */
function compressionSections(result: DemoResult): ReportSection[] {
  const runs = result.runs.filter((r) => r.compression !== undefined);
  const quantize = result.options.quantize;
  if (runs.length === 0 || quantize === undefined) return [];
  const layers = Object.entries(quantize.layerBits ?? {}).map(([layer, bits]) => `, ${layer} ${bits}-bit`).join('');
  const label = `${quantize.method}${quantize.bits === undefined ? '' : ` ${quantize.bits}-bit`}${layers}${quantize.float16 === true ? ', f16' : ''}`;
  const series = new Map<string, CompressionPoint[]>([
    ['pruned (float32 CSR)', runs.map((r) => ({ bytes: r.compression!.stages.pruned, accuracy: r.testAccuracy }))],
    [`pruned + ${label} (codes, relative indices)`, runs.map((r) => ({ bytes: r.compression!.stages.quantized!, accuracy: r.compression!.testAccuracy }))],
    [`pruned + ${label} + Huffman`, runs.map((r) => ({ bytes: r.compression!.stages.entropyCoded!, accuracy: r.compression!.testAccuracy }))],
  ]);
  const chart = compressionChart({ title: 'Test accuracy vs file size (Deep Compression)', series, dense: { bytes: result.dense.fileBytes, accuracy: result.dense.testAccuracy } });
  return [{
    title: 'Compression: pruning, quantization, entropy coding',
    blocks: [
      { kind: 'chart', svg: chart, caption: `Every pruned model (all methods and sparsities), then a copy quantized (${label}) and fine-tuned ${quantize.epochs} epoch(s) with its weights kept quantized, then Huffman-coded. Sizes are whole model files.` },
      {
        kind: 'table',
        columns: ['method', { label: 'sparsity', format: 'percent' }, { label: 'pruned B', format: { decimals: 0 } }, { label: 'quantized B', format: { decimals: 0 } }, { label: 'Huffman B', format: { decimals: 0 } },
          { label: '× smaller', format: { decimals: 1 } }, { label: 'pruned acc', format: 'percent' }, { label: 'quantized acc', format: 'percent' }],
        rows: runs.map((r) => {
          const { stages, testAccuracy } = r.compression!;
          return [r.label, r.sparsity, stages.pruned, stages.quantized!, stages.entropyCoded!, stages.dense / stages.entropyCoded!, r.testAccuracy, testAccuracy];
        }),
      },
    ],
  }];
}
