/**
 * Opens an HTML file in headless Chromium and reports what went wrong on the page: uncaught exceptions,
 * console errors, error log entries, failed loads, dialogs. Used to check that the generated report really
 * renders (and renders without errors) in a browser, not just that it is a well-formed string.
 *
 * No dependencies: Chromium is driven over the Chrome DevTools Protocol (CDP) through a pipe rather than a
 * WebSocket. With `--remote-debugging-pipe`, Chromium reads commands from its file descriptor 3 and writes
 * replies and events to descriptor 4; every message is one JSON object followed by a NUL byte. Commands for
 * the page go through a "flattened" session: attach to the page target once and put its `sessionId` on each
 * message.
 *
 * Nothing can hang: every command has a timeout, the whole check has a deadline, and the browser's process
 * group is killed if it does not close when asked. Each run uses a fresh temporary profile, deleted after.
 *
 * Test support, not part of the package: the report tests and scripts/check-report.ts use it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { ConfigError, SparsegradError } from '../../src/errors.ts';

/** Where Debian and Ubuntu install Chromium; override with the option or SPARSEGRAD_CHROMIUM. */
export const DEFAULT_CHROMIUM_PATH = '/usr/bin/chromium';

/** Chromium is not installed (or not executable) where we looked. */
export class ChromiumUnavailableError extends SparsegradError {
  constructor(message: string) {
    super('E_NO_CHROMIUM', message);
  }
}

/** The browser crashed, closed the pipe, or did not answer in time. */
export class BrowserError extends SparsegradError {
  constructor(message: string) {
    super('E_BROWSER', message);
  }
}

export interface PageCheckOptions {
  /** The Chromium executable; default $SPARSEGRAD_CHROMIUM or /usr/bin/chromium. */
  readonly chromiumPath?: string;
  /** Deadline for the whole check, browser start to exit; default 30 s. */
  readonly timeoutMs?: number;
  /** How long to keep listening after the load event, for late errors (timers, deferred work); default 300 ms. */
  readonly settleMs?: number;
  /** Viewport size in CSS pixels; default 1000 × 800. A width under 600 emulates a phone. */
  readonly viewportWidth?: number;
  readonly viewportHeight?: number;
  /** If set, a full-page PNG screenshot is written here (after `interact`, when given). */
  readonly screenshotPath?: string;
  /**
   * Called after the page loaded (and settled), before the facts are read: drive the page here. Errors the
   * page reports meanwhile are collected like any others; a throw fails the check.
   */
  readonly interact?: (page: PageSession) => Promise<void>;
}

/** What `interact` can do with the loaded page. */
export interface PageSession {
  /**
   * Evaluates a JavaScript expression in the page (awaiting it when it is a promise) and returns its value,
   * which must be JSON-serialisable. Throws BrowserError when the expression throws.
   */
  evaluate<T = unknown>(expression: string, timeoutMs?: number): Promise<T>;
  /** Sends a DevTools-protocol command to the page (e.g. Input.dispatchMouseEvent to draw) and returns its result. */
  send(method: string, params: Record<string, unknown>, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export interface PageCheckResult {
  /** True when the page loaded and nothing in `errors` was seen. */
  readonly ok: boolean;
  readonly url: string;
  readonly title: string;
  /** Number of <svg> elements in the document, and how many of them have a non-empty box on screen. */
  readonly svgCount: number;
  readonly svgVisibleCount: number;
  /** Uncaught exceptions, console.error/assert, error log entries, failed loads, dialogs, crashes. */
  readonly errors: readonly string[];
  /** console.warn and warning log entries: reported, not failures. */
  readonly warnings: readonly string[];
  /** Where the screenshot was written, if one was asked for. */
  readonly screenshotPath?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Finding the browser.

/** The Chromium executable to use, or undefined if it is missing or not executable. */
export function findChromium(explicitPath?: string): string | undefined {
  const candidate = explicitPath ?? process.env['SPARSEGRAD_CHROMIUM'] ?? DEFAULT_CHROMIUM_PATH;
  try {
    accessSync(candidate, fsConstants.X_OK);
    return statSync(candidate).isFile() ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Flags for a quiet, self-contained run: headless, no sandbox (we run as root in containers), no GPU,
 * no network chatter (update checks, sync, QUIC), no first-run UI, a throwaway profile, and /tmp instead of
 * a possibly small /dev/shm.
 */
function chromiumArguments(userDataDir: string, width: number, height: number): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-extensions',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    '--mute-audio',
    `--window-size=${width},${height}`,
    `--user-data-dir=${userDataDir}`,
    '--remote-debugging-pipe',
    'about:blank',
  ];
}

// ---------------------------------------------------------------------------------------------------------
// CDP over a pipe.

interface CdpMessage {
  readonly id?: number;
  readonly method?: string;
  readonly params?: Record<string, unknown>;
  readonly result?: Record<string, unknown>;
  readonly error?: { readonly code: number; readonly message: string };
  readonly sessionId?: string;
}

interface PendingCommand {
  readonly method: string;
  resolve(result: Record<string, unknown>): void;
  reject(error: Error): void;
  readonly timer: NodeJS.Timeout;
}

/** A minimal CDP client: numbered commands with timeouts, and a stream of events. */
class CdpPipe {
  private nextId = 1;
  private readonly pending = new Map<number, PendingCommand>();
  private readonly eventListeners: Array<(message: CdpMessage) => void> = [];
  private chunks: Buffer[] = [];
  private closedReason: string | undefined;

  constructor(
    private readonly toBrowser: Writable,
    fromBrowser: Readable,
  ) {
    fromBrowser.on('data', (chunk: Buffer) => this.receive(chunk));
    fromBrowser.on('error', () => this.close('the DevTools pipe failed'));
    fromBrowser.on('close', () => this.close('the browser closed the DevTools pipe'));
    toBrowser.on('error', () => this.close('the DevTools pipe failed'));
  }

  /** Splits the byte stream at NULs (on bytes, so a UTF-8 character split across chunks stays whole). */
  private receive(chunk: Buffer): void {
    let start = 0;
    for (let end = chunk.indexOf(0, start); end !== -1; end = chunk.indexOf(0, start)) {
      this.chunks.push(chunk.subarray(start, end));
      const text = Buffer.concat(this.chunks).toString('utf8');
      this.chunks = [];
      start = end + 1;
      let message: CdpMessage;
      try {
        message = JSON.parse(text) as CdpMessage;
      } catch {
        continue; // not ours to fix; the command it answered will time out with a clear message
      }
      this.dispatch(message);
    }
    if (start < chunk.length) this.chunks.push(chunk.subarray(start));
  }

  private dispatch(message: CdpMessage): void {
    if (message.id !== undefined) {
      const command = this.pending.get(message.id);
      if (command === undefined) return;
      this.pending.delete(message.id);
      clearTimeout(command.timer);
      if (message.error !== undefined) command.reject(new BrowserError(`${command.method} failed: ${message.error.message}`));
      else command.resolve(message.result ?? {});
      return;
    }
    if (message.method !== undefined) for (const listener of this.eventListeners) listener(message);
  }

  onEvent(listener: (message: CdpMessage) => void): void {
    this.eventListeners.push(listener);
  }

  send(method: string, params: Record<string, unknown>, sessionId: string | undefined, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.closedReason !== undefined) return Promise.reject(new BrowserError(`${method}: ${this.closedReason}`));
    const id = this.nextId++;
    return new Promise((resolvePromise, rejectPromise) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        rejectPromise(new BrowserError(`${method}: no answer from the browser within ${Math.round(timeoutMs)} ms`));
      }, Math.max(1, timeoutMs));
      this.pending.set(id, { method, resolve: resolvePromise, reject: rejectPromise, timer });
      const message: CdpMessage = sessionId === undefined ? { id, method, params } : { id, method, params, sessionId };
      this.toBrowser.write(`${JSON.stringify(message)}\0`);
    });
  }

  /** Fails every waiting command; later sends fail at once. */
  close(reason: string): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    for (const [id, command] of this.pending) {
      clearTimeout(command.timer);
      command.reject(new BrowserError(`${command.method}: ${reason}`));
      this.pending.delete(id);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Small helpers.

function sleep(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

/** Waits for `promise` at most `ms`; true if it settled in time. The timer is cleared so it cannot keep Node alive. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolvePromise) => {
    timer = setTimeout(() => resolvePromise(false), ms);
  });
  return Promise.race([promise.then(() => true), timeout]).finally(() => clearTimeout(timer));
}

/** Text of a console call's arguments, roughly as DevTools prints it. */
function describeConsoleArguments(args: unknown): string {
  if (!Array.isArray(args)) return '';
  return args
    .map((arg: { value?: unknown; description?: string; unserializableValue?: string; type?: string }) => {
      if (arg.value !== undefined) return typeof arg.value === 'string' ? arg.value : JSON.stringify(arg.value);
      return arg.description ?? arg.unserializableValue ?? arg.type ?? '';
    })
    .join(' ');
}

function location(url: unknown, lineNumber: unknown): string {
  if (typeof url !== 'string' || url === '') return '';
  return typeof lineNumber === 'number' ? ` (${url}:${lineNumber + 1})` : ` (${url})`;
}

/** Waits for a child process to exit, up to `ms`; true if it did. */
function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise(true);
    });
  });
}

/** Kills the browser's process group (it was started as a group leader, so its helpers go too). */
function killBrowser(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The check.

/**
 * Loads `htmlPath` (a file, or an http(s) URL) in headless Chromium and reports errors seen on the page, the document title and the
 * number of SVG elements. Throws ConfigError if the file does not exist, ChromiumUnavailableError if the
 * browser is missing, and BrowserError if the browser crashes or does not answer before the deadline.
 */
export async function checkPageInChromium(htmlPath: string, options: PageCheckOptions = {}): Promise<PageCheckResult> {
  // An http(s) URL is loaded as it is (a page that needs its server's headers, e.g. cross-origin isolation).
  const isUrl = /^https?:\/\//.test(htmlPath);
  const absolutePath = resolve(htmlPath);
  try {
    if (!isUrl && !statSync(absolutePath).isFile()) throw new ConfigError(`${absolutePath} is not a file`);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`cannot open ${absolutePath}: no such file`);
  }
  return checkUrlInChromium(isUrl ? htmlPath : pathToFileURL(absolutePath).href, options);
}

/**
 * The same check for any URL (an http:// page served by a test, say): loads it in headless Chromium, lets
 * `options.interact` drive it, and reports errors seen on the page. Throws ChromiumUnavailableError if the
 * browser is missing, and BrowserError if it crashes or does not answer before the deadline.
 */
export async function checkUrlInChromium(url: string, options: PageCheckOptions = {}): Promise<PageCheckResult> {
  const chromium = findChromium(options.chromiumPath);
  if (chromium === undefined) {
    const looked = options.chromiumPath ?? process.env['SPARSEGRAD_CHROMIUM'] ?? DEFAULT_CHROMIUM_PATH;
    throw new ChromiumUnavailableError(`Chromium not found at ${looked}; install it (apt-get install chromium) or set SPARSEGRAD_CHROMIUM`);
  }

  const timeoutMs = options.timeoutMs ?? 30_000;
  const settleMs = options.settleMs ?? 300;
  const width = options.viewportWidth ?? 1000;
  const height = options.viewportHeight ?? 800;
  const deadline = Date.now() + timeoutMs;
  /** Time left for one step: at most `cap`, never past the overall deadline. */
  const budget = (cap: number): number => {
    const left = deadline - Date.now();
    if (left <= 0) throw new BrowserError(`the page check did not finish within ${timeoutMs} ms`);
    return Math.min(cap, left);
  };

  const errors: string[] = [];
  const warnings: string[] = [];
  const userDataDir = mkdtempSync(join(tmpdir(), 'sparsegrad-chromium-'));
  let stderrTail = '';

  const child = spawn(chromium, chromiumArguments(userDataDir, width, height), {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    detached: true, // its own process group, so the whole browser can be killed by one id
  });
  child.stdout?.resume();
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-2000);
  });
  const spawnFailure = new Promise<never>((_, rejectPromise) => {
    child.once('error', (error) => rejectPromise(new ChromiumUnavailableError(`cannot start ${chromium}: ${error.message}`)));
  });
  spawnFailure.catch(() => undefined); // observed below; avoid an unhandled rejection if never awaited

  const toBrowser = child.stdio[3] as Writable | null;
  const fromBrowser = child.stdio[4] as Readable | null;
  if (toBrowser === null || fromBrowser === null) {
    killBrowser(child);
    throw new BrowserError('could not open the DevTools pipe to Chromium');
  }
  const cdp = new CdpPipe(toBrowser, fromBrowser);
  child.once('exit', (code, signal) => {
    cdp.close(`Chromium exited early (${signal ?? `code ${code}`})${stderrTail === '' ? '' : `; its last output: ${stderrTail.trim().split('\n').slice(-3).join(' | ')}`}`);
  });

  let sessionId: string | undefined;
  const requestUrls = new Map<string, string>();
  let loaded = false;
  let onLoad: () => void = () => undefined;
  const loadEvent = new Promise<void>((resolvePromise) => {
    onLoad = resolvePromise;
  });

  cdp.onEvent((message) => {
    if (message.sessionId !== sessionId || sessionId === undefined) return;
    const p = message.params ?? {};
    switch (message.method) {
      case 'Page.loadEventFired':
        loaded = true;
        onLoad();
        break;
      case 'Runtime.exceptionThrown': {
        const details = (p['exceptionDetails'] ?? {}) as { text?: string; exception?: { description?: string }; url?: string; lineNumber?: number };
        errors.push(`uncaught exception: ${details.exception?.description ?? details.text ?? 'unknown'}${location(details.url, details.lineNumber)}`);
        break;
      }
      case 'Runtime.consoleAPICalled': {
        const type = p['type'];
        const text = describeConsoleArguments(p['args']);
        if (type === 'error' || type === 'assert') errors.push(`console.${type}: ${text}`);
        else if (type === 'warning') warnings.push(`console.warn: ${text}`);
        break;
      }
      case 'Log.entryAdded': {
        const entry = (p['entry'] ?? {}) as { level?: string; source?: string; text?: string; url?: string; lineNumber?: number };
        const line = `${entry.source ?? 'log'}: ${entry.text ?? ''}${location(entry.url, entry.lineNumber)}`;
        if (entry.level === 'error') errors.push(line);
        else if (entry.level === 'warning') warnings.push(line);
        break;
      }
      case 'Network.requestWillBeSent': {
        const request = p['request'] as { url?: string } | undefined;
        if (typeof p['requestId'] === 'string' && typeof request?.url === 'string') requestUrls.set(p['requestId'], request.url);
        break;
      }
      case 'Network.loadingFailed': {
        const requestUrl = requestUrls.get(String(p['requestId'])) ?? 'a resource';
        const reason = [p['errorText'], p['blockedReason'], p['corsErrorStatus'] === undefined ? undefined : 'CORS'].filter((x) => typeof x === 'string' && x !== '');
        errors.push(`failed to load ${requestUrl}: ${reason.join(', ')}`);
        break;
      }
      case 'Network.responseReceived': {
        const response = p['response'] as { status?: number; url?: string } | undefined;
        if (typeof response?.status === 'number' && response.status >= 400) errors.push(`HTTP ${response.status} for ${response.url ?? 'a resource'}`);
        break;
      }
      case 'Page.javascriptDialogOpening':
        // A dialog would block the page forever; dismiss it and count it as an error.
        errors.push(`the page opened a dialog (${String(p['type'])}): ${String(p['message'])}`);
        cdp.send('Page.handleJavaScriptDialog', { accept: false }, sessionId, 2000).catch(() => undefined);
        break;
      case 'Inspector.targetCrashed':
        errors.push('the page crashed');
        onLoad();
        break;
    }
  });

  let title = '';
  let svgCount = 0;
  let svgVisibleCount = 0;
  let screenshotWritten: string | undefined;
  try {
    const run = async (): Promise<void> => {
      const { targetId } = (await cdp.send('Target.createTarget', { url: 'about:blank' }, undefined, budget(10_000))) as { targetId: string };
      const attached = (await cdp.send('Target.attachToTarget', { targetId, flatten: true }, undefined, budget(10_000))) as { sessionId: string };
      sessionId = attached.sessionId;
      for (const domain of ['Runtime', 'Log', 'Page', 'Network']) await cdp.send(`${domain}.enable`, {}, sessionId, budget(10_000));
      await cdp.send('Emulation.setDeviceMetricsOverride', { width, height, deviceScaleFactor: 1, mobile: width < 600 }, sessionId, budget(5000));

      const navigation = (await cdp.send('Page.navigate', { url }, sessionId, budget(15_000))) as { errorText?: string };
      if (typeof navigation.errorText === 'string' && navigation.errorText !== '') {
        errors.push(`navigation to ${url} failed: ${navigation.errorText}`);
        return;
      }
      const loadWait = budget(20_000);
      if (!(await settlesWithin(loadEvent, loadWait)) && !loaded) {
        errors.push(`the page did not finish loading within ${loadWait} ms`);
        return;
      }
      await sleep(Math.min(settleMs, Math.max(0, deadline - Date.now() - 2000)));
      if (options.interact !== undefined) {
        await options.interact({
          async evaluate<T>(expression: string, timeoutMs = 15_000): Promise<T> {
            const reply = (await cdp.send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true }, sessionId, budget(timeoutMs))) as {
              result?: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } };
            };
            if (reply.exceptionDetails !== undefined) throw new BrowserError(`the page threw: ${reply.exceptionDetails.exception?.description ?? reply.exceptionDetails.text ?? 'unknown'}`);
            return reply.result?.value as T;
          },
          send: (method, params, timeoutMs = 10_000) => cdp.send(method, params, sessionId, budget(timeoutMs)),
        });
      }

      const evaluation = (await cdp.send(
        'Runtime.evaluate',
        {
          expression: `JSON.stringify({ title: document.title, svgCount: document.querySelectorAll('svg').length,
            svgVisibleCount: Array.from(document.querySelectorAll('svg')).filter((svg) => { const box = svg.getBoundingClientRect(); return box.width > 0 && box.height > 0; }).length })`,
          returnByValue: true,
        },
        sessionId,
        budget(10_000),
      )) as { result?: { value?: unknown }; exceptionDetails?: { text?: string } };
      if (evaluation.exceptionDetails !== undefined || typeof evaluation.result?.value !== 'string') {
        errors.push(`could not inspect the page: ${evaluation.exceptionDetails?.text ?? 'no result'}`);
      } else {
        const facts = JSON.parse(evaluation.result.value) as { title: string; svgCount: number; svgVisibleCount: number };
        title = facts.title;
        svgCount = facts.svgCount;
        svgVisibleCount = facts.svgVisibleCount;
      }

      if (options.screenshotPath !== undefined) {
        const metrics = (await cdp.send('Page.getLayoutMetrics', {}, sessionId, budget(10_000))) as { cssContentSize?: { width: number; height: number } };
        const size = metrics.cssContentSize ?? { width, height };
        const shot = (await cdp.send(
          'Page.captureScreenshot',
          // Capped height: very tall pages make huge images, and the top of the report is what matters most.
          { format: 'png', captureBeyondViewport: true, clip: { x: 0, y: 0, width: Math.ceil(size.width), height: Math.min(Math.ceil(size.height), 12_000), scale: 1 } },
          sessionId,
          budget(20_000),
        )) as { data?: string };
        if (typeof shot.data !== 'string') throw new BrowserError('Page.captureScreenshot returned no image');
        writeFileSync(options.screenshotPath, Buffer.from(shot.data, 'base64'));
        screenshotWritten = resolve(options.screenshotPath);
      }
    };
    try {
      await Promise.race([run(), spawnFailure]);
    } catch (error) {
      // A step cut short by the overall deadline should say so, not just name the step.
      if (error instanceof BrowserError && Date.now() >= deadline - 50) {
        throw new BrowserError(`the page check did not finish within ${timeoutMs} ms (${error.message}); a slow machine or a page stuck in a script loop can cause this`);
      }
      throw error;
    }
  } finally {
    // Ask politely, then insist. Either way the browser is gone before we return.
    await cdp.send('Browser.close', {}, undefined, 3000).catch(() => undefined);
    if (!(await waitForExit(child, 5000))) {
      killBrowser(child);
      await waitForExit(child, 2000);
    }
    cdp.close('the check is over');
    for (const stream of [child.stdout, child.stderr, toBrowser, fromBrowser]) stream?.destroy();
    rmSync(userDataDir, { recursive: true, force: true, maxRetries: 3, retryDelay: 100 });
  }

  const result: PageCheckResult = { ok: errors.length === 0, url, title, svgCount, svgVisibleCount, errors, warnings };
  return screenshotWritten === undefined ? result : { ...result, screenshotPath: screenshotWritten };
}
