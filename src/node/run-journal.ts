/**
 * The run journal of a long study (`compare`, `sweep`): an NDJSON file with one line per finished run,
 * written and flushed to disk as each run ends, so an interrupted study — Ctrl-C, a crash, a lost machine —
 * resumes with `--resume` and reruns only what is missing.
 *
 *   line 1   {"sparsegradRuns":1,"identity":{…}}   what was studied: the model, the data, the validation
 *            plan, the backend (a journal is resumed only by the same study)
 *   line 2…  {"key":"…","result":{…}}              one finished task (src/study/tasks.ts); the key says
 *            which run (fold and settings), so a study with more settings reuses the ones already done
 *
 * A last line cut off by a crash (no newline, or not JSON) is dropped when the journal is resumed. The
 * path follows the output rules (output-path.ts); without `--resume` an existing journal with runs in it is
 * refused rather than overwritten — hours of runs are not lost to a repeated command.
 */
import { closeSync, constants, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { ConfigError, DataFormatError, OutputPathError } from '../errors.ts';
import { stableJson, type TaskResult } from '../study/tasks.ts';
import { readInputFile } from './input-file.ts';
import { checkOutputPath, lstatOrNull, type OutputOptions } from './output-path.ts';

/** Largest journal read back: 256 MiB (a million runs). */
const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

/** An open run journal: the runs already in it, and a way to add more. */
export class RunJournal {
  private constructor(
    readonly path: string,
    private fd: number | null,
    /** The runs it held when opened, by task key. */
    readonly results: ReadonlyMap<string, TaskResult>,
  ) {}

  /**
   * Opens (creating or, with `resume`, continuing) the journal at `path` for the study `identity`.
   * Throws OutputPathError for a path the output rules refuse or an existing journal without `resume`,
   * ConfigError for a journal of another study, DataFormatError for a corrupt one.
   */
  static open(path: string, identity: Readonly<Record<string, unknown>>, options: OutputOptions & { resume: boolean }): RunJournal {
    const target = checkOutputPath(path, options);
    const existing = lstatOrNull(target, 'file');
    const header = stableJson({ sparsegradRuns: 1, identity });
    let results = new Map<string, TaskResult>();
    let keepBytes = 0;
    if (existing !== null && existing.size > 0) {
      if (!options.resume) throw existingJournalError(path);
      const text = new TextDecoder('utf-8', { fatal: true }).decode(readInputFile(target, {
        what: 'run journal', maxBytes: MAX_JOURNAL_BYTES, fail: (_code, message) => new DataFormatError(message),
      }));
      ({ results, keepBytes } = parseJournal(text, header, path));
    }
    const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | (target === path ? constants.O_NOFOLLOW : 0);
    const fd = openSync(target, flags, 0o644);
    try {
      if (!fstatSync(fd).isFile()) throw new OutputPathError(`will not write the run journal ${JSON.stringify(path)}: it is not a regular file`);
      ftruncateSync(fd, keepBytes); // drops a line cut off by a crash (or starts an empty file)
      const journal = new RunJournal(path, fd, results);
      if (keepBytes === 0) journal.writeLine(header);
      return journal;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }

  /**
   * Refuses early (before a study loads its data) what `open` would refuse: an output path the rules refuse,
   * or an existing journal with runs in it without `resume`. Throws OutputPathError.
   */
  static check(path: string, options: OutputOptions & { resume: boolean }): void {
    const target = checkOutputPath(path, options);
    const existing = lstatOrNull(target, 'file');
    if (existing !== null && existing.size > 0 && !options.resume) throw existingJournalError(path);
  }

  /** Appends one finished run and flushes it to disk. A retrained model (dense results) is not written. */
  append(result: TaskResult): void {
    const { model: _model, ...kept } = result as TaskResult & { model?: unknown };
    this.writeLine(stableJson({ key: result.key, result: kept }));
  }

  /** Closes the file (appending afterwards throws). */
  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private writeLine(line: string): void {
    if (this.fd === null) throw new ConfigError(`the run journal ${this.path} is closed`);
    const bytes = new TextEncoder().encode(line + '\n');
    for (let offset = 0; offset < bytes.length; ) offset += writeSync(this.fd, bytes, offset, bytes.length - offset, null);
    fsyncSync(this.fd);
  }
}

function existingJournalError(path: string): OutputPathError {
  return new OutputPathError(`will not overwrite the run journal ${JSON.stringify(path)}: it holds runs of an earlier study; pass --resume to continue it, or choose another --runs file`);
}

/** The finished runs of a journal's text, and how many bytes of it to keep (up to the last complete line). */
function parseJournal(text: string, header: string, path: string): { results: Map<string, TaskResult>; keepBytes: number } {
  const lines = text.split('\n');
  const complete = lines.slice(0, -1); // the text after the last newline is a line cut off by a crash (or '')
  let lastLine = complete.length;
  // A crash can also cut a line exactly before its newline was written: drop a final line that does not parse.
  if (complete.length > 1 && !parses(complete[complete.length - 1]!)) lastLine--;
  if (complete.length === 0 || complete[0] !== header) {
    const found = complete.length === 0 ? 'no complete first line' : summarizeHeader(complete[0]!);
    throw new ConfigError(`the run journal ${JSON.stringify(path)} belongs to another study (${found}); the study resumed needs ${header}`);
  }
  const results = new Map<string, TaskResult>();
  for (let i = 1; i < lastLine; i++) {
    const result = readEntry(complete[i]!, i + 1, path);
    results.set(result.key, result);
  }
  const keepText = complete.slice(0, lastLine).join('\n') + '\n';
  return { results, keepBytes: new TextEncoder().encode(keepText).length };
}

function parses(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function summarizeHeader(line: string): string {
  return line.length > 300 ? `its first line is ${line.slice(0, 300)}…` : `its first line is ${line}`;
}

/** One `{"key","result"}` line, checked enough that assembling a study from it cannot go wrong silently. */
function readEntry(line: string, lineNumber: number, path: string): TaskResult {
  const bad = (why: string): DataFormatError => new DataFormatError(`${path}, line ${lineNumber}: ${why}`);
  let entry: unknown;
  try {
    entry = JSON.parse(line);
  } catch {
    throw bad('not JSON');
  }
  const { key, result } = (entry ?? {}) as { key?: unknown; result?: Record<string, unknown> };
  if (typeof key !== 'string' || typeof result !== 'object' || result === null || result['key'] !== key) throw bad('expected {"key": …, "result": {…}} with matching keys');
  const isScore = (s: unknown): boolean => typeof s === 'object' && s !== null && typeof (s as Score).accuracy === 'number' && typeof (s as Score).loss === 'number';
  if (result['kind'] === 'dense') {
    if (!isScore(result['validation'])) throw bad('a dense result needs validation {accuracy, loss}');
  } else if (result['kind'] === 'trial') {
    for (const field of ['sparsity', 'bytes', 'seconds']) if (typeof result[field] !== 'number') throw bad(`a trial result needs a number ${field}`);
    for (const field of ['validation', 'test']) if (result[field] !== undefined && !isScore(result[field])) throw bad(`${field} must be {accuracy, loss}`);
  } else {
    throw bad(`unknown result kind ${JSON.stringify(result['kind'])}`);
  }
  return result as unknown as TaskResult;
}

interface Score {
  accuracy: number;
  loss: number;
}
