/**
 * Keeps the layers one-directional: tensor ← autograd ← nn ← prune ← study; tensor ← sparse ← prune; and keeps
 * Node APIs out of the browser-safe core. Fails naming the offending import.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src/', import.meta.url).pathname;

/** Which top-level parts of src/ each part may import from (besides itself and errors.ts). */
const ALLOWED: Record<string, readonly string[]> = {
  wasm: [],
  tensor: ['wasm'],
  autograd: ['tensor'],
  data: ['tensor'],
  nn: ['autograd', 'tensor', 'data'],
  sparse: ['tensor', 'wasm'],
  prune: ['nn', 'autograd', 'tensor', 'data'],
  // The nn → sparse compiler: a trained model in, a compiled inference model out.
  compile: ['nn', 'sparse'],
  // The study harness (comparison grids, sweeps, sensitivity, their charts) sits above prune, and quantizes a
  // grid's pruned models for the compression axis (issue 14).
  study: ['prune', 'quantize', 'nn', 'autograd', 'tensor', 'data', 'report'],
  io: ['nn', 'sparse', 'tensor'],
  // Quantizers (issue 14) sit above nn like prune: they quantize and fine-tune live models, and hand over codes
  // in the model file's own record type (io/encodings/quantized-values.ts), so the codes trained are the codes stored.
  quantize: ['nn', 'autograd', 'tensor', 'data', 'io'],
  // The inference-only entry (sparsegrad/infer): model files in, compiled models out; no nn, autograd or prune.
  infer: ['io', 'sparse', 'tensor'],
  report: [],
  node: ['*'],
  cli: ['*'],
};
const NODE_ONLY = new Set(['node', 'cli']);

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs: string[] = [];
  for (const m of text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    specs.push((m[1] ?? m[2])!);
  }
  return specs;
}

describe('architecture', () => {
  const files = sourceFiles(SRC);

  it('finds the source tree', () => {
    expect(files.length).toBeGreaterThan(20);
  });

  it('imports only in the allowed directions', () => {
    const violations: string[] = [];
    for (const file of files) {
      const rel = relative(SRC, file);
      const part = rel.includes('/') ? rel.split('/')[0]! : '(root)';
      if (part === '(root)') continue; // the package entries (index.ts, kernels.ts) and errors.ts
      const allowed = ALLOWED[part];
      if (allowed === undefined) {
        violations.push(`${rel}: src/${part} is not a known layer; add it to ALLOWED`);
        continue;
      }
      for (const spec of importsOf(file)) {
        if (!spec.startsWith('.')) continue;
        const target = relative(SRC, join(file, '..', spec));
        const targetPart = target.includes('/') ? target.split('/')[0]! : '(root)';
        if (targetPart === part || target === 'errors.ts' || allowed.includes('*')) continue;
        if (!allowed.includes(targetPart)) violations.push(`${rel} imports ${spec} (src/${part} may not depend on src/${targetPart})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('keeps Node APIs out of the browser-safe core', () => {
    const violations: string[] = [];
    for (const file of files) {
      const rel = relative(SRC, file);
      if (NODE_ONLY.has(rel.split('/')[0]!)) continue;
      for (const spec of importsOf(file)) {
        if (spec.startsWith('node:') || ['fs', 'path', 'zlib', 'os', 'child_process'].includes(spec)) violations.push(`${rel} imports ${spec}`);
      }
      const text = readFileSync(file, 'utf8').replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '');
      if (/\bprocess\.|\bBuffer\.|\brequire\(/.test(text)) violations.push(`${rel} uses process, Buffer or require`);
    }
    expect(violations).toEqual([]);
  });
});
