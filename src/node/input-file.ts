/**
 * The rules for every file sparsegrad reads (model files, IDX data and labels, images, JSON pixels), in one
 * place:
 *
 *   - The path must name a regular file (a symbolic link to one is fine: reading changes nothing). A
 *     directory, FIFO, device or socket is refused before it is opened: opening a FIFO blocks until some
 *     writer comes, and a device can be endless (/dev/zero) or act on being opened.
 *   - It is opened with O_NONBLOCK | O_NOCTTY, so even a FIFO swapped in after the check cannot block the
 *     open, and checked again on the open descriptor (fstat): still a regular file, and the same one (device
 *     and inode) the path check saw.
 *   - Its size, from fstat, must be within the caller's limit before anything is read.
 *   - Reads stop at that size. A file that grows, shrinks or is rewritten while it is read is refused
 *     (E_FILE_CHANGED) instead of being read without bound or half old, half new.
 *
 * Failures become the caller's error type through `fail` (ModelFormatError for model files, DataFormatError
 * for data), with the codes below, and always name the path.
 */
import * as nodeFs from 'node:fs';
import { describeFileKind, osReason } from './file-kind.ts';

/** Why an input file was refused. */
export type InputFailure = 'E_UNREADABLE' | 'E_FILE_TOO_LARGE' | 'E_FILE_CHANGED';

/** The file-system calls a read makes; tests pass a wrapper that changes the file between calls. */
export type InputFileSystem = Pick<typeof nodeFs, 'statSync' | 'openSync' | 'fstatSync' | 'readSync' | 'closeSync'>;

/** What is being read, its size limit, and how to report a refusal. */
export interface InputSpec {
  /** Names the file in messages: "model file", "IDX file", "image". */
  readonly what: string;
  /** Largest size accepted, in bytes. */
  readonly maxBytes: number;
  /** Builds the error thrown for a refusal (the message already names the path). */
  readonly fail: (code: InputFailure, message: string) => Error;
  /** @internal For tests: the file-system calls to use. */
  readonly fileSystem?: InputFileSystem;
}

/** An open, checked input file. Read it with readInputBytes, then finishInputFile (or closeInputFile). */
export interface InputFile {
  readonly path: string;
  readonly fd: number;
  /** Its size in bytes when it was opened; reads never go past it. */
  readonly size: number;
  readonly spec: InputSpec;
  readonly stats: nodeFs.Stats;
}

const OPEN_FLAGS = nodeFs.constants.O_RDONLY | nodeFs.constants.O_NONBLOCK | nodeFs.constants.O_NOCTTY;

/** Opens `path` under the rules above. Throws the spec's error (E_UNREADABLE, E_FILE_TOO_LARGE). */
export function openInputFile(path: string, spec: InputSpec): InputFile {
  const fs = spec.fileSystem ?? nodeFs;
  const where = `${spec.what} ${JSON.stringify(path)}`;
  let seen: nodeFs.Stats;
  try {
    seen = fs.statSync(path);
  } catch (error) {
    throw spec.fail('E_UNREADABLE', `cannot read ${where}: ${osReason(error)}`);
  }
  if (!seen.isFile()) throw spec.fail('E_UNREADABLE', `cannot read ${where}: it is ${describeFileKind(seen)}, not a regular file`);
  let fd: number;
  try {
    fd = fs.openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw spec.fail('E_UNREADABLE', `cannot read ${where}: ${osReason(error)}`);
  }
  try {
    const stats = fs.fstatSync(fd);
    if (!stats.isFile() || stats.ino !== seen.ino || stats.dev !== seen.dev) {
      throw spec.fail('E_FILE_CHANGED', `cannot read ${where}: it was replaced (by ${describeFileKind(stats)}) between the check and the open`);
    }
    if (stats.size > spec.maxBytes) {
      throw spec.fail('E_FILE_TOO_LARGE', `${where} is ${stats.size} bytes, over the limit of ${spec.maxBytes}`);
    }
    return { path, fd, size: stats.size, spec, stats };
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
}

/** Reads exactly `length` bytes at `position` (within the size seen at open). Throws E_FILE_CHANGED if it shrank. */
export function readInputBytes(file: InputFile, position: number, length: number): Uint8Array {
  const fs = file.spec.fileSystem ?? nodeFs;
  if (position + length > file.size) throw new RangeError(`readInputBytes: ${position}+${length} is past the size ${file.size}`);
  const buffer = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    let count: number;
    try {
      count = fs.readSync(file.fd, buffer, filled, length - filled, position + filled);
    } catch (error) {
      throw file.spec.fail('E_UNREADABLE', `cannot read ${file.spec.what} ${JSON.stringify(file.path)}: ${osReason(error)}`);
    }
    if (count === 0) throw changed(file, `it shrank below ${file.size} bytes`);
    filled += count;
  }
  return buffer;
}

/** Checks that the file did not grow or change while it was read, and closes it. */
export function finishInputFile(file: InputFile): void {
  const fs = file.spec.fileSystem ?? nodeFs;
  try {
    const probe = new Uint8Array(1);
    if (fs.readSync(file.fd, probe, 0, 1, file.size) > 0) throw changed(file, `it grew past ${file.size} bytes`);
    const now = fs.fstatSync(file.fd);
    if (now.size !== file.size || now.mtimeMs !== file.stats.mtimeMs) throw changed(file, 'it was modified');
  } finally {
    closeInputFile(file);
  }
}

/** Closes the file, ignoring errors (for paths that already failed). */
export function closeInputFile(file: InputFile): void {
  try {
    (file.spec.fileSystem ?? nodeFs).closeSync(file.fd);
  } catch {
    // Closing a descriptor that read fine cannot lose data; nothing to report.
  }
}

/** Reads a whole input file under the rules above. Memory: exactly its size, at most `spec.maxBytes`. */
export function readInputFile(path: string, spec: InputSpec): Uint8Array {
  const file = openInputFile(path, spec);
  let bytes: Uint8Array;
  try {
    bytes = readInputBytes(file, 0, file.size);
  } catch (error) {
    closeInputFile(file);
    throw error;
  }
  finishInputFile(file);
  return bytes;
}

function changed(file: InputFile, how: string): Error {
  return file.spec.fail('E_FILE_CHANGED', `${file.spec.what} ${JSON.stringify(file.path)} changed while it was read (${how}); nothing was loaded`);
}
