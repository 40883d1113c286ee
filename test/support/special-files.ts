/**
 * Special files for the hostile-input tests, made only inside a temporary directory the test created:
 * named pipes (FIFOs) and device nodes (with mknod, as root). Tests never touch the system's /dev.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the system temp directory, and a function that removes it. */
export function scratchDirectory(prefix: string): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `sparsegrad-${prefix}-`));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Creates a FIFO at `path` (which must be inside a scratch directory). */
export function makeFifo(path: string): string {
  execFileSync('mkfifo', [path]);
  return path;
}

/** Well-known character devices, by (major, minor), recreated as nodes in a scratch directory. */
export const DEVICES = { null: [1, 3], zero: [1, 5], full: [1, 7] } as const;

/** True if this process may create device nodes (root, and a file system that allows them). */
export function canMakeDevices(): boolean {
  const { dir, remove } = scratchDirectory('mknod-probe');
  try {
    return spawnSync('mknod', [join(dir, 'probe'), 'c', '1', '3'], { stdio: 'ignore' }).status === 0;
  } finally {
    remove();
  }
}

/** Creates a character device node like /dev/<kind> at `path`, inside a scratch directory. */
export function makeDevice(path: string, kind: keyof typeof DEVICES): string {
  const [major, minor] = DEVICES[kind];
  execFileSync('mknod', [path, 'c', String(major), String(minor)]);
  return path;
}

/**
 * Guards a test against a reader that would block on a FIFO: after `ms`, a helper process opens the FIFO for
 * writing and closes it, which releases a blocked open (the reader then sees an empty file). Returns a
 * function that stops the helper (call it when the test ends).
 */
export function unblockFifoLater(path: string, ms: number): () => void {
  const helper = spawn('sh', ['-c', `sleep ${ms / 1000}; : > "$1"`, 'sh', path], { stdio: 'ignore' });
  return () => {
    helper.kill('SIGKILL');
  };
}
