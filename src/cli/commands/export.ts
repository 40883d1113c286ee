import { modelFromRecord } from '../../io/model-adapter.ts';
import { exportOnnx } from '../../io/onnx/export.ts';
import { int8WeightsOfRecord } from '../../io/onnx/int8-weights.ts';
import { loadModelFile } from '../../node/model-io.ts';
import { writeFileAtomically } from '../../node/files.ts';
import { numberFlag, parseCommand, stringFlag, UsageError } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, outputFlag, outputOptions } from '../common.ts';
import { createOutput, kib } from '../output.ts';

export const EXPORT_HELP = `usage: sparsegrad export --model FILE --onnx OUT [--opset N] [--sparse-initializers WHEN] [--json]

Exports a model (dense or pruned) to ONNX, so other runtimes (onnxruntime, ...) can run it: Gemm layers with
[out, in] weights and a symbolic batch dimension, input "x" [batch, in], output "logits" [batch, out].
Pruned weights are written as sparse initializers (values and INT64 indices), so the file stays small;
ONNX runtimes expand them and run dense kernels. Int8-quantized weights (sparsegrad quantize --method int8)
go out as INT8 codes and per-row scales behind a DequantizeLinear node, which gives back exactly the float
weights the file stands for; codebook (k-means) weights go out as their float32 values.

  --opset N                    ONNX opset, 13 to 17 (default 17)
  --sparse-initializers WHEN   auto (default: a weight whose sparse form is smaller), always, or never
                               (every weight dense, zeros included)
${FOLLOW_SYMLINKS_HELP}`;

export async function exportCommand(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, {
    model: { type: 'string' }, onnx: { type: 'string' }, opset: { type: 'string' }, 'sparse-initializers': { type: 'string' }, json: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
  });
  const sparseInitializers = stringFlag(values, 'sparse-initializers', 'auto');
  if (sparseInitializers !== 'auto' && sparseInitializers !== 'always' && sparseInitializers !== 'never') {
    throw new UsageError(`--sparse-initializers must be auto, always or never, got '${sparseInitializers}'`);
  }
  const out = createOutput({ json: values['json'] === true, quiet: false });
  const path = outputFlag(values, 'onnx', stringFlag(values, 'onnx'))!;
  const record = await loadModelFile(stringFlag(values, 'model'));
  const model = modelFromRecord(record);
  const params = new Map(model.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));
  const int8Weights = int8WeightsOfRecord(record);
  const bytes = exportOnnx(model.spec(), params, { opsetVersion: numberFlag(values, 'opset', 17, { min: 13, max: 17, integer: true }), sparseInitializers, int8Weights });
  await writeFileAtomically(path, bytes, outputOptions(values));
  out.result(`wrote ${path} (${kib(bytes.length)})`);
  out.emitJson({ onnx: path, bytes: bytes.length, int8Weights: [...int8Weights.keys()] });
}
