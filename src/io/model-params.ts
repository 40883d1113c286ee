/**
 * The model file's parameters: matching the tensor table against the architecture (every parameter once, in
 * one encoding, with the right dtypes and shapes) and checking each parameter's values (CSR structure, finite
 * numbers, 0/1 masks that agree with the weights). Shared by reading and writing, so whatever the writer
 * accepts the reader accepts. Part of the model file format (model-file.ts).
 */

import { ModelFormatError, SparseFormatError } from '../errors.ts';
import { CSRMatrix } from '../sparse/csr-matrix.ts';
import { formatShape, shapesEqual } from '../tensor/shape.ts';
import { isFloat32Array, isInt32Array, isUint8Array } from '../tensor/typed-array.ts';
import { describeArray } from '../tensor/tensor.ts';
import type { CsrRecord, ParamEncoding, ParamRecord } from './model-file.ts';
import type { ProfileMetadata } from './model-metadata.ts';
import { planEncodedTensors, type EncodingEntry, type NeedTensor } from './encodings/entry.ts';
import { checkQuantizedValues, dequantizedValue } from './encodings/quantized-values.ts';

/** Matrices with at most this many columns store their CSR column indices as U16 (largest index 65,535). */
export const MAX_U16_INDEX_COLUMNS = 65536;

/** The dtype CSR column indices of a matrix with `nCols` columns are written in: U16 when they all fit, else I32. */
export function csrIndexDtype(nCols: number): 'U16' | 'I32' {
  return nCols <= MAX_U16_INDEX_COLUMNS ? 'U16' : 'I32';
}

/**
 * The matrix a parameter's CSR form stores: a linear weight [rows, cols] as itself, a conv2d weight
 * [out, in/groups, kh, kw] as [out, in/groups·kh·kw] (one row per filter); null for shapes that are never CSR.
 */
export function csrDims(shape: readonly number[]): [number, number] | null {
  if (shape.length === 2) return [shape[0]!, shape[1]!];
  if (shape.length === 4) return [shape[0]!, shape[1]! * shape[2]! * shape[3]!];
  return null;
}

/** How one parameter is stored in a file, read from its header: encoding, CSR entry count, mask or not. */
export interface ParamPlan {
  readonly name: string;
  readonly shape: readonly number[];
  readonly encoding: ParamEncoding;
  readonly nnz: number | null;
  readonly hasMask: boolean;
  /** The compact encoding, for parameters stored in one (absent for float32 dense and plain CSR). */
  readonly entry?: EncodingEntry;
}

/**
 * Matches the tensor table against the architecture: every parameter exactly once, in the encoding the
 * metadata says, with the right dtypes and shapes, and no other tensors. Looks at dtypes and shapes only.
 */
export function planParams(profile: ProfileMetadata, table: ReadonlyMap<string, { readonly dtype: string; readonly shape: readonly number[] }>): ParamPlan[] {
  const used = new Set<string>();
  const need = (name: string, dtypes: string | readonly string[], shape: readonly number[] | null, why: string): readonly number[] => {
    const info = table.get(name);
    if (info === undefined) throw new ModelFormatError('E_MISSING_TENSOR', `the model file has no tensor "${name}" (${why})`);
    const allowed = typeof dtypes === 'string' ? [dtypes] : dtypes;
    if (!allowed.includes(info.dtype)) throw new ModelFormatError('E_BAD_DTYPE', `tensor "${name}" is ${info.dtype}; ${why} must be ${allowed.join(' or ')}`);
    if (shape !== null && !shapesEqual(info.shape, shape)) {
      throw new ModelFormatError('E_BAD_SHAPE', `tensor "${name}" has shape ${formatShape(info.shape)}; ${why} must be ${formatShape(shape)}`);
    }
    used.add(name);
    return info.shape;
  };

  const plans: ParamPlan[] = [];
  for (const [name, shape] of profile.expected) {
    const csrParts = ['indptr', 'indices', 'values'].map((part) => `${name}.csr.${part}`);
    let plan: ParamPlan;
    const compact = profile.compact.get(name);
    if (compact !== undefined) {
      if (table.has(name) && !(compact.kind === 'dense' && compact.values === 'f32')) {
        throw new ModelFormatError('E_UNEXPECTED_TENSOR', `parameter "${name}" is stored twice: as dense float32 tensor "${name}" and in the encoding __metadata__.encodings gives it`);
      }
      const nnz = planEncodedTensors(name, shape, compact, need, () => plainCsrStructure(name, shape, need));
      plan = { name, shape, encoding: compact.kind, nnz, hasMask: false, entry: compact };
    } else if (profile.csrParams.has(name)) {
      if (table.has(name)) {
        throw new ModelFormatError('E_UNEXPECTED_TENSOR', `parameter "${name}" is stored twice: as dense tensor "${name}" and as CSR (per __metadata__.encodings)`);
      }
      const nnz = plainCsrStructure(name, shape, need);
      need(`${name}.csr.values`, 'F32', [nnz], `the values of "${name}" (one per column index)`);
      plan = { name, shape, encoding: 'csr', nnz, hasMask: false };
    } else {
      const stray = csrParts.find((part) => table.has(part));
      if (stray !== undefined) {
        throw new ModelFormatError('E_UNEXPECTED_TENSOR', `tensor "${stray}" looks like CSR data, but __metadata__.encodings does not list "${name}" as CSR`);
      }
      // F16 holds the same float32 values in half the bytes when every one is a half (compact files).
      need(name, ['F32', 'F16'], shape, `parameter "${name}"`);
      plan = { name, shape, encoding: 'dense', nnz: null, hasMask: false };
    }
    if (table.has(`${name}.mask`)) {
      need(`${name}.mask`, 'U8', shape, `the mask of "${name}"`);
      plan = { ...plan, hasMask: true };
    }
    plans.push(plan);
  }
  for (const name of table.keys()) {
    if (!used.has(name)) {
      throw new ModelFormatError('E_UNEXPECTED_TENSOR', `tensor "${name}" is not part of the model (the architecture has ${[...profile.expected.keys()].join(', ') || 'no parameters'})`);
    }
  }
  return plans;
}

/** Checks the plain CSR structure tensors (row pointers, U16/I32 column indices) and returns the entry count. */
function plainCsrStructure(name: string, shape: readonly number[], need: NeedTensor): number {
  const [rows, cols] = csrDims(shape)!;
  need(`${name}.csr.indptr`, 'I32', [rows + 1], `the row pointers of ${formatShape(shape)} "${name}"`);
  // I32 can address any column (the architecture caps widths below 2^31), so it is accepted at every width,
  // even where this writer would use U16: the meaning of each index is unambiguous, only the size differs.
  // U16 is refused above 65,536 columns. Such a file may well pass validateCsr (all its indices are below
  // nCols), but the likeliest writer of one cast wider indices to 16 bits, wrapping them modulo 65,536 onto
  // other, valid-looking columns; nothing in the file could tell that corruption from an honest matrix
  // whose entries happen to sit in the first 65,536 columns, so it is rejected as a dtype error.
  const indexDtypes = cols <= MAX_U16_INDEX_COLUMNS ? ['U16', 'I32'] : ['I32'];
  const indexWhy = cols <= MAX_U16_INDEX_COLUMNS
    ? `the column indices of "${name}"`
    : `the column indices of "${name}" (${cols} columns, more than U16 can address)`;
  const indicesShape = need(`${name}.csr.indices`, indexDtypes, null, indexWhy);
  if (indicesShape.length !== 1) {
    throw new ModelFormatError('E_BAD_SHAPE', `tensor "${name}.csr.indices" has shape ${formatShape(indicesShape)}; it must be 1-D`);
  }
  return indicesShape[0] as number;
}

// ---------------------------------------------------------------------------------------------------------
// Checks shared by reading and writing
// ---------------------------------------------------------------------------------------------------------

/**
 * Checks one parameter's data: exactly one encoding, lengths that match the shape, a valid CSR structure,
 * finite values, and a mask of 0/1 under which every pruned entry is 0. Returns the parameter with its CSR
 * data as a CSRMatrix (sharing the arrays). Throws ModelFormatError naming the parameter.
 */
export function checkParamValues(name: string, param: ParamRecord, allowNonFinite: boolean): ParamRecord {
  const shape = param.shape;
  const size = shape.reduce((a, b) => a * b, 1);
  if ((param.dense === undefined) === (param.csr === undefined)) {
    throw new ModelFormatError('E_BAD_PARAM', `parameter "${name}" must have exactly one of dense or csr data`);
  }
  if (param.dense !== undefined) {
    if (!isFloat32Array(param.dense)) {
      throw new ModelFormatError('E_BAD_DTYPE', `parameter "${name}" must hold a Float32Array, got ${describeArray(param.dense)}`);
    }
    if (param.dense.length !== size) {
      throw new ModelFormatError('E_BAD_SHAPE', `parameter "${name}" has ${param.dense.length} values but shape ${formatShape(shape)} needs ${size}`);
    }
    if (!allowNonFinite) checkFinite(name, param.dense, (i) => (shape.length === 2 ? ` (row ${Math.floor(i / (shape[1] as number))}, column ${i % (shape[1] as number)})` : ''));
  }
  let checked = param;
  if (param.csr !== undefined) {
    const dims = csrDims(shape);
    if (dims === null || param.csr.nRows !== dims[0] || param.csr.nCols !== dims[1]) {
      throw new ModelFormatError('E_BAD_SHAPE', `parameter "${name}" has CSR data of ${param.csr.nRows}x${param.csr.nCols} but shape ${formatShape(shape)}`);
    }
    const csr = toCsrMatrix(`parameter "${name}" (tensors "${name}.csr.*")`, param.csr);
    if (!allowNonFinite) checkFinite(`${name}.csr.values`, csr.values, (k) => ` (row ${rowOf(csr.indptr, k)}, column ${csr.indices[k]})`);
    checked = { ...param, csr };
  }
  if (param.mask !== undefined) checkMask(name, checked, size);
  if (param.quantized !== undefined) checkQuantizedParam(name, checked);
  return checked;
}

/**
 * A quantized weight's codes must be valid (quantized-values.ts) and give exactly its float32 values; a dense
 * weight's pruned entries (mask 0) hold 0 with code 0. ModelFormatError E_BAD_QUANT naming the entry.
 */
function checkQuantizedParam(name: string, param: ParamRecord): void {
  const q = param.quantized!;
  const dims = csrDims(param.shape);
  if (dims === null) throw new ModelFormatError('E_BAD_QUANT', `parameter "${name}" is ${param.shape.length}-D; only 2-D (linear) and 4-D (conv2d) weights can be quantized`);
  const [rows, cols] = dims;
  const values = param.dense ?? (param.csr as CsrRecord).values;
  checkQuantizedValues(name, q, rows, values.length);
  const indptr = param.csr?.indptr;
  let row = 0;
  for (let k = 0; k < values.length; k++) {
    if (indptr === undefined) row = Math.floor(k / cols);
    else while ((indptr[row + 1] as number) <= k) row++;
    const pruned = param.dense !== undefined && param.mask !== undefined && param.mask[k] === 0;
    if (pruned && q.codes[k] !== 0) throw new ModelFormatError('E_BAD_QUANT', `"${name}" entry ${k} is pruned (mask 0) but has code ${q.codes[k]}; pruned entries have code 0`);
    const expected = pruned ? 0 : dequantizedValue(q, k, row);
    if (values[k] !== expected) {
      throw new ModelFormatError('E_BAD_QUANT', `"${name}" holds ${values[k]} at stored entry ${k} (row ${row}), but its code stands for ${expected}`);
    }
  }
}

/**
 * A CSRMatrix over the record's arrays (no copy), after checking their types and, through the CSRMatrix
 * constructor (validateCsr), their structure. Throws ModelFormatError E_BAD_DTYPE or E_BAD_CSR naming `what`.
 */
export function toCsrMatrix(what: string, csr: CsrRecord): CSRMatrix {
  if (!isInt32Array(csr.indptr) || !isInt32Array(csr.indices) || !isFloat32Array(csr.values)) {
    throw new ModelFormatError('E_BAD_DTYPE', `${what}: CSR data must be Int32Array indptr and indices and a Float32Array of values`);
  }
  try {
    return new CSRMatrix(csr.nRows, csr.nCols, csr.indptr, csr.indices, csr.values);
  } catch (error) {
    if (error instanceof SparseFormatError) throw new ModelFormatError('E_BAD_CSR', `${what}: ${error.message}`);
    throw error;
  }
}

function checkFinite(name: string, values: Float32Array, where: (index: number) => string): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as number;
    if (!Number.isFinite(value)) throw new ModelFormatError('E_NON_FINITE', `tensor "${name}" holds ${value} at index ${i}${where(i)}`);
  }
}

function checkMask(name: string, param: ParamRecord, size: number): void {
  const mask = param.mask as Uint8Array;
  if (!isUint8Array(mask)) throw new ModelFormatError('E_BAD_DTYPE', `the mask of "${name}" must be a Uint8Array, got ${describeArray(mask)}`);
  if (mask.length !== size) {
    throw new ModelFormatError('E_BAD_SHAPE', `the mask of "${name}" has ${mask.length} values but shape ${formatShape(param.shape)} needs ${size}`);
  }
  for (let i = 0; i < mask.length; i++) {
    if (mask[i] !== 0 && mask[i] !== 1) throw new ModelFormatError('E_BAD_MASK', `tensor "${name}.mask" holds ${mask[i]} at index ${i}; masks hold only 0 and 1`);
  }
  // A pruned entry (mask 0) must be exactly 0; otherwise the mask and the weights disagree about the model.
  if (param.dense !== undefined) {
    for (let i = 0; i < size; i++) {
      if (mask[i] === 0 && param.dense[i] !== 0) {
        throw new ModelFormatError('E_BAD_MASK', `tensor "${name}" holds ${param.dense[i]} at index ${i}, where its mask is 0 (pruned entries must be 0)`);
      }
    }
  }
  if (param.csr !== undefined) {
    const { indptr, indices, values, nCols, nRows } = param.csr;
    for (let r = 0; r < nRows; r++) {
      for (let k = indptr[r] as number; k < (indptr[r + 1] as number); k++) {
        const i = r * nCols + (indices[k] as number);
        if (mask[i] === 0 && values[k] !== 0) {
          throw new ModelFormatError('E_BAD_MASK', `tensor "${name}.csr.values" holds ${values[k]} at (row ${r}, column ${indices[k]}), where the mask is 0`);
        }
      }
    }
  }
}

/** The row holding stored entry k (binary search over the row pointers); used only for error messages. */
function rowOf(indptr: Int32Array, k: number): number {
  let low = 0;
  let high = indptr.length - 2;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if ((indptr[mid] as number) <= k) low = mid;
    else high = mid - 1;
  }
  return low;
}

