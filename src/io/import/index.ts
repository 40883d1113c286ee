/**
 * Models from other frameworks: `importModel(bytes, options)` reads a PyTorch state_dict saved as safetensors
 * (state-dict.ts) or an ONNX graph of an MLP (onnx.ts) and returns a checked sparsegrad ModelRecord, ready for
 * serializeModel, compileInference (via sparsegrad/infer) or modelFromRecord. Browser-safe.
 */
import { ConfigError } from '../../errors.ts';
import type { ModelLimits, ModelRecord } from '../model-file.ts';
import { importOnnx } from './onnx.ts';
import { importStateDict, type StateDictImportOptions } from './state-dict.ts';
import type { ImportActivation } from './record.ts';

export { naturalCompare, type StateDictImportOptions } from './state-dict.ts';
export type { ImportActivation } from './record.ts';

/** The formats importModel reads. */
export const IMPORT_FORMATS = ['safetensors', 'onnx'] as const;
/** One of IMPORT_FORMATS. */
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

/** Options of importModel. */
export interface ImportOptions {
  /** The file's format; default: detected from the first bytes (safetensors starts with a length and "{"). */
  readonly from?: ImportFormat;
  /** safetensors: the layers' name prefixes in order (default: natural order of the prefixes). */
  readonly layers?: readonly string[];
  /** safetensors: the activation between layers, which a state_dict does not record. Default 'relu'. */
  readonly activation?: ImportActivation;
  /** Limits for the untrusted file, as for model files. */
  readonly limits?: ModelLimits;
}

/** 'safetensors' when the bytes start like one (an 8-byte header length, then "{"), else 'onnx'. */
export function detectImportFormat(bytes: Uint8Array): ImportFormat {
  return bytes.length >= 9 && bytes[8] === 0x7b && bytes[5] === 0 && bytes[6] === 0 && bytes[7] === 0 ? 'safetensors' : 'onnx';
}

/**
 * Reads another framework's model file into a checked sparsegrad record (see the format files for what each
 * accepts). A sparsegrad model file is read as it is. Throws ModelFormatError (every malformed or unsupported
 * input, with a code and a message naming the tensor, node or operator) and ConfigError (bad options).
 */
export function importModel(bytes: Uint8Array, options: ImportOptions = {}): ModelRecord {
  const from = options.from ?? detectImportFormat(bytes);
  if (!(IMPORT_FORMATS as readonly string[]).includes(from)) throw new ConfigError(`importModel: from must be ${IMPORT_FORMATS.join(' or ')}, got ${String(from)}`);
  if (from === 'onnx') {
    if (options.layers !== undefined || options.activation !== undefined) throw new ConfigError('importModel: layers and activation apply to safetensors state_dicts; an ONNX graph states both');
    return importOnnx(bytes, options.limits);
  }
  const stateDict: StateDictImportOptions = {
    ...(options.layers === undefined ? {} : { layers: options.layers }),
    ...(options.activation === undefined ? {} : { activation: options.activation }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  };
  return importStateDict(bytes, stateDict);
}
