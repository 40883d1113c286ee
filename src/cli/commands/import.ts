import { ModelFormatError } from '../../errors.ts';
import { importModel, IMPORT_FORMATS, type ImportActivation, type ImportFormat } from '../../io/import/index.ts';
import { serializeModel, type ModelRecord } from '../../io/model-file.ts';
import { formatLayer } from '../../nn/spec-shapes.ts';
import { DEFAULT_MAX_FILE_BYTES } from '../../io/safetensors.ts';
import { readInputFile } from '../../node/input-file.ts';
import { saveModelFile } from '../../node/model-io.ts';
import { listFlag, optionalString, parseCommand, stringFlag, UsageError } from '../args.ts';
import { FOLLOW_SYMLINKS_HELP, FOLLOW_SYMLINKS_OPTION, outputFlag, outputOptions, parseEncoding } from '../common.ts';
import { createOutput, kib, percent } from '../output.ts';

/** `sparsegrad import --help`. */
export const IMPORT_HELP = `usage: sparsegrad import --from safetensors|onnx FILE --out OUT [options]

Imports a network trained elsewhere into a sparsegrad model file, checked like any model file (exit 3 for a
malformed or unsupported input, naming the tensor, node or operator):

  safetensors   a PyTorch state_dict (safetensors.torch.save_file, or tools/sparsegrad_torch.py): Linear
                layers as <prefix>.weight [out, in] and <prefix>.bias in F32, F16, BF16 or F64;
                torch.nn.utils.prune's <prefix>.weight_orig + <prefix>.weight_mask; CSR weights as
                <prefix>.weight.{crow_indices,col_indices,values,size} (I64 or I32 indices). Layers go in
                the natural order of their prefixes (fc2 before fc10) and must chain.
  onnx          a chain of Gemm or MatMul + Add layers, and of Conv, MaxPool and AveragePool layers on
                images of a fixed size, with Relu, Sigmoid or Tanh between them and Flatten or Reshape
                where the shape changes (e.g. a LeNet-5 from torch.onnx.export); dense or sparse
                initializers; int8 weights behind DequantizeLinear.

  --from FORMAT       safetensors or onnx
  --out FILE          the sparsegrad model file to write
  --layers LIST       safetensors: the layers' name prefixes in order, e.g. fc1,fc2,out
  --activation NAME   safetensors: relu (default), sigmoid, tanh or none between layers (a state_dict does
                      not record activations)
  --encoding NAME     how to store weights: auto (CSR where smaller, default), dense or csr
${FOLLOW_SYMLINKS_HELP}  --json              print one JSON object as the last stdout line
`;

const ACTIVATIONS = ['relu', 'sigmoid', 'tanh', 'none'];

/** `sparsegrad import`: another framework's network → a sparsegrad model file (see IMPORT_HELP). */
export async function importCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, {
    from: { type: 'string' }, out: { type: 'string' }, layers: { type: 'string' }, activation: { type: 'string' }, encoding: { type: 'string' },
    json: { type: 'boolean' }, ...FOLLOW_SYMLINKS_OPTION,
  }, true);
  const out = createOutput({ json: values['json'] === true, quiet: false });
  const from = stringFlag(values, 'from');
  if (!(IMPORT_FORMATS as readonly string[]).includes(from)) throw new UsageError(`--from must be ${IMPORT_FORMATS.join(' or ')}, got '${from}'`);
  if (positionals.length !== 1) throw new UsageError(`import takes one input file, got ${positionals.length}`);
  const input = positionals[0]!;
  const outPath = outputFlag(values, 'out', stringFlag(values, 'out'))!;
  const encoding = parseEncoding(stringFlag(values, 'encoding', 'auto'));
  const activation = optionalString(values, 'activation');
  if (activation !== undefined && !ACTIVATIONS.includes(activation)) throw new UsageError(`--activation must be ${ACTIVATIONS.join(', ')}, got '${activation}'`);
  const layers = optionalString(values, 'layers') === undefined ? undefined : listFlag(values, 'layers', []);
  if (from === 'onnx' && (layers !== undefined || activation !== undefined)) throw new UsageError('--layers and --activation apply to safetensors state_dicts; an ONNX graph states both');

  const bytes = readInputFile(input, { what: `${from} file`, maxBytes: DEFAULT_MAX_FILE_BYTES, fail: (code, message) => new ModelFormatError(code, message) });
  const record = named(input, () => importModel(bytes, {
    from: from as ImportFormat,
    ...(layers === undefined ? {} : { layers }),
    ...(activation === undefined ? {} : { activation: activation as ImportActivation }),
  }));
  const file = serializeModel(record, { encoding });
  await saveModelFile(outPath, file, outputOptions(values));
  const summary = summarize(record);
  out.result(`imported ${input} (${from}): ${summary.architecture}`);
  out.result(`${summary.nonZero} of ${summary.weights} weights non-zero (${percent(summary.sparsity)} sparse); wrote ${outPath} (${kib(file.length)})`);
  out.emitJson({ input, from, out: outPath, bytes: file.length, spec: record.spec, weights: summary.weights, nonZero: summary.nonZero, sparsity: summary.sparsity });
}

/** The architecture in one line, and how many weights are non-zero. */
function summarize(record: ModelRecord): { architecture: string; weights: number; nonZero: number; sparsity: number } {
  let weights = 0;
  let nonZero = 0;
  for (const [name, param] of record.params) {
    if (!name.endsWith('.weight')) continue;
    weights += param.shape.reduce((a, b) => a * b, 1);
    const values = param.csr?.values ?? param.dense!;
    for (const v of values) if (v !== 0) nonZero++;
  }
  const architecture = record.spec.layers.map(formatLayer).join(' → ');
  return { architecture, weights, nonZero, sparsity: weights === 0 ? 0 : 1 - nonZero / weights };
}

/** Adds the input's path to a ModelFormatError's message (same code). */
function named<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof ModelFormatError)) throw error;
    const renamed = new ModelFormatError(error.code, `${JSON.stringify(path)}: ${error.message}`);
    renamed.cause = error;
    throw renamed;
  }
}
