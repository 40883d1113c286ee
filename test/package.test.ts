/**
 * The package as users get it. Every other test imports src/ (vitest aliases `sparsegrad` to the sources),
 * so this one builds it: `tsc -p tsconfig.build.json` into a temporary copy laid out like the npm tarball
 * (package.json plus its "files": dist, bin, data/digits, data/README.md), then runs the BUILT code only —
 * bin/sparsegrad.js --version, a one-epoch train on the built-in digits, inspect of the file it wrote — and
 * imports `sparsegrad` and `sparsegrad/node` by name from a project that has the package in node_modules.
 * Nothing is written inside the repository (the test checks `git status` before and after).
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[]; bin: Record<string, string> };
const temp = mkdtempSync(join(tmpdir(), 'sparsegrad-package-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

function run(args: readonly string[], cwd: string): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } });
}

function gitStatus(): string | null {
  const status = spawnSync('git', ['status', '--porcelain', '--ignored', '--untracked-files=all'], { cwd: ROOT, encoding: 'utf8' });
  return status.status === 0 ? status.stdout : null;
}

describe('the built package (dist/ through bin/sparsegrad.js)', () => {
  it('builds, runs its CLI and imports by name, without touching the repository', () => {
    const before = gitStatus();
    const pkg = join(temp, 'node_modules', 'sparsegrad');
    mkdirSync(pkg, { recursive: true });
    cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
    for (const entry of manifest.files.filter((f) => f !== 'dist')) cpSync(join(ROOT, entry), join(pkg, entry), { recursive: true });
    const tsc = run([join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkg, 'dist')], ROOT);
    expect(tsc.status, tsc.stdout + tsc.stderr).toBe(0);

    const bin = join(pkg, manifest.bin['sparsegrad']!);
    const version = run([bin, '--version'], temp);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout.trim()).toBe(`sparsegrad ${manifest.version}`);

    const model = join(temp, 'model.safetensors');
    const train = run([bin, 'train', '--data', 'digits', '--arch', '784-16-10', '--epochs', '1', '--seed', '1', '--out', model, '--json', '--quiet'], temp);
    expect(train.status, train.stderr).toBe(0);
    const trained = JSON.parse(train.stdout.trim().split('\n').pop()!) as { epochs: number; testAccuracy: number; parameters: number };
    expect(trained).toMatchObject({ epochs: 1, parameters: 784 * 16 + 16 + 16 * 10 + 10 });
    expect(trained.testAccuracy).toBeGreaterThan(0.5);

    const inspect = run([bin, 'inspect', model, '--json'], temp);
    expect(inspect.status, inspect.stderr).toBe(0);
    expect(inspect.stdout).toContain('layers.0.weight');

    // A project that depends on the package: `sparsegrad` and `sparsegrad/node` resolve to the built files.
    writeFileSync(join(temp, 'package.json'), '{ "type": "module", "private": true }\n');
    const script = `
      const core = await import('sparsegrad');
      const node = await import('sparsegrad/node');
      const model = core.mlp([4, 3, 2], { seed: 1 });
      const loaded = await node.loadModelFile(${JSON.stringify(model)});
      console.log(JSON.stringify({
        core: import.meta.resolve('sparsegrad'), node: import.meta.resolve('sparsegrad/node'),
        parameters: model.parameters().length, loadedLayers: loaded.spec.layers.length,
      }));`;
    const imported = run(['--input-type=module', '-e', script], temp);
    expect(imported.status, imported.stderr).toBe(0);
    const answer = JSON.parse(imported.stdout) as { core: string; node: string; parameters: number; loadedLayers: number };
    expect(fileURLToPath(answer.core)).toBe(join(pkg, 'dist/index.js'));
    expect(fileURLToPath(answer.node)).toBe(join(pkg, 'dist/node/index.js'));
    expect(answer.parameters).toBe(4);
    expect(answer.loadedLayers).toBe(3);

    if (before !== null) expect(gitStatus()).toBe(before);
  }, 120_000);
});
