/**
 * The package as users get it: `npm pack` (which runs the clean build) in a temporary copy of the package's
 * sources, `npm install` of the tarball into an empty directory, then the installed package is used the way
 * the README says — `sparsegrad bench model --json` on a model file, `sparsegrad import`, and
 * `import 'sparsegrad/infer'` from Node — and checked for what it must and must not contain (source maps that
 * carry their sources, no tests or examples). It also runs without the built-in digits (data/ removed), which
 * the package does not need for these commands.
 *
 * Everything happens in one temporary directory (npm's cache included). About half a minute, most of it tsc.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sparsegrad-pack-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const npm = (args: string[], cwd: string): string =>
  execFileSync('npm', [...args, '--cache', join(work, 'npm-cache'), '--no-audit', '--no-fund', '--loglevel', 'error'], { cwd, encoding: 'utf8', timeout: 180_000 });

describe('the packed package', () => {
  it('installs into an empty directory and runs bench model, import and sparsegrad/infer from there', () => {
    // A copy of what the package is built from, so the build writes nothing in the repository.
    const source = join(work, 'source');
    mkdirSync(source);
    for (const entry of ['package.json', 'README.md', 'LICENSE', 'tsconfig.base.json', 'tsconfig.build.json', 'src', 'bin', 'data']) {
      cpSync(join(ROOT, entry), join(source, entry), { recursive: true });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'));
    const packed = JSON.parse(npm(['pack', '--json', '--pack-destination', work], source)) as [{ filename: string; files: { path: string }[]; size: number }];
    const files = packed[0].files.map((f) => f.path);
    console.log(`npm pack: ${files.length} files, ${(packed[0].size / 1024).toFixed(0)} KiB packed`);
    expect(files).toEqual(expect.arrayContaining(['dist/index.js', 'dist/infer/index.js', 'dist/infer/index.d.ts', 'dist/node/index.js', 'dist/cli/run.js', 'bin/sparsegrad.js', 'data/digits/t10k-images-idx3-ubyte.gz', 'README.md', 'LICENSE']));
    expect(files.filter((f) => /^(src|test|examples|bench|experiments|scripts|tools)\//.test(f))).toEqual([]);

    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
    npm(['install', '--offline', join(work, packed[0].filename)], app);
    const installed = join(app, 'node_modules', 'sparsegrad');

    // Source maps resolve: each carries the TypeScript it was compiled from.
    const map = JSON.parse(readFileSync(join(installed, 'dist/infer/pixels.js.map'), 'utf8')) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sourcesContent?.[0]).toContain('export function pixelsToInput');

    // The commands and the inference entry work without the built-in digits.
    rmSync(join(installed, 'data'), { recursive: true });
    const model = join(ROOT, 'examples/browser/models/sparse.safetensors');
    const bin = join(app, 'node_modules', '.bin', 'sparsegrad');
    const bench = execFileSync(bin, ['bench', 'model', '--model', model, '--batch', '1', '--backend', 'js', '--json'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    const result = JSON.parse(bench.trim().split('\n').pop()!) as { speedups: { backend: string; median: number }[] };
    expect(result.speedups.map((s) => s.backend)).toEqual(['js']);
    expect(result.speedups[0]!.median).toBeGreaterThan(0);

    // Without data/, only what needs the digits fails, and says why (exit 3).
    const noDigits = spawnSync(bin, ['bench', 'model', '--model', model, '--data', 'digits'], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    expect(noDigits.status).toBe(3);
    expect(noDigits.stderr).toMatch(/the built-in digits are missing/);

    const imported = join(work, 'imported.safetensors');
    execFileSync(bin, ['import', '--from', 'onnx', join(ROOT, 'test/fixtures/import/matmul-add.onnx'), '--out', imported], { cwd: app, encoding: 'utf8', timeout: 60_000 });
    writeFileSync(join(app, 'infer.mjs'), `
      import { readFileSync } from 'node:fs';
      import { compileModelBytes } from 'sparsegrad/infer';
      const model = await compileModelBytes(readFileSync(${JSON.stringify(model)}));
      console.log(JSON.stringify({ backend: model.backend, classes: model.predictClasses(new Float32Array(784), 1)[0] }));
    `);
    const inferred = JSON.parse(execFileSync(process.execPath, ['infer.mjs'], { cwd: app, encoding: 'utf8', timeout: 60_000 }).trim()) as { backend: string; classes: number };
    expect(inferred.backend).toBe('wasm-simd');
    expect(inferred.classes).toBeGreaterThanOrEqual(0);
    expect(readdirSync(work)).toContain('imported.safetensors');
  }, 240_000);
});
