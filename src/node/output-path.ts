/**
 * The rules for every path sparsegrad writes (model files, reports, JSON tables, charts, ONNX files), in one
 * place. The CLI calls these checks before any training, so a bad `--out` fails in milliseconds, and every
 * save calls them again just before it writes:
 *
 *   - nothing there: fine if the directory exists and is writable (the file is created);
 *   - a regular file: replaced whole, keeping its permissions, unless it is read-only (no write bit at all,
 *     or not writable by this user) — even root does not overwrite a file someone marked read-only;
 *   - a symbolic link: refused, unless the caller asks to follow it (`followSymlinks: true`, the CLI's
 *     `--follow-symlinks`); then its final target must itself be a regular file, which is replaced in place
 *     and the link is kept;
 *   - anything else (a directory, a FIFO, a character or block device, a socket): refused, never replaced.
 *
 * A report folder (the demo's `--out DIR`) may be missing (it is created; its parent must exist, as nothing
 * but the requested folder is ever created) or a directory; a symbolic link to a directory is followed only when asked; anything else is refused.
 * Every refusal is an OutputPathError (code E_OUTPUT_PATH) naming the path and what is there.
 */
import { accessSync, constants, lstatSync, mkdirSync, readlinkSync, realpathSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { OutputPathError } from '../errors.ts';
import { describeFileKind, errorCode, osReason } from './file-kind.ts';

/** How an output path may be used. */
export interface OutputOptions {
  /** Write through a symbolic link to its target (a regular file or a directory, as the case needs). Default false. */
  readonly followSymlinks?: boolean;
}

/** The hint appended to a refused symbolic link. */
const FOLLOW_HINT = 'pass --follow-symlinks (followSymlinks: true) to write through it';

/**
 * Checks that a file may be written at `path` under the rules above and returns the path to replace: `path`
 * itself, or with `followSymlinks` the link's final target. Throws OutputPathError.
 */
export function checkOutputPath(path: string, options: OutputOptions = {}): string {
  if (typeof path !== 'string' || path === '') throw new OutputPathError(`an output path must be a non-empty string, got ${JSON.stringify(path)}`);
  const stats = lstatOrNull(path, 'file');
  if (stats === null) {
    checkDirectoryWritable(dirname(path), path);
    return path;
  }
  if (stats.isSymbolicLink()) {
    if (options.followSymlinks !== true) {
      throw new OutputPathError(`will not write ${JSON.stringify(path)}: it is a symbolic link (to ${JSON.stringify(linkText(path))}); ${FOLLOW_HINT}`);
    }
    const target = resolveLink(path);
    checkExistingFile(target, lstatSync(target), ` (the target of the symbolic link ${JSON.stringify(path)})`);
    return target;
  }
  checkExistingFile(path, stats, '');
  return path;
}

/**
 * Checks that `dir` may hold written files (a report folder): missing, or a directory, or with
 * `followSymlinks` a symbolic link to one. Returns the directory to use. Throws OutputPathError.
 */
export function checkOutputDirectory(dir: string, options: OutputOptions = {}): string {
  if (typeof dir !== 'string' || dir === '') throw new OutputPathError(`an output directory must be a non-empty string, got ${JSON.stringify(dir)}`);
  const stats = lstatOrNull(dir, 'directory');
  if (stats === null) return dir;
  if (stats.isSymbolicLink()) {
    if (options.followSymlinks !== true) {
      throw new OutputPathError(`will not write into ${JSON.stringify(dir)}: it is a symbolic link (to ${JSON.stringify(linkText(dir))}); ${FOLLOW_HINT}`);
    }
    const target = resolveLink(dir);
    const targetStats = statSync(target);
    if (!targetStats.isDirectory()) throw new OutputPathError(`will not write into ${JSON.stringify(dir)}: its link target ${JSON.stringify(target)} is ${describeFileKind(targetStats)}, not a directory`);
    return target;
  }
  if (!stats.isDirectory()) throw new OutputPathError(`will not write into ${JSON.stringify(dir)}: it is ${describeFileKind(stats)}, not a directory`);
  return dir;
}

/** checkOutputDirectory, then creates the directory if it is missing (not its parents). Throws OutputPathError. */
export function prepareOutputDirectory(dir: string, options: OutputOptions = {}): string {
  const target = checkOutputDirectory(dir, options);
  try {
    if (lstatOrNull(target, 'directory') === null) mkdirSync(target);
  } catch (error) {
    throw new OutputPathError(`cannot create the directory ${JSON.stringify(dir)}: ${osReason(error)}`);
  }
  return target;
}

/**
 * Refuses if what is at `target` now is not what the check saw (`before`: the same file, or still nothing).
 * Called just before the rename that replaces it, to narrow the window between check and write.
 */
export function assertOutputUnchanged(target: string, before: Stats | null): void {
  const now = lstatOrNull(target, 'file');
  const same = before === null ? now === null : now !== null && now.isFile() && now.ino === before.ino && now.dev === before.dev;
  if (!same) {
    const what = now === null ? 'was removed' : `is now ${describeFileKind(now)}`;
    throw new OutputPathError(`will not replace ${JSON.stringify(target)}: it changed while the new file was being written (it ${what}); nothing was replaced`);
  }
}

/** lstat, or null when nothing is there; other failures (permissions, a file used as a directory) are refusals. */
export function lstatOrNull(path: string, what: 'file' | 'directory'): Stats | null {
  try {
    return lstatSync(path);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return null;
    throw new OutputPathError(`cannot write the ${what} ${JSON.stringify(path)}: ${osReason(error)}`);
  }
}

/** A regular file that this user may replace: writable, not read-only, in a writable directory. */
function checkExistingFile(path: string, stats: Stats, via: string): void {
  if (!stats.isFile()) {
    throw new OutputPathError(`will not write ${JSON.stringify(path)}${via}: it is ${describeFileKind(stats)}; only a regular file is ever replaced`);
  }
  // Root passes every access() check, so the mode bits decide for everyone: a file nobody may write stays.
  const mode = stats.mode & 0o777;
  if ((mode & 0o222) === 0 || !accessible(path, constants.W_OK)) {
    throw new OutputPathError(`will not replace ${JSON.stringify(path)}${via}: it is read-only (mode ${mode.toString(8).padStart(4, '0')})`);
  }
  checkDirectoryWritable(dirname(path), path);
}

function checkDirectoryWritable(directory: string, path: string): void {
  let stats: Stats;
  try {
    stats = statSync(directory);
  } catch (error) {
    const reason = errorCode(error) === 'ENOENT' ? 'does not exist' : osReason(error);
    throw new OutputPathError(`cannot write ${JSON.stringify(path)}: the directory ${JSON.stringify(directory)} ${reason}`);
  }
  if (!stats.isDirectory()) throw new OutputPathError(`cannot write ${JSON.stringify(path)}: ${JSON.stringify(directory)} is ${describeFileKind(stats)}, not a directory`);
  if (!accessible(directory, constants.W_OK | constants.X_OK)) throw new OutputPathError(`cannot write ${JSON.stringify(path)}: the directory ${JSON.stringify(directory)} is not writable`);
}

function resolveLink(path: string): string {
  try {
    return realpathSync(path);
  } catch (error) {
    const reason = errorCode(error) === 'ENOENT' ? `it points to nothing (${JSON.stringify(linkText(path))} does not exist)` : `it cannot be resolved: ${osReason(error)}`;
    throw new OutputPathError(`will not write through the symbolic link ${JSON.stringify(path)}: ${reason}`);
  }
}

function linkText(path: string): string {
  try {
    return readlinkSync(path);
  } catch {
    return '?';
  }
}

function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}
