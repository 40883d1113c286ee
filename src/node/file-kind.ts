import type { Stats } from 'node:fs';

/** What a file-system object is, in words for error messages: "a regular file", "a FIFO (named pipe)", ... */
export function describeFileKind(stats: Stats): string {
  if (stats.isFile()) return 'a regular file';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symbolic link';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'an unknown kind of file';
}

/** "no such file or directory (ENOENT)" from a Node system error, or the error's message. */
export function osReason(error: unknown): string {
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

/** The error's system code (ENOENT, EACCES, ...), if it has one. */
export function errorCode(error: unknown): string | undefined {
  return error instanceof Error ? (error as NodeJS.ErrnoException).code : undefined;
}
