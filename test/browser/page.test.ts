/**
 * The browser example (examples/browser/) in a real headless Chromium: served by the example's own static
 * server (cross-origin isolated), with the library bundled from src/infer as an application would ship it.
 * The test feeds a known digit through the page's real path (canvas pixels → pixelsToInput → both models) and
 * checks that the page shows the classes Node computes from the same pixels, on the WebAssembly SIMD backend
 * and on the TypeScript fallback (?backend=js), with no console error and no failed request.
 *
 * Runs where Chromium is installed (/usr/bin/chromium, as .ci/run installs it); elsewhere it is skipped with a
 * notice.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serve, type RunningServer } from '../../examples/browser/serve.ts';
import { compileModelBytesSync, pixelsToInput } from '../../src/infer/index.ts';
import { loadDigits } from '../../src/node/data.ts';
import { bundleEntry } from '../support/bundle.ts';
import { checkUrlInChromium, findChromium } from '../support/chromium.ts';

const chromium = findChromium();
if (chromium === undefined) console.warn('browser/page.test.ts: SKIPPED — no Chromium at /usr/bin/chromium (apt-get install chromium, or set SPARSEGRAD_CHROMIUM)');

const MODELS = new URL('../../examples/browser/models/', import.meta.url);
const work = mkdtempSync(join(tmpdir(), 'sparsegrad-browser-'));
let server: RunningServer | undefined;

/** A test digit drawn 10× larger, dark ink on white, as RGBA pixels: what a user's drawing looks like. */
function drawnDigit(index: number): { rgba: Uint8ClampedArray; label: number } {
  const { test } = loadDigits();
  const digit = test.x.subarray(index * 784, (index + 1) * 784);
  const rgba = new Uint8ClampedArray(280 * 280 * 4);
  for (let y = 0; y < 280; y++) {
    for (let x = 0; x < 280; x++) {
      const gray = Math.round(255 * (1 - digit[Math.floor(y / 10) * 28 + Math.floor(x / 10)]!));
      rgba.set([gray, gray, gray, 255], 4 * (y * 280 + x));
    }
  }
  return { rgba, label: test.y[index]! };
}

describe.runIf(chromium !== undefined)('the browser example', () => {
  beforeAll(async () => {
    const bundle = await bundleEntry('src/infer/index.ts');
    mkdirSync(join(work, 'lib', 'infer'), { recursive: true });
    writeFileSync(join(work, 'lib', 'infer', 'index.js'), bundle.code);
    server = await serve({ port: 0, lib: join(work, 'lib') });
  });
  afterAll(async () => {
    await server?.close();
    rmSync(work, { recursive: true, force: true });
  });

  const { rgba, label } = drawnDigit(0);
  const base64 = Buffer.from(rgba).toString('base64');
  const input = pixelsToInput({ data: rgba, width: 280, height: 280 });
  const nodeClass = (name: string, backend: 'js' | 'wasm-simd'): number =>
    compileModelBytesSync(readFileSync(new URL(`${name}.safetensors`, MODELS)), { backend }).predictClasses(input, 1)[0]!;

  for (const backend of ['wasm-simd', 'js'] as const) {
    it(`classifies a drawn digit as Node does, on the ${backend === 'js' ? 'TypeScript fallback' : 'WebAssembly SIMD backend'}, with no error`, async () => {
      const expected = { dense: nodeClass('dense', backend), sparse: nodeClass('sparse', backend) };
      expect(expected).toEqual({ dense: label, sparse: label }); // the digit is an easy one: a wrong answer would show
      let shown: Record<string, unknown> = {};
      const result = await checkUrlInChromium(`${server!.url}${backend === 'js' ? '?backend=js' : ''}`, {
        chromiumPath: chromium!,
        timeoutMs: 45_000,
        async interact(page) {
          const started = await page.evaluate<{ backend: string; crossOriginIsolated: boolean }>('window.demo.ready');
          const answer = await page.evaluate<Record<string, unknown>>(`window.demo.drawPixels(${JSON.stringify(base64)}, 280, 280)`);
          const text = await page.evaluate<Record<string, string>>(`({
            dense: document.getElementById('dense-class').textContent, sparse: document.getElementById('sparse-class').textContent,
            denseLatency: document.getElementById('dense-latency').textContent, sparseLatency: document.getElementById('sparse-latency').textContent,
            status: document.getElementById('status').textContent })`);
          shown = { ...started, answer, text };
        },
      });
      expect(result.errors).toEqual([]);
      expect(result.title).toBe('sparsegrad in the browser: draw a digit');
      expect(shown).toMatchObject({
        backend, crossOriginIsolated: true,
        answer: { dense: expected.dense, sparse: expected.sparse, blank: false },
        text: { dense: String(expected.dense), sparse: String(expected.sparse), denseLatency: expect.stringMatching(/µs per prediction/), sparseLatency: expect.stringMatching(/µs per prediction/) },
      });
    });
  }

  it('the check can fail: a page without its library shows a failed request', async () => {
    const broken = await serve({ port: 0, lib: join(work, 'no-library-here') });
    try {
      const result = await checkUrlInChromium(broken.url, { chromiumPath: chromium!, timeoutMs: 45_000 });
      expect(result.ok).toBe(false);
      expect(result.errors.some((e) => e.includes('/lib/infer/index.js'))).toBe(true);
    } finally {
      await broken.close();
    }
  });
});
