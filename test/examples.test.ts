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
      if (file.startsWith('06')) {
        expect(text).toMatch(/methods: oneshot, .*rigl, linear-steps/);
        expect(text).toMatch(/step 3\/3 at optimizer step \d+: 90\.0% pruned/);
        expect(text).toMatch(/linear-steps \+ rms-weighted-magnitude: 90\.0% pruned, test accuracy \d+\.\d+%/);
        expect(text).toMatch(/refused: method 'linear-steps': option 'steps' must be an integer in \[1, 100\], got 0/);
      }
    });
  }
});
