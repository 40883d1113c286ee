/**
 * The temporary files of atomic saves: `<target>.tmp-<pid>-<12 hex digits>`, next to the target.
 *
 * A save that is interrupted must not leave one behind. While a save is in progress its temporary file is
 * tracked here, and handlers for SIGINT, SIGTERM and SIGHUP (and for `exit`, which covers process.exit) are
 * installed; a signal removes every tracked file and is then re-raised, so the process ends exactly as it
 * would have (killed by that signal) unless the application has handlers of its own. When no save is in
 * progress no handler is installed, so the library changes nothing about how a process reacts to signals.
 *
 * What a kill -9 or a power cut leaves behind is swept by the next save to the same target: files of exactly
 * this pattern, for that target, whose process id no longer runs. Nothing else is ever removed (not another
 * target's temporaries, not a live process's, not a symlink or directory that happens to match).
 */
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
/** Temporary files of saves in progress in this process. */
const tracked = new Set<string>();

/** A fresh temporary file name next to `target`. */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `${basename(target)}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
}

/** Tracks a temporary file until the returned function is called (after it was renamed or removed). */
export function trackTemporary(path: string): () => void {
  if (tracked.size === 0) installHandlers();
  tracked.add(path);
  return () => {
    tracked.delete(path);
    if (tracked.size === 0) removeHandlers();
  };
}

/**
 * Removes stale temporaries of `target`: regular files named `<target>.tmp-<pid>-<hex>` whose process has
 * ended. Returns the names removed. Never throws (a sweep that cannot run leaves the files).
 */
export function sweepStaleTemporaries(target: string): string[] {
  const directory = dirname(target);
  const prefix = `${basename(target)}.tmp-`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /^(\d+)-[0-9a-f]{12}$/.exec(name.slice(prefix.length));
    if (match === null) continue;
    const path = join(directory, name);
    const pid = Number(match[1]);
    if (tracked.has(path) || processRuns(pid)) continue;
    try {
      if (!lstatSync(path).isFile()) continue;
      unlinkSync(path);
      removed.push(name);
    } catch {
      // Gone already, or not ours to remove.
    }
  }
  return removed;
}

/** True if a process with this id exists (EPERM: it exists but belongs to someone else). */
function processRuns(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function removeTracked(): void {
  for (const path of tracked) {
    try {
      unlinkSync(path);
    } catch {
      // Already renamed into place or removed.
    }
  }
  tracked.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  removeTracked();
  removeHandlers();
  // With no other listener, re-raise: the default action ends the process as the signal intended.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function installHandlers(): void {
  for (const signal of SIGNALS) process.on(signal, onSignal);
  process.on('exit', removeTracked);
}

function removeHandlers(): void {
  for (const signal of SIGNALS) process.off(signal, onSignal);
  process.off('exit', removeTracked);
}
