/**
 * A PyTorch `state_dict` of an MLP saved as safetensors (by `safetensors.torch.save_file`, or by
 * tools/sparsegrad_torch.py) → a sparsegrad model. Each Linear layer is a name prefix (`0`, `net.2`, `fc1`)
 * with these tensors:
 *
 *     P.weight [out, in]                          dense weights: F32, F16, BF16 or F64
 *     P.weight_orig + P.weight_mask               torch.nn.utils.prune's pair: weight = orig · mask (mask 0/1, any
 *                                                 numeric dtype); the mask is kept as the pruning mask
 *     P.weight.crow_indices [out + 1]             a sparse CSR weight (tools/sparsegrad_torch.py writes it from a
 *     P.weight.col_indices [nnz]                  torch.sparse_csr_tensor or a pruned weight): I64 or I32 indices,
 *     P.weight.values [nnz], P.weight.size [2]    float values, size = [out, in]; it stays CSR
 *     P.bias [out]                                optional (or P.bias_orig + P.bias_mask)
 *
 * A state_dict does not record the order of the layers or the activations between them: the layers go in the
 * natural order of their prefixes (numbers compared as numbers: fc2 before fc10, net.2 before net.10) unless
 * `layers` lists the prefixes in order, their shapes must chain, and `activation` (default ReLU) goes
 * between consecutive layers, none after the last. Any other tensor (BatchNorm statistics, embeddings, ...)
 * is refused by name: the importer takes MLPs only. A sparsegrad model file is read as it is.
 */
import { ModelFormatError } from '../../errors.ts';
import { deserializeModel, MODEL_FORMAT, type ModelLimits, type ModelRecord } from '../model-file.ts';
import { decodeSafetensorsRaw, type RawSafetensorsTensor } from '../safetensors-reader.ts';
import { widenHalves } from './number-formats.ts';
import { csrFromLinear, importedRecord, type ImportActivation, type ImportedLinear } from './record.ts';

/** Options of the state_dict importer. */
export interface StateDictImportOptions {
  /** The layers' name prefixes in order (e.g. ['fc1', 'fc2', 'out']); default: the natural order of the prefixes. */
  readonly layers?: readonly string[];
  /** The activation between consecutive layers (a state_dict does not record it). Default 'relu'. */
  readonly activation?: ImportActivation;
  readonly limits?: ModelLimits;
}

const PARTS = ['weight', 'bias', 'weight_orig', 'weight_mask', 'bias_orig', 'bias_mask', 'weight.crow_indices', 'weight.col_indices', 'weight.values', 'weight.size'] as const;
type Part = (typeof PARTS)[number];
const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64'];

function fail(code: string, message: string): never {
  throw new ModelFormatError(code, `state_dict: ${message}`);
}

/** Reads a safetensors state_dict of an MLP (see the file comment) into a checked ModelRecord. Throws ModelFormatError. */
export function importStateDict(bytes: Uint8Array, options: StateDictImportOptions = {}): ModelRecord {
  const activation = options.activation ?? 'relu';
  if (!['relu', 'sigmoid', 'tanh', 'none'].includes(activation)) fail('E_BAD_SPEC', `activation must be relu, sigmoid, tanh or none, got ${String(activation)}`);
  const file = decodeSafetensorsRaw(bytes, options.limits);
  if (file.metadata.get('format') === MODEL_FORMAT) return deserializeModel(bytes, options.limits); // already a sparsegrad file
  const groups = new Map<string, Map<Part, RawSafetensorsTensor>>();
  for (const [name, tensor] of file.tensors) {
    // The longest matching part wins: "fc1.weight.values" is a CSR part of "fc1", not a layer "fc1.weight".
    const match = PARTS.filter((p) => name.endsWith(`.${p}`) && name.length > p.length + 1).sort((x, y) => y.length - x.length)[0];
    if (match === undefined) fail('E_UNEXPECTED_TENSOR', `tensor "${name}" is not a parameter of a Linear layer (expected <prefix>.weight, .bias, .weight_orig/.weight_mask or the CSR parts); only MLPs are imported`);
    const prefix = name.slice(0, name.length - match.length - 1);
    const group = groups.get(prefix) ?? new Map<Part, RawSafetensorsTensor>();
    group.set(match, tensor);
    groups.set(prefix, group);
  }
  const order = layerOrder([...groups.keys()], options.layers);
  const layers = order.map((prefix, l): ImportedLinear => readLayer(prefix, groups.get(prefix)!, l === order.length - 1 ? 'none' : activation));
  return importedRecord(layers, { imported: { from: 'safetensors', layers: order, activation } }, options.limits);
}

/** The prefixes in the order given, or in natural order; throws when the given order does not match the file. */
function layerOrder(prefixes: string[], given: readonly string[] | undefined): string[] {
  if (given === undefined) return prefixes.sort(naturalCompare);
  const missing = given.filter((p) => !prefixes.includes(p));
  const extra = prefixes.filter((p) => !given.includes(p));
  if (missing.length > 0 || extra.length > 0 || new Set(given).size !== given.length) {
    fail('E_BAD_SPEC', `the layer order lists ${given.map((p) => `"${p}"`).join(', ')}, but the file's layers are ${prefixes.sort(naturalCompare).map((p) => `"${p}"`).join(', ')}`);
  }
  return [...given];
}

/** Compares names piece by piece, runs of digits as numbers: "fc2" < "fc10", "net.2" < "net.10". */
export function naturalCompare(a: string, b: string): number {
  const pieces = (s: string): string[] => s.match(/\d+|\D+/g) ?? [];
  const pa = pieces(a);
  const pb = pieces(b);
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    if (numeric && Number(x) !== Number(y)) return Number(x) - Number(y);
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}

function readLayer(prefix: string, parts: Map<Part, RawSafetensorsTensor>, activation: ImportActivation): ImportedLinear {
  const source = `layer "${prefix}"`;
  const has = (p: Part): boolean => parts.has(p);
  const forms = [has('weight'), has('weight_orig') || has('weight_mask'), has('weight.crow_indices') || has('weight.col_indices') || has('weight.values') || has('weight.size')];
  if (forms.filter(Boolean).length !== 1) {
    fail('E_MISSING_TENSOR', `${source} needs exactly one weight: "${prefix}.weight", the pair "${prefix}.weight_orig" + "${prefix}.weight_mask", or the CSR tensors "${prefix}.weight.{crow_indices,col_indices,values,size}"`);
  }
  let weight: ImportedLinear['weight'];
  let mask: Uint8Array | null = null;
  let outFeatures: number;
  let inFeatures: number;
  if (forms[2]) {
    const size = integers(need(parts, prefix, 'weight.size'), `${prefix}.weight.size`);
    if (size.length !== 2 || size.some((d) => d <= 0)) fail('E_BAD_SHAPE', `"${prefix}.weight.size" must hold two positive sizes [out, in], got [${size.join(', ')}]`);
    [outFeatures, inFeatures] = size as [number, number];
    const crow = integers(need(parts, prefix, 'weight.crow_indices'), `${prefix}.weight.crow_indices`);
    const cols = integers(need(parts, prefix, 'weight.col_indices'), `${prefix}.weight.col_indices`);
    const values = floats(need(parts, prefix, 'weight.values'), `${prefix}.weight.values`);
    if (crow.length !== outFeatures + 1) fail('E_BAD_SHAPE', `"${prefix}.weight.crow_indices" has ${crow.length} entries; a [${outFeatures}, ${inFeatures}] matrix needs ${outFeatures + 1}`);
    if (cols.length !== values.length) fail('E_BAD_SHAPE', `"${prefix}.weight.col_indices" has ${cols.length} entries but "${prefix}.weight.values" has ${values.length}`);
    weight = csrFromParts(outFeatures, inFeatures, crow, cols, values, prefix);
  } else {
    const stored = forms[0] ? need(parts, prefix, 'weight') : need(parts, prefix, 'weight_orig');
    if (stored.shape.length !== 2) fail('E_BAD_SHAPE', `the weight of ${source} has shape [${stored.shape.join(', ')}]; a Linear weight is 2-D [out, in]`);
    [outFeatures, inFeatures] = stored.shape as [number, number];
    if (outFeatures === 0 || inFeatures === 0) fail('E_BAD_SHAPE', `the weight of ${source} is empty ([${stored.shape.join(', ')}])`);
    const dense = floats(stored, `${prefix}.${forms[0] ? 'weight' : 'weight_orig'}`);
    if (forms[1]) {
      mask = maskOf(need(parts, prefix, 'weight_mask'), stored.shape, `${prefix}.weight_mask`);
      for (let i = 0; i < dense.length; i++) if (mask[i] === 0) dense[i] = 0;
    }
    weight = dense;
  }
  let bias: Float32Array | null = null;
  if (has('bias') && (has('bias_orig') || has('bias_mask'))) fail('E_UNEXPECTED_TENSOR', `${source} has both "${prefix}.bias" and a pruned bias pair`);
  if (has('bias') || has('bias_orig') || has('bias_mask')) {
    const stored = has('bias') ? parts.get('bias')! : need(parts, prefix, 'bias_orig');
    if (stored.shape.length !== 1 || stored.shape[0] !== outFeatures) fail('E_BAD_SHAPE', `the bias of ${source} has shape [${stored.shape.join(', ')}]; it must be [${outFeatures}]`);
    bias = floats(stored, `${prefix}.${has('bias') ? 'bias' : 'bias_orig'}`);
    if (!has('bias')) {
      const biasMask = maskOf(need(parts, prefix, 'bias_mask'), stored.shape, `${prefix}.bias_mask`);
      for (let i = 0; i < bias.length; i++) if (biasMask[i] === 0) bias[i] = 0;
    }
  }
  return { kind: 'linear', source, inFeatures, outFeatures, weight, mask, bias, activation };
}

function need(parts: Map<Part, RawSafetensorsTensor>, prefix: string, part: Part): RawSafetensorsTensor {
  const tensor = parts.get(part);
  if (tensor === undefined) fail('E_MISSING_TENSOR', `"${prefix}.${part}" is missing (the other tensors of layer "${prefix}" need it)`);
  return tensor;
}

function view(tensor: RawSafetensorsTensor): DataView {
  return new DataView(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
}

/** A float tensor (F32, F16, BF16, F64) as a fresh Float32Array, read little-endian on any host. */
function floats(tensor: RawSafetensorsTensor, name: string): Float32Array {
  const data = view(tensor);
  switch (tensor.dtype) {
    case 'F32':
      return Float32Array.from({ length: tensor.bytes.length / 4 }, (_, i) => data.getFloat32(4 * i, true));
    case 'F64':
      return Float32Array.from({ length: tensor.bytes.length / 8 }, (_, i) => data.getFloat64(8 * i, true));
    case 'F16':
    case 'BF16':
      return widenHalves(Array.from({ length: tensor.bytes.length / 2 }, (_, i) => data.getUint16(2 * i, true)), tensor.dtype);
    default:
      return fail('E_BAD_DTYPE', `"${name}" is ${tensor.dtype}; weights must be ${FLOAT_DTYPES.join(', ')}`);
  }
}

/** An integer tensor (I64, I32, U16, U8) as numbers; I64 values must be safe integers. */
function integers(tensor: RawSafetensorsTensor, name: string): number[] {
  const data = view(tensor);
  switch (tensor.dtype) {
    case 'I64':
      return Array.from({ length: tensor.bytes.length / 8 }, (_, i) => {
        const v = data.getBigInt64(8 * i, true);
        if (v < -(2n ** 53n) || v > 2n ** 53n) fail('E_BAD_OFFSETS', `"${name}" holds ${v}, far beyond any index`);
        return Number(v);
      });
    case 'I32':
      return Array.from({ length: tensor.bytes.length / 4 }, (_, i) => data.getInt32(4 * i, true));
    case 'U16':
      return Array.from({ length: tensor.bytes.length / 2 }, (_, i) => data.getUint16(2 * i, true));
    case 'U8':
      return Array.from(tensor.bytes);
    default:
      return fail('E_BAD_DTYPE', `"${name}" is ${tensor.dtype}; indices and sizes must be I64, I32, U16 or U8`);
  }
}

/** A 0/1 mask of `shape` from any numeric dtype (PyTorch saves float masks); other values are refused. */
function maskOf(tensor: RawSafetensorsTensor, shape: readonly number[], name: string): Uint8Array {
  if (tensor.shape.length !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
    fail('E_BAD_SHAPE', `"${name}" has shape [${tensor.shape.join(', ')}] but its weight has [${shape.join(', ')}]`);
  }
  const values: ArrayLike<number> = FLOAT_DTYPES.includes(tensor.dtype) ? floats(tensor, name) : tensor.dtype === 'BOOL' ? tensor.bytes : integers(tensor, name);
  const mask = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== 0 && v !== 1) fail('E_BAD_MASK', `"${name}" holds ${v} at index ${i}; a mask holds only 0 and 1`);
    mask[i] = v;
  }
  return mask;
}

/** CSR from PyTorch's crow_indices / col_indices / values, checked like any CSR (E_BAD_CSR). */
function csrFromParts(nRows: number, nCols: number, crow: number[], cols: number[], values: Float32Array, prefix: string): ReturnType<typeof csrFromLinear> {
  // Row-major linear indices keep the strict checks in one place (csrFromLinear → CSRMatrix → validateCsr).
  if (crow[0] !== 0 || crow[nRows] !== cols.length) fail('E_BAD_CSR', `"${prefix}.weight.crow_indices" must start at 0 and end at nnz = ${cols.length}, got ${crow[0]} and ${crow[nRows]}`);
  const linear: number[] = [];
  for (let r = 0; r < nRows; r++) {
    if (crow[r + 1]! < crow[r]!) fail('E_BAD_CSR', `"${prefix}.weight.crow_indices" decreases at row ${r}`);
    for (let k = crow[r]!; k < crow[r + 1]!; k++) {
      const c = cols[k]!;
      if (c < 0 || c >= nCols) fail('E_BAD_CSR', `"${prefix}.weight.col_indices" holds column ${c} in row ${r}; the matrix has ${nCols} columns`);
      if (k > crow[r]! && c <= cols[k - 1]!) fail('E_BAD_CSR', `"${prefix}.weight.col_indices" is not strictly increasing in row ${r}`);
      linear.push(r * nCols + c);
    }
  }
  return csrFromLinear(nRows, nCols, linear, values, false, `the CSR weight of layer "${prefix}"`);
}
