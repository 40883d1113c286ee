/**
 * Runs the real `sparsegrad` entry point (src/cli/run.ts under tsx) in a child process, for what an
 * in-process run cannot show: a closed stdout (EPIPE), or a command that would block forever on a FIFO
 * (the child is killed after `timeoutMs`, so the test fails instead of hanging).
 */
import { spawn } from 'node:child_process';

const RUN = new URL('../../src/cli/run.ts', import.meta.url).pathname;

export interface ProcessResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True if the child had to be killed at the timeout. */
  readonly timedOut: boolean;
}

export function runCliProcess(args: readonly string[], options: { timeoutMs?: number; closeStdout?: boolean } = {}): Promise<ProcessResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', RUN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    if (options.closeStdout === true) child.stdout.destroy();
    else child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 30_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
