import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as fsPromises from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFormatError, SparsegradError } from '../../src/errors.ts';
import { serializeModel } from '../../src/io/model-file.ts';
import {
  loadModelFile,
  readModelFileHeader,
  saveFileAtomically,
  saveModel,
  saveModelFile,
  type SaveFileSystem,
} from '../../src/node/model-io.ts';
import { SMALL_SPEC, sampleRecord, withElement } from '../fixtures/model-files.ts';

const root = mkdtempSync(join(tmpdir(), 'sparsegrad-io-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
const freshDir = () => {
  const dir = join(root, `case-${dirCount++}`);
  mkdirSync(dir);
  return dir;
};

async function expectCode(promise: Promise<unknown>, code: string): Promise<string> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SparsegradError);
    expect((error as SparsegradError).code, (error as Error).message).toBe(code);
    return (error as Error).message;
  }
  throw new Error(`expected ${code}`);
}

/** The file system, except that the n-th write to a temporary file (or its fsync) fails like a full disk. */
function failingFs(options: { failWriteNumber?: number; failSync?: boolean }): SaveFileSystem {
  let writes = 0;
  return {
    rename: fsPromises.rename,
    unlink: fsPromises.unlink,
    open: (async (path: string, flags: string, mode?: number) => {
      const handle = await fsPromises.open(path, flags, mode);
      if (!String(path).includes('.tmp-')) return handle;
      return new Proxy(handle, {
        get(target, property) {
          if (property === 'write') {
            return async (...args: unknown[]) => {
              writes++;
              if (writes === options.failWriteNumber) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
              return (target.write as (...a: unknown[]) => Promise<unknown>)(...args);
            };
          }
          if (property === 'sync' && options.failSync === true) return async () => Promise.reject(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
          const value = Reflect.get(target, property) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
    }) as SaveFileSystem['open'],
  };
}

describe('saveModelFile / loadModelFile', () => {
  const record = sampleRecord(SMALL_SPEC, { sparsity: 0.6, masks: true, seed: 8, training: { epochs: 2 } });
  const bytes = serializeModel(record);

  it('saves and loads, leaving only the target file', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    await saveModel(path, record);
    expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    const loaded = await loadModelFile(path);
    expect(serializeModel(loaded)).toEqual(bytes);
  });

  it('replaces an existing file whole', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old contents that are longer than nothing');
    await saveModelFile(path, bytes);
    expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('a write failing midway leaves the old file intact and no temporary file', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, bytes);
    const big = new Uint8Array(3 * 1024 * 1024 + 17).fill(7); // several write chunks; the second one fails
    const message = await expectCode(saveFileAtomically(path, big, failingFs({ failWriteNumber: 2 })), 'E_WRITE_FAILED');
    expect(message).toMatch(/model.safetensors.*no space left on device \(ENOSPC\)/);
    expect(new Uint8Array(readFileSync(path))).toEqual(bytes);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('a failing fsync also aborts the save cleanly', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    await expectCode(saveFileAtomically(path, bytes, failingFs({ failSync: true })), 'E_WRITE_FAILED');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a failing rename leaves the target alone and no litter', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, 'old');
    const failingRename: SaveFileSystem = { ...fsPromises, rename: async () => Promise.reject(Object.assign(new Error('EXDEV: cross-device link not permitted, rename'), { code: 'EXDEV' })) };
    expect(await expectCode(saveFileAtomically(path, bytes, failingRename), 'E_WRITE_FAILED')).toMatch(/cross-device link not permitted \(EXDEV\)/);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readFileSync(path, 'utf8')).toBe('old');
  });

  it('a directory or a missing directory at the target is refused before anything is written (output rules)', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    mkdirSync(path);
    writeFileSync(join(path, 'keep.txt'), 'x');
    await expectCode(saveModelFile(path, bytes), 'E_OUTPUT_PATH');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
    expect(readdirSync(path)).toEqual(['keep.txt']);
    const missing = join(root, 'no-such-dir', 'model.safetensors');
    expect(await expectCode(saveModelFile(missing, bytes), 'E_OUTPUT_PATH')).toMatch(/no-such-dir.*does not exist/);
  });

  it('unreadable files are E_UNREADABLE with the path and the reason', async () => {
    const missing = join(root, 'missing.safetensors');
    const message = await expectCode(loadModelFile(missing), 'E_UNREADABLE');
    expect(message).toContain(missing);
    expect(message).toMatch(/no such file or directory \(ENOENT\)/);
    expect(await expectCode(loadModelFile(root), 'E_UNREADABLE')).toMatch(/not a regular file/);
  });

  it('checks the size before reading', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, bytes);
    expect(await expectCode(loadModelFile(path, { maxFileBytes: 100 }), 'E_FILE_TOO_LARGE')).toMatch(/over the limit of 100/);
  });

  it('corrupt content is a ModelFormatError from the format checks', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    writeFileSync(path, bytes.subarray(0, 100));
    await expect(loadModelFile(path)).rejects.toBeInstanceOf(ModelFormatError);
  });

  it('readModelFileHeader reads only the header', async () => {
    const dir = freshDir();
    const path = join(dir, 'model.safetensors');
    // Bad weights are invisible to a header-only read, which proves the data was not checked (or read).
    writeFileSync(path, withElement(bytes, 'layers.0.bias', 0, NaN));
    const header = await readModelFileHeader(path, { maxFileBytes: 100 }); // the file limit is for full loads
    expect(header.spec).toEqual(SMALL_SPEC);
    expect(header.training).toEqual({ epochs: 2 });
    await expect(loadModelFile(path)).rejects.toThrow(/NaN/);
    // Size problems are still found, from fs.stat.
    writeFileSync(path, bytes.subarray(0, bytes.length - 1));
    expect(await expectCode(readModelFileHeader(path), 'E_MODEL_TRUNCATED')).toBeTruthy();
    const huge = bytes.slice();
    new DataView(huge.buffer).setBigUint64(0, 2n ** 63n, true);
    writeFileSync(path, huge);
    expect(await expectCode(readModelFileHeader(path), 'E_HEADER_TOO_LARGE')).toBeTruthy();
    writeFileSync(path, bytes.subarray(0, 5));
    expect(await expectCode(readModelFileHeader(path), 'E_MODEL_TRUNCATED')).toBeTruthy();
  });
});
