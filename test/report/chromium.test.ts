/**
 * Renders reports in a real headless Chromium. The browser tests run only where /usr/bin/chromium exists
 * (runIf, so CI without a browser shows them as skipped rather than silently passing something else).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { ChromiumUnavailableError, checkPageInChromium } from '../support/chromium.ts';
import { SAMPLE_CHART_COUNT, renderSampleReport, sampleReport } from './sample-report.ts';

const hasChromium = existsSync('/usr/bin/chromium');
const workDir = mkdtempSync(join(tmpdir(), 'sparsegrad-report-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('checkPageInChromium', () => {
  it.runIf(hasChromium)('renders the sample report without errors and finds every chart', async () => {
    const file = join(workDir, 'sample.html');
    writeFileSync(file, renderSampleReport());
    const result = await checkPageInChromium(file, { chromiumPath: '/usr/bin/chromium', timeoutMs: 45_000 });
    expect(result.errors).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.title).toBe(sampleReport().title);
    expect(result.svgCount).toBe(SAMPLE_CHART_COUNT);
    expect(result.svgVisibleCount).toBe(SAMPLE_CHART_COUNT);
  });

  it.runIf(hasChromium)('reports an uncaught exception, a console error and a failed load, so the check can fail', async () => {
    const file = join(workDir, 'broken.html');
    writeFileSync(
      file,
      `<!DOCTYPE html><html><head><title>broken</title></head><body>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>
<img src="does-not-exist.png" alt="" />
<script>console.error('deliberate console error');</script>
<script>throw new Error('deliberate failure');</script>
</body></html>`,
    );
    const result = await checkPageInChromium(file, { chromiumPath: '/usr/bin/chromium', timeoutMs: 45_000 });
    expect(result.ok).toBe(false);
    expect(result.title).toBe('broken');
    expect(result.svgCount).toBe(1);
    expect(result.errors.some((e) => e.startsWith('uncaught exception') && e.includes('deliberate failure'))).toBe(true);
    expect(result.errors.some((e) => e.startsWith('console.error') && e.includes('deliberate console error'))).toBe(true);
    expect(result.errors.some((e) => e.includes('does-not-exist.png'))).toBe(true);
  });

  it('refuses a missing file before starting a browser', async () => {
    await expect(checkPageInChromium(join(workDir, 'no-such-file.html'))).rejects.toThrow(ConfigError);
  });

  it('says clearly when Chromium is not installed', async () => {
    const file = join(workDir, 'any.html');
    writeFileSync(file, '<!DOCTYPE html><title>x</title>');
    await expect(checkPageInChromium(file, { chromiumPath: join(workDir, 'no-chromium-here') })).rejects.toThrow(ChromiumUnavailableError);
  });
});
