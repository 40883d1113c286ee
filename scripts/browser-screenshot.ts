/**
 * Takes the screenshot of the browser example shown in the README (docs/browser-example.png): serves the
 * page with the library bundled from src/infer, draws a digit with the mouse (DevTools-protocol input
 * events, so the page's own pointer handling draws it), waits for both models to answer, and captures it.
 *
 * Run: npx tsx scripts/browser-screenshot.ts   (needs Chromium at /usr/bin/chromium)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '../examples/browser/serve.ts';
import { bundleEntry } from '../test/support/bundle.ts';
import { checkUrlInChromium } from '../test/support/chromium.ts';

const output = new URL('../docs/browser-example.png', import.meta.url).pathname;
const work = mkdtempSync(join(tmpdir(), 'sparsegrad-screenshot-'));
mkdirSync(join(work, 'lib', 'infer'), { recursive: true });
writeFileSync(join(work, 'lib', 'infer', 'index.js'), (await bundleEntry('src/infer/index.ts')).code);
const server = await serve({ port: 0, lib: join(work, 'lib') });

/** A hand-drawn "3" in canvas coordinates: two bowls, as a pen would go. */
const STROKE: [number, number][] = [];
for (let t = 0; t <= 1.0001; t += 0.04) STROKE.push([140 + 52 * Math.sin(Math.PI * (t - 0.35) * 1.15), 82 + 42 * -Math.cos(Math.PI * (t - 0.35) * 1.15)]);
for (let t = 0; t <= 1.0001; t += 0.04) STROKE.push([140 + 60 * Math.sin(Math.PI * (t - 0.25) * 1.3), 178 - 52 * Math.cos(Math.PI * (t - 0.25) * 1.3)]);

try {
  const result = await checkUrlInChromium(server.url, {
    viewportWidth: 1000,
    viewportHeight: 520,
    timeoutMs: 60_000,
    screenshotPath: output,
    async interact(page) {
      await page.evaluate('window.demo.ready');
      const box = await page.evaluate<{ x: number; y: number }>('(() => { const b = document.getElementById("draw").getBoundingClientRect(); return { x: b.left, y: b.top }; })()');
      const mouse = (type: string, [x, y]: [number, number]) =>
        page.send('Input.dispatchMouseEvent', { type, x: box.x + x, y: box.y + y, button: 'left', buttons: type === 'mouseReleased' ? 0 : 1, clickCount: 1 });
      await mouse('mousePressed', STROKE[0]!);
      for (const point of STROKE.slice(1)) await mouse('mouseMoved', point);
      await mouse('mouseReleased', STROKE[STROKE.length - 1]!);
      await page.evaluate('new Promise((done) => setTimeout(done, 300))');
      console.log(await page.evaluate('JSON.stringify({ dense: document.getElementById("dense-class").textContent, sparse: document.getElementById("sparse-class").textContent, status: document.getElementById("status").textContent })'));
    },
  });
  if (!result.ok) throw new Error(`the page reported errors: ${result.errors.join('; ')}`);
  console.log(`wrote ${output}`);
} finally {
  await server.close();
  rmSync(work, { recursive: true, force: true });
}
