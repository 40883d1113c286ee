/** The README's examples run, and print what they claim (with short trainings). */
import { readdirSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';

const dir = new URL('../examples/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts')).sort();

describe('examples', () => {
  afterEach(() => {
    vi.restoreAllMocks();
    delete process.env['EPOCHS'];
  });

  it('exist', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  for (const file of files) {
    it(`${file} runs`, async () => {
      process.env['EPOCHS'] = '1';
      const lines: string[] = [];
      vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void lines.push(args.map(String).join(' ')));
      await import(new URL(file, dir).href);
      const text = lines.join('\n');
      expect(text.length).toBeGreaterThan(0);
      expect(text).not.toMatch(/NaN|false/);
      if (file.startsWith('03')) expect(text).toMatch(/wasm-simd kernels at batch 64: .*same predictions: true/);
      if (file.startsWith('01')) expect(text).toMatch(/gradcheck ok: true/);
      if (file.startsWith('05')) {
        // the literal rule zeroes every matrix; the others report a real sparsity and an accuracy
        expect(text).toMatch(/listing 1 as written: 100\.0% sparse, test accuracy \d+\.\d%/);
        expect(text).toMatch(/listing 1 as intended, \|∂L\/∂w\| ≤ 1e-3 per weight: [1-9]\d?\.\d% sparse/);
        expect(text).toMatch(/one-shot to 90\.0%, no retraining, test accuracy by score: \|∂L\/∂w\| \d+\.\d%, \|w\| \d+\.\d%, \|w·∂L\/∂w\| \d+\.\d%/);
        expect(text).toMatch(/gradual pruning by \|w·∂L\/∂w\| to 90\.0% in 1 epoch: test accuracy/);
        expect(text).toMatch(/listing 2 as intended, \|w\| ≤ 1e-3 zeroed after every epoch: [0-4]\.\d% sparse/);
        expect(text).toMatch(/threshold \|w\| < \d\.\d\d·std\(w\) after every step, from scratch: [1-9]\d\.\d% sparse/);
        expect(text).toMatch(/top-k \|w\| kept after every step, from scratch: [1-9]\d?\.\d% sparse/);
      }
      if (file.startsWith('06')) {
        expect(text).toMatch(/methods: oneshot, .*rigl, linear-steps/);
        expect(text).toMatch(/step 3\/3 at optimizer step \d+: 90\.0% pruned/);
        expect(text).toMatch(/linear-steps \+ rms-weighted-magnitude: 90\.0% pruned, test accuracy \d+\.\d+%/);
        expect(text).toMatch(/refused: method 'linear-steps': option 'steps' must be an integer in \[1, 100\], got 0/);
      }
    });
  }
});
