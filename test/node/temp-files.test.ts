/**
 * Temporary files of atomic saves (issue 12, item 8): an interrupted save (SIGINT, SIGTERM, process.exit)
 * leaves no `*.tmp-<pid>-<hex>` file, and the next save sweeps stale ones that a killed process left, without
 * touching anything else.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomically } from '../../src/node/files.ts';
import { sweepStaleTemporaries } from '../../src/node/temp-files.ts';
import { scratchDirectory } from '../support/special-files.ts';

const scratch = scratchDirectory('temp');
afterAll(scratch.remove);
let caseNumber = 0;
const freshDir = (): string => {
  const dir = join(scratch.dir, `case-${caseNumber++}`);
  mkdirSync(dir);
  return dir;
};
const SLOW_SAVE = new URL('../support/slow-save.ts', import.meta.url).pathname;

/** The id of a process that has already ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

/** Runs slow-save.ts until it is mid-save, then interrupts it; resolves with how the child ended. */
function interruptedSave(target: string, interrupt: NodeJS.Signals | 'exit'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    const args = ['--import', 'tsx', SLOW_SAVE, target, ...(interrupt === 'exit' ? ['exit'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('the child did not finish in time'));
    }, 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      if (interrupt !== 'exit' && chunk.toString().includes('writing')) child.kill(interrupt);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal });
    });
  });
}

describe('an interrupted save leaves no temporary file', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} during a save: the temporary file is removed and the process still ends by ${signal}`, async () => {
      const dir = freshDir();
      writeFileSync(join(dir, 'model.safetensors'), 'old');
      const ended = await interruptedSave(join(dir, 'model.safetensors'), signal);
      expect(ended.signal).toBe(signal);
      expect(readdirSync(dir)).toEqual(['model.safetensors']);
    });
  }

  it('process.exit during a save removes the temporary file too', async () => {
    const dir = freshDir();
    const ended = await interruptedSave(join(dir, 'report.json'), 'exit');
    expect(ended.code).toBe(0);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('stale temporaries', () => {
  it('the next save to the same target sweeps those of ended processes, and nothing else', async () => {
    const dir = freshDir();
    const dead = deadPid();
    const stale = `model.safetensors.tmp-${dead}-0123456789ab`;
    const live = `model.safetensors.tmp-${process.ppid}-0123456789ab`; // a process that is running
    const other = `other.safetensors.tmp-${dead}-0123456789ab`; // another target's
    const oddName = `model.safetensors.tmp-${dead}-xyz`; // not the pattern
    const linkName = `model.safetensors.tmp-${dead}-aaaaaaaaaaaa`; // the pattern, but a symlink
    for (const name of [stale, live, other, oddName]) writeFileSync(join(dir, name), 'x');
    symlinkSync(join(dir, other), join(dir, linkName));
    await writeFileAtomically(join(dir, 'model.safetensors'), 'new');
    expect(readdirSync(dir).sort()).toEqual([linkName, live, 'model.safetensors', oddName, other].sort());
  });

  it('sweepStaleTemporaries reports what it removed and survives a missing directory', () => {
    const dir = freshDir();
    const name = `a.bin.tmp-${deadPid()}-ffffffffffff`;
    writeFileSync(join(dir, name), 'x');
    expect(sweepStaleTemporaries(join(dir, 'a.bin'))).toEqual([name]);
    expect(sweepStaleTemporaries(join(dir, 'missing', 'a.bin'))).toEqual([]);
  });
});
