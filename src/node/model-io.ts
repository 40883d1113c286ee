/**
 * Reading and writing model files on disk (Node only; the format itself lives in src/io/model-file.ts).
 *
 * Saving is atomic and follows the output rules (files.ts, output-path.ts). Loading follows the input rules
 * (input-file.ts: a regular file, checked again after it is opened, within `maxFileBytes`, not changing while
 * read) and reads the header before the weights: the 8-byte length N, then the N-byte header, which is
 * checked completely (container, metadata, architecture, tensor table against the real file size) before a
 * single weight is read. A file with a bad header is refused after reading at most 8 + N bytes, whatever
 * its size. Every failure is a ModelFormatError naming the path; one that cannot be read at all is
 * E_UNREADABLE with the operating system's reason.
 */

import * as fsPromises from 'node:fs/promises';
import { ModelFormatError } from '../errors.ts';
import { deserializeModel, readModelHeader, serializeModel, type ModelHeader, type ModelLimits, type ModelRecord, type SerializeOptions } from '../io/model-file.ts';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_HEADER_BYTES } from '../io/safetensors.ts';
import { saveFileAtomically } from './files.ts';
import { closeInputFile, finishInputFile, openInputFile, readInputBytes, type InputFile, type InputFileSystem, type InputSpec } from './input-file.ts';
import type { OutputOptions } from './output-path.ts';

export { saveFileAtomically, type SaveFileSystem } from './files.ts';

/**
 * Writes `bytes` to `path` atomically. Throws OutputPathError (E_OUTPUT_PATH) if the output rules refuse the
 * path, SparsegradError('E_WRITE_FAILED') if writing fails.
 */
export async function saveModelFile(path: string, bytes: Uint8Array, options: OutputOptions = {}): Promise<void> {
  await saveFileAtomically(path, bytes, fsPromises, options);
}

/**
 * Serializes a model and saves it atomically (see saveModelFile for the errors; serializeModel's for a record
 * that cannot be stored).
 *
 * @example
 * ```ts
 * import { mlp, modelFromRecord, modelToRecord } from 'sparsegrad';
 * import { loadModelFile, saveModel } from 'sparsegrad/node';
 *
 * const model = mlp([784, 300, 100, 10], { seed: 0 });
 * await saveModel('model.safetensors', modelToRecord(model), { encoding: 'auto' }); // atomic; CSR where smaller
 * const loaded = modelFromRecord(await loadModelFile('model.safetensors'));        // strict: a bad file is a ModelFormatError
 * console.log(loaded.spec().layers.length); // 5
 * ```
 */
export async function saveModel(path: string, record: ModelRecord, options: SerializeOptions & OutputOptions = {}): Promise<void> {
  await saveModelFile(path, serializeModel(record, options), options);
}

/**
 * Reads and fully validates a model file: header first, then the weights (see the file comment and the
 * README's model file format). Throws ModelFormatError, with a stable code, naming the path.
 *
 * @example
 * ```ts
 * import { compileModel, mlp, modelFromRecord, modelToRecord } from 'sparsegrad';
 * import { loadModelFile, saveModel } from 'sparsegrad/node';
 *
 * await saveModel('model.safetensors', modelToRecord(mlp([784, 100, 10], { seed: 0 })));
 * const record = await loadModelFile('model.safetensors', { maxFileBytes: 16 * 1024 * 1024 }); // limits are optional
 * const fast = compileModel(modelFromRecord(record));
 * console.log(fast.inFeatures, fast.outFeatures); // 784 10
 * ```
 */
export async function loadModelFile(path: string, limits: ModelLimits = {}): Promise<ModelRecord> {
  const bytes = await readModelBytes(path, limits);
  return naming(path, () => deserializeModel(bytes, limits));
}

/**
 * Reads a model file's bytes under the input rules, after its header has passed every header check.
 * Memory: the file's size, at most `maxFileBytes` (default 1 GiB). Throws ModelFormatError.
 * `fileSystem` is for tests (to count or disturb reads).
 */
export async function readModelBytes(path: string, limits: ModelLimits = {}, fileSystem?: InputFileSystem): Promise<Uint8Array> {
  const file = openInputFile(path, modelInput(limits.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, fileSystem));
  try {
    const prefix = readHeaderBytes(file, limits);
    naming(path, () => readModelHeader(prefix, { ...limits, fileSize: file.size })); // throws before any weight is read
    const bytes = new Uint8Array(file.size);
    bytes.set(prefix);
    bytes.set(readInputBytes(file, prefix.length, file.size - prefix.length), prefix.length);
    finishInputFile(file);
    return bytes;
  } catch (error) {
    closeInputFile(file);
    throw error;
  }
}

/**
 * Reads and checks only a model file's header (for `inspect`): the weights are not read at all.
 * `maxFileBytes` is ignored, as nothing past the header is read; `maxHeaderBytes` and the other limits apply.
 */
export async function readModelFileHeader(path: string, limits: ModelLimits = {}): Promise<ModelHeader> {
  const file = openInputFile(path, modelInput(Number.MAX_SAFE_INTEGER));
  try {
    const bytes = readHeaderBytes(file, limits);
    return naming(path, () => readModelHeader(bytes, { ...limits, maxFileBytes: Number.MAX_SAFE_INTEGER, fileSize: file.size }));
  } finally {
    closeInputFile(file);
  }
}

/**
 * The first 8 + N bytes: the length prefix and the header it announces. When N is over the header limit or
 * past the end of the file, only the prefix is returned, and readModelHeader reports exactly what is wrong.
 */
function readHeaderBytes(file: InputFile, limits: ModelLimits): Uint8Array {
  if (file.size < 8) return readInputBytes(file, 0, file.size);
  const prefix = readInputBytes(file, 0, 8);
  const declared = new DataView(prefix.buffer).getBigUint64(0, true);
  const maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (declared > BigInt(Math.min(maxHeaderBytes, file.size - 8))) return prefix;
  const bytes = new Uint8Array(8 + Number(declared));
  bytes.set(prefix);
  bytes.set(readInputBytes(file, 8, Number(declared)), 8);
  return bytes;
}

/** Runs a format check, adding the file's path to the message of a ModelFormatError (same code). */
function naming<T>(path: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (!(error instanceof ModelFormatError)) throw error;
    const named = new ModelFormatError(error.code, `model file ${JSON.stringify(path)}: ${error.message}`);
    named.cause = error;
    throw named;
  }
}

function modelInput(maxBytes: number, fileSystem?: InputFileSystem): InputSpec {
  const spec: InputSpec = { what: 'model file', maxBytes, fail: (code, message) => new ModelFormatError(code, message) };
  return fileSystem === undefined ? spec : { ...spec, fileSystem };
}
