import { spawnSync } from 'node:child_process';

/**
 * A python3 that imports torch: the one on PATH, else the system one (bench/ resolves it the same way); null
 * when neither does (the caller skips with a visible notice).
 */
export function torchPython(): string | null {
  for (const python of ['python3', '/usr/bin/python3']) {
    if (spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore', timeout: 60_000 }).status === 0) return python;
  }
  return null;
}
