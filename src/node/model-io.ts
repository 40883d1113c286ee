/**
 * Reading and writing model files on disk (Node only; the format itself lives in src/io/model-file.ts).
 *
 * Saving is atomic: the bytes go to a temporary file in the same directory (`<path>.tmp-<pid>-<random>`),
 * which is flushed to disk (fsync) and then renamed over the target; finally the directory is fsynced so the
 * rename itself survives a crash. A reader therefore sees either the old file or the complete new one, never
 * a half-written model, and a failed save removes its temporary file.
 *
 * Loading checks the file's size with fs.stat before reading it, so an oversized file is refused without
 * being read into memory; a file that cannot be read becomes ModelFormatError('E_UNREADABLE') naming the path
 * and the operating system's reason.
 */

import { randomBytes } from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { ModelFormatError, SparsegradError } from '../errors.ts';
import { deserializeModel, readModelHeader, serializeModel, type ModelHeader, type ModelLimits, type ModelRecord, type SerializeOptions } from '../io/model-file.ts';
import { DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_HEADER_BYTES } from '../io/safetensors.ts';

/** The file-system calls a save makes; tests pass a wrapper that fails on purpose. */
export type SaveFileSystem = Pick<typeof fsPromises, 'open' | 'rename' | 'unlink'>;

/** Largest piece handed to one write call. */
const WRITE_CHUNK_BYTES = 1 << 20;

/** Writes `bytes` to `path` atomically (see the file comment). Throws SparsegradError('E_WRITE_FAILED') on failure. */
export async function saveModelFile(path: string, bytes: Uint8Array): Promise<void> {
  await saveFileAtomically(path, bytes, fsPromises);
}

/** Serializes a model and saves it atomically. */
export async function saveModel(path: string, record: ModelRecord, options: SerializeOptions = {}): Promise<void> {
  await saveModelFile(path, serializeModel(record, options));
}

/** @internal The atomic save with the file-system calls passed in, so tests can make a step fail. */
export async function saveFileAtomically(path: string, bytes: Uint8Array, fs: SaveFileSystem): Promise<void> {
  const directory = dirname(path);
  const temporary = join(directory, `${basename(path)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  let handle: fsPromises.FileHandle | undefined;
  try {
    // 'wx': create a fresh file, failing if the name is somehow taken, never truncating someone else's file.
    handle = await fs.open(temporary, 'wx', 0o644);
    for (let offset = 0; offset < bytes.length; ) {
      const { bytesWritten } = await handle.write(bytes, offset, Math.min(WRITE_CHUNK_BYTES, bytes.length - offset), offset);
      if (bytesWritten <= 0) throw new Error('write made no progress');
      offset += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    await fs.rename(temporary, path);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fs.unlink(temporary).catch(() => undefined);
    throw writeFailed(path, error);
  }
  await syncDirectory(directory, fs);
}

/** Makes the rename durable. Some platforms (Windows) cannot open or fsync a directory; that is not an error. */
async function syncDirectory(directory: string, fs: SaveFileSystem): Promise<void> {
  let handle: fsPromises.FileHandle | undefined;
  try {
    handle = await fs.open(directory, 'r');
    await handle.sync();
  } catch {
    // The data and the rename are done; only the durability guarantee is weaker here.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

function writeFailed(path: string, error: unknown): SparsegradError {
  const failure = new SparsegradError('E_WRITE_FAILED', `cannot save ${JSON.stringify(path)}: ${osReason(error)}`);
  failure.cause = error;
  return failure;
}

/** Reads and fully validates a model file. */
export async function loadModelFile(path: string, limits: ModelLimits = {}): Promise<ModelRecord> {
  const bytes = await readModelBytes(path, limits);
  return deserializeModel(bytes, limits);
}

/** Reads a file's bytes after checking with fs.stat that it is a regular file within `maxFileBytes`. */
export async function readModelBytes(path: string, limits: ModelLimits = {}): Promise<Uint8Array> {
  const maxFileBytes = limits.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  const handle = await openForReading(path);
  try {
    const size = await statSize(handle, path);
    if (size > maxFileBytes) {
      throw new ModelFormatError('E_FILE_TOO_LARGE', `model file ${JSON.stringify(path)} is ${size} bytes, over the limit of ${maxFileBytes}`);
    }
    const bytes = new Uint8Array(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled).catch((error: unknown) => {
        throw unreadable(path, error);
      });
      if (bytesRead === 0) break; // the file shrank after stat; the format checks will report the truncation
      filled += bytesRead;
    }
    return filled === size ? bytes : bytes.subarray(0, filled);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * Reads and checks only a model file's header (for `inspect`): the first 8 bytes give the header length N,
 * then 8 + N bytes are read; the weights are not read at all. `maxFileBytes` is ignored, as nothing past the
 * header is read; `maxHeaderBytes` and the other limits apply.
 */
export async function readModelFileHeader(path: string, limits: ModelLimits = {}): Promise<ModelHeader> {
  const maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  const handle = await openForReading(path);
  try {
    const fileSize = await statSize(handle, path);
    const read = async (length: number): Promise<Uint8Array> => {
      const buffer = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        const { bytesRead } = await handle.read(buffer, filled, length - filled, filled).catch((error: unknown) => {
          throw unreadable(path, error);
        });
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.subarray(0, filled);
    };
    // Only the header is read, so maxFileBytes (a bound on what a full load reads) does not apply.
    const options = { ...limits, maxFileBytes: Number.MAX_SAFE_INTEGER, fileSize };
    const prefix = await read(Math.min(8, fileSize));
    if (prefix.length < 8) return readModelHeader(prefix, options);
    const headerLength = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
    // Read at most what the limit and the file allow; readModelHeader then reports exactly what is wrong.
    const wanted = headerLength > BigInt(Math.min(maxHeaderBytes, fileSize)) ? 8 : 8 + Number(headerLength);
    return readModelHeader(await read(wanted), options);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

async function openForReading(path: string): Promise<fsPromises.FileHandle> {
  try {
    return await fsPromises.open(path, 'r');
  } catch (error) {
    throw unreadable(path, error);
  }
}

async function statSize(handle: fsPromises.FileHandle, path: string): Promise<number> {
  let stats;
  try {
    stats = await handle.stat();
  } catch (error) {
    throw unreadable(path, error);
  }
  if (!stats.isFile()) throw new ModelFormatError('E_UNREADABLE', `cannot read model file ${JSON.stringify(path)}: it is not a regular file`);
  return stats.size;
}

function unreadable(path: string, error: unknown): ModelFormatError {
  if (error instanceof ModelFormatError) return error;
  const failure = new ModelFormatError('E_UNREADABLE', `cannot read model file ${JSON.stringify(path)}: ${osReason(error)}`);
  failure.cause = error;
  return failure;
}

/** "no such file or directory (ENOENT)" from a Node system error, or the error's message. */
function osReason(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Node's messages look like "ENOENT: no such file or directory, open '/x'"
    // (or "ENOSPC: no space left on device, write"); keep the human part.
    const match = /^[A-Z0-9_]+: (.*?)(?:, \w+(?: '.*')?)?$/.exec(error.message);
    const reason = match?.[1] ?? error.message;
    return code !== undefined && !reason.includes(code) ? `${reason} (${code})` : reason;
  }
  return String(error);
}
