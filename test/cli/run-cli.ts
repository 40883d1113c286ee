import { main } from '../../src/cli/main.ts';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The last stdout line parsed as JSON (for --json runs), or null. */
  json: Record<string, unknown> | null;
}

/** Runs the CLI in this process, capturing what it writes. */
export async function runCli(argv: string[]): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  // main's return value is the exit code (src/cli/run.ts assigns it to process.exitCode), so a command
  // that set process.exitCode itself would be overwritten there: that must show here as a failing test.
  let code: number;
  try {
    code = await main(argv);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  const last = stdout.trim().split('\n').pop() ?? '';
  let json: Record<string, unknown> | null = null;
  try {
    json = last.startsWith('{') ? (JSON.parse(last) as Record<string, unknown>) : null;
  } catch {
    json = null;
  }
  return { code, stdout, stderr, json };
}
