/**
 * Checks an HTML report in headless Chromium: fails on any console error, uncaught exception or failed
 * load, and prints the title and how many SVG charts the page has.
 *
 *   npx tsx scripts/check-report.ts <file.html> [--screenshot out.png] [--width 390] [--timeout 30000]
 *   npx tsx scripts/check-report.ts --demo <out.html> [...]    writes a sample report first, then checks it
 *
 * Exit codes: 0 the page is clean; 1 the page has errors; 2 bad arguments or missing file;
 * 3 Chromium is not installed (so CI can tell "skipped" from "failed"); 4 the browser crashed or timed out.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SparsegradError } from '../src/errors.ts';
import { BrowserError, ChromiumUnavailableError, checkPageInChromium } from '../test/support/chromium.ts';
import { renderSampleReport } from '../test/report/sample-report.ts';

const EXIT_OK = 0;
const EXIT_PAGE_ERRORS = 1;
const EXIT_USAGE = 2;
const EXIT_NO_CHROMIUM = 3;
const EXIT_BROWSER_FAILED = 4;

const USAGE = 'usage: npx tsx scripts/check-report.ts [--demo] <file.html> [--screenshot out.png] [--width px] [--height px] [--timeout ms]';

function positiveInteger(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new SparsegradError('E_USAGE', `--${name} must be a positive integer, got ${text}`);
  return value;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        demo: { type: 'boolean', default: false },
        screenshot: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    console.log(USAGE);
    return EXIT_OK;
  }
  const file = positionals[0];
  if (file === undefined || positionals.length > 1) {
    console.error(USAGE);
    return EXIT_USAGE;
  }

  try {
    if (values.demo === true) {
      writeFileSync(file, renderSampleReport());
      console.log(`wrote a sample report to ${file}`);
    }
    const width = positiveInteger(values.width, 'width');
    const height = positiveInteger(values.height, 'height');
    const timeout = positiveInteger(values.timeout, 'timeout');
    const result = await checkPageInChromium(file, {
      ...(values.screenshot === undefined ? {} : { screenshotPath: values.screenshot }),
      ...(width === undefined ? {} : { viewportWidth: width }),
      ...(height === undefined ? {} : { viewportHeight: height }),
      ...(timeout === undefined ? {} : { timeoutMs: timeout }),
    });
    console.log(`page:     ${result.url}`);
    console.log(`title:    ${result.title === '' ? '(none)' : result.title}`);
    console.log(`svg:      ${result.svgCount} element(s), ${result.svgVisibleCount} visible`);
    if (result.screenshotPath !== undefined) console.log(`screenshot: ${result.screenshotPath}`);
    for (const warning of result.warnings) console.log(`warning:  ${warning}`);
    for (const error of result.errors) console.error(`error:    ${error}`);
    console.log(result.ok ? 'OK: no errors on the page' : `FAILED: ${result.errors.length} error(s) on the page`);
    return result.ok ? EXIT_OK : EXIT_PAGE_ERRORS;
  } catch (error) {
    if (error instanceof ChromiumUnavailableError) {
      console.error(`SKIPPED: ${error.message}`);
      return EXIT_NO_CHROMIUM;
    }
    if (error instanceof BrowserError) {
      console.error(`BROWSER FAILED: ${error.message}`);
      return EXIT_BROWSER_FAILED;
    }
    if (error instanceof SparsegradError) {
      console.error(`${error.message}\n${USAGE}`);
      return EXIT_USAGE;
    }
    throw error;
  }
}

process.exitCode = await main();
