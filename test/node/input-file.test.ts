/**
 * Input files (issue 12, items 3, 7, 8): every reader (model files, IDX data and labels, images) opens only
 * regular files, checks them again after opening, caps what it reads, refuses files that change while read,
 * and reads a model's header before its weights. FIFOs and device nodes are made inside a scratch directory;
 * a FIFO that a broken reader would block on is unblocked by a helper process, so no test can hang.
 */
import * as fs from 'node:fs';
import { mkdirSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeIdx } from '../../src/data/idx.ts';
import { DataFormatError, ModelFormatError, SparsegradError } from '../../src/errors.ts';
import { serializeModel } from '../../src/io/model-file.ts';
import { loadIdxDirectory, readIdxFile } from '../../src/node/data.ts';
import { readImages } from '../../src/node/image.ts';
import { readInputFile, type InputFileSystem, type InputSpec } from '../../src/node/input-file.ts';
import { loadModelFile, readModelBytes, readModelFileHeader } from '../../src/node/model-io.ts';
import { SMALL_SPEC, sampleRecord } from '../fixtures/model-files.ts';
import { canMakeDevices, makeDevice, makeFifo, scratchDirectory, unblockFifoLater } from '../support/special-files.ts';

const scratch = scratchDirectory('input');
afterAll(scratch.remove);
let caseNumber = 0;
const freshDir = (): string => {
  const dir = join(scratch.dir, `case-${caseNumber++}`);
  mkdirSync(dir);
  return dir;
};
const modelBytes = serializeModel(sampleRecord(SMALL_SPEC, { seed: 2 }));
const devicesAllowed = canMakeDevices();

/** The error a read throws (sync or async), checked to be a typed library error. */
async function failure(read: () => unknown): Promise<SparsegradError> {
  try {
    await read();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(SparsegradError);
    return error as SparsegradError;
  }
  throw new Error('the read was not refused');
}

function symlinkTo(target: string, link: string): string {
  symlinkSync(target, link);
  return target;
}

/** Every reader of the library, on one path. */
const READERS: Record<string, (path: string) => unknown> = {
  loadModelFile: (path) => loadModelFile(path),
  readModelFileHeader: (path) => readModelFileHeader(path),
  readIdxFile: (path) => readIdxFile(path),
  readImages: (path) => readImages(path),
};

describe('every reader refuses what is not a regular file, naming it', () => {
  for (const [reader, read] of Object.entries(READERS)) {
    it(`${reader}: a FIFO is refused at once (no blocking open)`, { timeout: 20_000 }, async () => {
      const fifo = makeFifo(join(freshDir(), 'pipe'));
      const cancel = unblockFifoLater(fifo, 5_000); // a reader that blocks would be released, and fail below
      try {
        const error = await failure(() => read(fifo));
        expect(error.message).toMatch(/FIFO \(named pipe\), not a regular file/);
        expect(error.message).toContain(fifo);
      } finally {
        cancel();
      }
    });

    it(`${reader}: a directory is refused with its name (not a bare EISDIR)`, async () => {
      const dir = freshDir();
      const error = await failure(() => read(dir));
      expect(error.message).toMatch(/is a directory, not a regular file/);
      expect(error.message).toContain(dir);
    });

    // A null device, not a zero one: a reader that wrongly reads a device then sees an empty file and fails
    // this test, where /dev/zero would fill the machine's memory (the CLI test covers /dev/zero behind a guard).
    it.runIf(devicesAllowed)(`${reader}: a device node is refused without reading it`, async () => {
      const device = makeDevice(join(freshDir(), 'null'), 'null');
      expect((await failure(() => read(device))).message).toMatch(/character device, not a regular file/);
    });

    it(`${reader}: a symbolic link to a FIFO is refused; a missing file names the path`, { timeout: 20_000 }, async () => {
      const dir = freshDir();
      const cancel = unblockFifoLater(symlinkTo(makeFifo(join(dir, 'pipe')), join(dir, 'link')), 5_000);
      try {
        expect((await failure(() => read(join(dir, 'link')))).message).toMatch(/FIFO/);
      } finally {
        cancel();
      }
      expect((await failure(() => read(join(dir, 'missing')))).message).toMatch(/missing.*no such file or directory/);
    });
  }

  it('model files fail as ModelFormatError E_UNREADABLE, data and images as DataFormatError', async () => {
    const dir = freshDir();
    const model = await failure(() => loadModelFile(dir));
    expect(model).toBeInstanceOf(ModelFormatError);
    expect(model.code).toBe('E_UNREADABLE');
    expect(await failure(() => readIdxFile(dir))).toBeInstanceOf(DataFormatError);
    expect(await failure(() => readImages(dir))).toBeInstanceOf(DataFormatError);
  });

  it('a symbolic link to a regular file is read (reading through links is harmless)', async () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'model.safetensors'), modelBytes);
    symlinkSync('model.safetensors', join(dir, 'link.safetensors'));
    expect((await loadModelFile(join(dir, 'link.safetensors'))).spec).toEqual(SMALL_SPEC);
  });

  it('an IDX directory whose files are FIFOs is refused, naming the file', { timeout: 20_000 }, () => {
    const dir = freshDir();
    const names = ['train-images-idx3-ubyte', 'train-labels-idx1-ubyte', 't10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte'];
    const cancels = names.map((name) => unblockFifoLater(makeFifo(join(dir, name)), 5_000));
    try {
      expect(() => loadIdxDirectory(dir)).toThrow(/train-images-idx3-ubyte.*FIFO/);
    } finally {
      for (const cancel of cancels) cancel();
    }
  });

  it('an IDX directory with an empty test split is refused (it would report 0.00 % accuracy)', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'train-images-idx3-ubyte'), encodeIdx([2, 2, 2], new Uint8Array(8)));
    writeFileSync(join(dir, 'train-labels-idx1-ubyte'), encodeIdx([2], new Uint8Array([1, 2])));
    writeFileSync(join(dir, 't10k-images-idx3-ubyte'), encodeIdx([0, 2, 2], new Uint8Array(0)));
    writeFileSync(join(dir, 't10k-labels-idx1-ubyte'), encodeIdx([0], new Uint8Array(0)));
    expect(() => loadIdxDirectory(dir)).toThrow(/test split has no samples/);
  });
});

describe('files that change while they are read', () => {
  /** The real file system, except that `change` runs on the file right after the first read call. */
  function changingFs(change: () => void): InputFileSystem {
    let reads = 0;
    return {
      statSync: fs.statSync,
      openSync: fs.openSync,
      fstatSync: fs.fstatSync,
      closeSync: fs.closeSync,
      readSync: ((...args: Parameters<typeof fs.readSync>) => {
        const count = fs.readSync(...args);
        if (++reads === 1) change();
        return count;
      }) as typeof fs.readSync,
    };
  }
  const spec = (fileSystem: InputFileSystem): InputSpec => ({ what: 'test file', maxBytes: 1 << 20, fail: (code, message) => new ModelFormatError(code, message), fileSystem });

  it('a file that grows while read is refused (a reader never follows it without bound)', async () => {
    const path = join(freshDir(), 'growing');
    writeFileSync(path, new Uint8Array(100));
    const error = await failure(() => readInputFile(path, spec(changingFs(() => fs.appendFileSync(path, new Uint8Array(50))))));
    expect(error.code).toBe('E_FILE_CHANGED');
    expect(error.message).toMatch(/grew past 100 bytes/);
  });

  it('a file that shrinks while read is refused', async () => {
    const path = join(freshDir(), 'shrinking');
    writeFileSync(path, modelBytes);
    // The model loader reads the 8-byte prefix first, then the header: truncate in between.
    const error = await failure(() => readModelBytes(path, {}, changingFs(() => truncateSync(path, 20))));
    expect(error.code).toBe('E_FILE_CHANGED');
    expect(error.message).toMatch(/shrank/);
  });

  it('a file rewritten in place (same size) while read is refused', async () => {
    const path = join(freshDir(), 'rewritten');
    writeFileSync(path, new Uint8Array(64));
    const rewrite = () => {
      fs.writeFileSync(path, new Uint8Array(64).fill(1));
      const later = new Date(Date.now() + 5_000);
      fs.utimesSync(path, later, later);
    };
    expect((await failure(() => readInputFile(path, spec(changingFs(rewrite))))).message).toMatch(/was modified/);
  });
});

describe('the model loader reads the header before the weights', () => {
  /** The real file system, counting the bytes read. */
  function countingFs(): { fileSystem: InputFileSystem; bytesRead: () => number } {
    let total = 0;
    return {
      fileSystem: {
        statSync: fs.statSync, openSync: fs.openSync, fstatSync: fs.fstatSync, closeSync: fs.closeSync,
        readSync: ((...args: Parameters<typeof fs.readSync>) => {
          const count = fs.readSync(...args);
          total += count;
          return count;
        }) as typeof fs.readSync,
      },
      bytesRead: () => total,
    };
  }

  it('a 900 MB file with a broken header is refused after reading only its 8 + N header bytes', async () => {
    const path = join(freshDir(), 'huge.safetensors');
    const bad = modelBytes.slice();
    const headerLength = Number(new DataView(bad.buffer).getBigUint64(0, true));
    bad[8 + 1] = 0x7b; // "{{...": invalid JSON
    writeFileSync(path, bad);
    truncateSync(path, 900 * 1024 * 1024); // sparse: no disk space is used
    const counter = countingFs();
    const error = await failure(() => readModelBytes(path, {}, counter.fileSystem));
    expect(error.code).toBe('E_HEADER_JSON');
    expect(error.message).toContain(path); // format errors name the file too
    expect(counter.bytesRead()).toBe(8 + headerLength);
  });

  it('a valid file is read exactly once, header first, and loads', async () => {
    const path = join(freshDir(), 'model.safetensors');
    writeFileSync(path, modelBytes);
    const counter = countingFs();
    const bytes = await readModelBytes(path, {}, counter.fileSystem);
    expect(bytes).toEqual(modelBytes);
    expect(counter.bytesRead()).toBe(modelBytes.length);
  });

  it('a header length past the limit or the file is refused after reading 8 bytes', async () => {
    const path = join(freshDir(), 'model.safetensors');
    const bad = modelBytes.slice();
    new DataView(bad.buffer).setBigUint64(0, 2n ** 40n, true);
    writeFileSync(path, bad);
    const counter = countingFs();
    expect((await failure(() => readModelBytes(path, {}, counter.fileSystem))).code).toBe('E_HEADER_TOO_LARGE');
    expect(counter.bytesRead()).toBe(8);
  });
});
