/**
 * The CLI against a hostile user (issue 12): every reproduction of the issue, run as the command line runs
 * it. Output paths are refused before any work; special input files are refused without blocking or
 * reading; impossible sizes are usage errors; non-finite answers are errors; `| true` ends quietly.
 * Device nodes and FIFOs are made inside a scratch directory (never /dev).
 */
import { chmodSync, copyFileSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.ts';
import { modelToRecord } from '../../src/io/model-adapter.ts';
import { serializeModel } from '../../src/io/model-file.ts';
import { encodeSafetensors } from '../../src/io/safetensors.ts';
import { mlp } from '../../src/nn/build.ts';
import { readImages } from '../../src/node/image.ts';
import { runCliProcess } from '../support/cli-process.ts';
import { canMakeDevices, makeDevice, makeFifo, scratchDirectory } from '../support/special-files.ts';
import { runCli } from './run-cli.ts';

const scratch = scratchDirectory('hostile-cli');
afterAll(scratch.remove);
const dir = scratch.dir;
const model = join(dir, 'model.safetensors');
const devicesAllowed = canMakeDevices();
let caseNumber = 0;
const freshDir = (): string => {
  const path = join(dir, `case-${caseNumber++}`);
  mkdirSync(path);
  return path;
};

beforeAll(async () => {
  const result = await runCli(['train', '--arch', '784-16-10', '--epochs', '1', '--quiet', '--out', model]);
  expect(result.code, result.stderr).toBe(0);
});

/** A refused run: its exit code, the error code in its JSON line, and no sign that training started. */
async function refusedBeforeWork(argv: string[], exitCode: number, errorCode: string, message: RegExp): Promise<void> {
  const result = await runCli([...argv, '--json']);
  expect(result.code, result.stderr).toBe(exitCode);
  expect(result.json).toMatchObject({ error: { code: errorCode } });
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/epoch|data: /); // refused before the data was loaded or training began
}

describe('output paths are checked before any training', () => {
  it.runIf(devicesAllowed)('train --out <a device node> is refused and the node stays a device (the /dev/full case)', async () => {
    const full = makeDevice(join(freshDir(), 'full'), 'full');
    await refusedBeforeWork(['train', '--arch', '784-16-10', '--epochs', '1', '--out', full], 2, 'E_OUTPUT_PATH', /character device/);
    expect(lstatSync(full).isCharacterDevice()).toBe(true);
  });

  it('train --out <a FIFO>, <a directory>, <a read-only file> are refused', async () => {
    const here = freshDir();
    const fifo = makeFifo(join(here, 'fifo'));
    await refusedBeforeWork(['train', '--epochs', '1', '--out', fifo], 2, 'E_OUTPUT_PATH', /FIFO/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    mkdirSync(join(here, 'dir'));
    await refusedBeforeWork(['train', '--epochs', '1', '--out', join(here, 'dir')], 2, 'E_OUTPUT_PATH', /directory/);
    writeFileSync(join(here, 'ro'), 'keep');
    chmodSync(join(here, 'ro'), 0o444);
    await refusedBeforeWork(['train', '--epochs', '1', '--out', join(here, 'ro')], 2, 'E_OUTPUT_PATH', /read-only/);
    expect(readFileSync(join(here, 'ro'), 'utf8')).toBe('keep');
  });

  it('a symbolic link is refused without --follow-symlinks and written through with it', async () => {
    const here = freshDir();
    writeFileSync(join(here, 'target.safetensors'), 'old');
    symlinkSync('target.safetensors', join(here, 'link.safetensors'));
    await refusedBeforeWork(['train', '--epochs', '1', '--out', join(here, 'link.safetensors')], 2, 'E_OUTPUT_PATH', /symbolic link.*--follow-symlinks/);
    const followed = await runCli(['compile', '--model', model, '--out', join(here, 'link.safetensors'), '--follow-symlinks', '--quiet']);
    expect(followed.code, followed.stderr).toBe(0);
    expect(lstatSync(join(here, 'link.safetensors')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(here, 'target.safetensors')).subarray(8, 9).toString()).toBe('{'); // a model file now
  });

  it('prune, compile, compare, export and demo check their outputs before loading or training', async () => {
    const here = freshDir();
    const fifo = makeFifo(join(here, 'fifo'));
    mkdirSync(join(here, 'dir'));
    await refusedBeforeWork(['prune', '--model', model, '--epochs', '1', '--out', fifo], 2, 'E_OUTPUT_PATH', /FIFO/);
    await refusedBeforeWork(['compile', '--model', model, '--out', join(here, 'dir')], 2, 'E_OUTPUT_PATH', /directory/);
    await refusedBeforeWork(['compare', '--model', model, '--out-json', join(here, 'dir'), '--out-svg', join(here, 'ok.svg')], 2, 'E_OUTPUT_PATH', /directory/);
    await refusedBeforeWork(['compare', '--model', model, '--out-json', join(here, 'ok.json'), '--out-svg', fifo], 2, 'E_OUTPUT_PATH', /FIFO/);
    await refusedBeforeWork(['export', '--model', model, '--onnx', fifo], 2, 'E_OUTPUT_PATH', /FIFO/);
    writeFileSync(join(here, 'a-file'), 'x');
    await refusedBeforeWork(['demo', '--quick', '--out', join(here, 'a-file')], 2, 'E_OUTPUT_PATH', /regular file, not a directory/);
    const report = join(here, 'report');
    mkdirSync(report);
    makeFifo(join(report, 'index.html'));
    await refusedBeforeWork(['demo', '--quick', '--out', report], 2, 'E_OUTPUT_PATH', /index\.html.*FIFO/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});

describe('input files that are not regular files', () => {
  // In a child process with a timeout: before the fix these blocked forever on the FIFO's open.
  it('inspect, compile, predict and --labels on a FIFO or a directory exit 3 at once, naming the path', { timeout: 120_000 }, async () => {
    const here = freshDir();
    const fifo = makeFifo(join(here, 'fifo'));
    const cases: [string[], RegExp][] = [
      [['inspect', fifo], /FIFO \(named pipe\), not a regular file/],
      [['compile', '--model', fifo], /FIFO/],
      [['predict', '--model', model, '--input', fifo], /FIFO/],
      [['predict', '--model', model, '--input', here], /is a directory, not a regular file/],
      [['predict', '--model', model, '--input', 'data/digits/t10k-images-idx3-ubyte.gz', '--labels', here], new RegExp(`${here}.*is a directory`)],
    ];
    const results = await Promise.all(cases.map(([args]) => runCliProcess(args, { timeoutMs: 60_000 })));
    results.forEach((result, i) => {
      expect(result.timedOut, cases[i]![0].join(' ')).toBe(false);
      expect(result.code, result.stderr).toBe(3);
      expect(result.stderr).toMatch(cases[i]![1]);
      expect(result.stderr).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    });
  });

  // Run only once a null device is known to be refused, so a regression cannot make this read /dev/zero for ever.
  const refusesDevices = devicesAllowed && (() => {
    try {
      readImages(makeDevice(join(scratch.dir, 'probe-null'), 'null'));
      return false;
    } catch (error) {
      return /character device/.test(String(error));
    }
  })();
  it.runIf(refusesDevices)('predict --input <a zero device> exits 3 without reading (it grew to 6 GB)', async () => {
    const zero = makeDevice(join(freshDir(), 'zero'), 'zero');
    const result = await runCli(['predict', '--model', model, '--input', zero]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/character device, not a regular file/);
  });
});

describe('impossible sizes are usage errors, not crashes', () => {
  it('compile --batch 1e9 (was "Invalid typed array length")', async () => {
    const result = await runCli(['compile', '--model', model, '--batch', '1e9']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--batch sizes must be integers from 1 to 65536, got 1000000000/);
  });

  it('train --arch 784-4398046511104-10 and an architecture over the file limit, before training', async () => {
    await refusedBeforeWork(['train', '--arch', '784-4398046511104-10'], 2, 'E_USAGE', /--arch: model architecture: linear layer 0 has outFeatures 4398046511104/);
    await refusedBeforeWork(['train', '--arch', '784-100000-10', '--out', join(freshDir(), 'm')], 2, 'E_USAGE', /more than 67108864 parameters/);
  });
});

describe('no silent wrong answers', () => {
  /** A 784-16-10 model file with two weights of 3e38: finite, but its outputs overflow. */
  function overflowingModel(): string {
    const record = modelToRecord(mlp([784, 16, 10], { seed: 1 }));
    const weight = record.params.get('layers.0.weight')!.dense!;
    weight[0] = 3e38;
    weight[1] = 3e38;
    const path = join(freshDir(), 'overflow.safetensors');
    writeFileSync(path, serializeModel(record, { encoding: 'dense' }, { allowNonFinite: true }));
    return path;
  }

  it('predict and compile --data refuse a model with overflowing weights (was "probability NaN%", exit 0)', async () => {
    const path = overflowingModel();
    const predicted = await runCli(['predict', '--model', path, '--input', 'data/digits/t10k-images-idx3-ubyte.gz']);
    expect(predicted.code).toBe(3);
    expect(predicted.stderr).toMatch(/E_OVERFLOW/);
    expect(predicted.stdout).not.toMatch(/NaN/);
    const compiled = await runCli(['compile', '--model', path, '--data', 'digits']);
    expect(compiled.code).toBe(3);
    expect(compiled.stdout).not.toMatch(/NaN/);
  });

  it('predict refuses a model without a linear layer (was "class 265")', async () => {
    const path = join(freshDir(), 'relu-only.safetensors');
    writeFileSync(path, encodeSafetensors(new Map(), { format: 'sparsegrad', format_version: '1', model: '{"layers":[{"type":"relu"}]}' }));
    const result = await runCli(['predict', '--model', path, '--input', 'data/digits/t10k-images-idx3-ubyte.gz']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/E_BAD_SPEC.*no linear layer/);
  });

  it('an empty test split is an error (was "test accuracy 0.00% (loss 0.0000)")', async () => {
    const data = freshDir();
    copyFileSync('data/digits/train-images-idx3-ubyte.gz', join(data, 'train-images-idx3-ubyte.gz'));
    copyFileSync('data/digits/train-labels-idx1-ubyte.gz', join(data, 'train-labels-idx1-ubyte.gz'));
    writeFileSync(join(data, 't10k-images-idx3-ubyte'), encodeIdx([0, 28, 28], new Uint8Array(0)));
    writeFileSync(join(data, 't10k-labels-idx1-ubyte'), encodeIdx([0], new Uint8Array(0)));
    const result = await runCli(['train', '--data', data, '--arch', '784-16-10', '--epochs', '1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/test split has no samples/);
    expect(result.stdout).not.toMatch(/accuracy/);
  });

  it('JSON pixels: 0-255 integers by default, 0-1 with --pixel-scale 1, anything else refused', async () => {
    const here = freshDir();
    writeFileSync(join(here, 'ints.json'), JSON.stringify(Array.from({ length: 784 }, (_, i) => i % 256)));
    writeFileSync(join(here, 'units.json'), JSON.stringify(Array.from({ length: 784 }, (_, i) => (i % 256) / 255)));
    const ints = await runCli(['predict', '--model', model, '--input', join(here, 'ints.json'), '--json']);
    const units = await runCli(['predict', '--model', model, '--input', join(here, 'units.json'), '--pixel-scale', '1', '--json']);
    expect(ints.code, ints.stderr).toBe(0);
    expect(units.json!['predictions']).toEqual(ints.json!['predictions']); // one scale, the same image
    const mixed = await runCli(['predict', '--model', model, '--input', join(here, 'units.json')]);
    expect(mixed.code).toBe(3);
    expect(mixed.stderr).toMatch(/pixels must be integers from 0 to 255/);
    expect((await runCli(['predict', '--model', model, '--input', join(here, 'ints.json'), '--pixel-scale', '1'])).stderr).toMatch(/numbers in \[0, 1\]/);
    expect((await runCli(['predict', '--model', model, '--input', join(here, 'ints.json'), '--pixel-scale', '100'])).code).toBe(2);
  });
});

describe('the process', () => {
  it('--version comes from package.json', async () => {
    const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
    const result = await runCli(['--version']);
    expect(result.stdout).toBe(`sparsegrad ${version}\n`);
  });

  it('`sparsegrad inspect FILE | true` ends quietly (it died with an EPIPE stack trace)', async () => {
    const result = await runCliProcess(['inspect', model], { closeStdout: true });
    expect(result.timedOut).toBe(false);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
  });
});
