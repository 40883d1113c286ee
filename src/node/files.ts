/**
 * Atomic saves, for every file sparsegrad writes (model files, reports, JSON tables, charts, ONNX files).
 *
 * The bytes go to a temporary file next to the target (temp-files.ts: removed on failure, on SIGINT/SIGTERM,
 * and swept when stale), which is flushed to disk (fsync) and renamed over the target; finally the
 * directory is fsynced so the rename itself survives a crash. A reader sees the old file or the complete new
 * one, never half a file. Before anything is written the path is checked by the output rules
 * (output-path.ts: only a missing or regular, writable file is ever replaced; symbolic links only when asked),
 * and checked again just before the rename. A replaced file keeps its permissions.
 */
import * as fsPromises from 'node:fs/promises';
import { dirname } from 'node:path';
import { OutputPathError, SparsegradError } from '../errors.ts';
import { osReason } from './file-kind.ts';
import { assertOutputUnchanged, checkOutputPath, lstatOrNull, type OutputOptions } from './output-path.ts';
import { sweepStaleTemporaries, temporaryPathFor, trackTemporary } from './temp-files.ts';

/** The file-system calls a save makes; tests pass a wrapper that fails on purpose. */
export type SaveFileSystem = Pick<typeof fsPromises, 'open' | 'rename' | 'unlink'>;

/** Largest piece handed to one write call. */
const WRITE_CHUNK_BYTES = 1 << 20;

/**
 * Writes a text or binary file atomically under the output rules (see the file comment).
 * Throws OutputPathError (E_OUTPUT_PATH) for a path it will not write, SparsegradError('E_WRITE_FAILED') if
 * the write itself fails; either way the target is untouched and no temporary file is left.
 */
export async function writeFileAtomically(path: string, content: string | Uint8Array, options: OutputOptions = {}): Promise<void> {
  await saveFileAtomically(path, typeof content === 'string' ? new TextEncoder().encode(content) : content, fsPromises, options);
}

/** @internal The atomic save with the file-system calls passed in, so tests can make a step fail. */
export async function saveFileAtomically(path: string, bytes: Uint8Array, fs: SaveFileSystem, options: OutputOptions = {}): Promise<void> {
  const target = checkOutputPath(path, options);
  const before = lstatOrNull(target, 'file');
  sweepStaleTemporaries(target);
  const temporary = temporaryPathFor(target);
  const untrack = trackTemporary(temporary);
  let handle: fsPromises.FileHandle | undefined;
  try {
    // 'wx': create a fresh file, failing if the name is somehow taken, never truncating someone else's file.
    handle = await fs.open(temporary, 'wx', 0o644);
    if (before !== null) await handle.chmod(before.mode & 0o777); // permission bits only, never setuid/setgid
    for (let offset = 0; offset < bytes.length; ) {
      const { bytesWritten } = await handle.write(bytes, offset, Math.min(WRITE_CHUNK_BYTES, bytes.length - offset), offset);
      if (bytesWritten <= 0) throw new Error('write made no progress');
      offset += bytesWritten;
    }
    await handle.sync();
    await handle.close();
    handle = undefined;
    assertOutputUnchanged(target, before);
    await fs.rename(temporary, target);
  } catch (error) {
    if (handle !== undefined) await handle.close().catch(() => undefined);
    await fs.unlink(temporary).catch(() => undefined);
    throw error instanceof OutputPathError ? error : writeFailed(path, error);
  } finally {
    untrack();
  }
  await syncDirectory(dirname(target), fs);
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
