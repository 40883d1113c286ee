/**
 * Output paths (issue 12, item 1): a save replaces only a regular file the user may write, never a device,
 * a FIFO, a directory or a read-only file, and writes through a symlink only when asked (followSymlinks,
 * the CLI's --follow-symlinks). Device nodes are made with mknod inside a scratch directory, never /dev.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SparsegradError } from '../../src/errors.ts';
import { serializeModel } from '../../src/io/model-file.ts';
import { writeFileAtomically } from '../../src/node/files.ts';
import { saveModel, saveModelFile } from '../../src/node/model-io.ts';
import { checkOutputDirectory, checkOutputPath, prepareOutputDirectory } from '../../src/node/output-path.ts';
import { SMALL_SPEC, sampleRecord } from '../fixtures/model-files.ts';
import { canMakeDevices, makeDevice, makeFifo, scratchDirectory } from '../support/special-files.ts';

const scratch = scratchDirectory('output');
afterAll(scratch.remove);
let caseNumber = 0;
const freshDir = (): string => {
  const dir = join(scratch.dir, `case-${caseNumber++}`);
  mkdirSync(dir);
  return dir;
};
const record = sampleRecord(SMALL_SPEC, { seed: 4 });
const bytes = serializeModel(record);
const devicesAllowed = canMakeDevices();

/** Runs a save that must be refused; returns the error message after checking its code. */
async function refused(save: Promise<unknown>, code = 'E_OUTPUT_PATH'): Promise<string> {
  try {
    await save;
  } catch (error) {
    expect(error).toBeInstanceOf(SparsegradError);
    expect((error as SparsegradError).code, (error as Error).message).toBe(code);
    return (error as Error).message;
  }
  throw new Error('the save was not refused');
}

describe('saving never replaces what is not a regular file', () => {
  it.runIf(devicesAllowed)('refuses a device node and leaves it a device (the /dev/full case)', async () => {
    const dir = freshDir();
    const device = makeDevice(join(dir, 'full'), 'full');
    expect(await refused(saveModelFile(device, bytes))).toMatch(/character device/);
    expect(lstatSync(device).isCharacterDevice()).toBe(true);
    expect(readdirSync(dir)).toEqual(['full']);
  });

  it('refuses a FIFO and leaves it a FIFO', async () => {
    const dir = freshDir();
    const fifo = makeFifo(join(dir, 'pipe'));
    expect(await refused(saveModelFile(fifo, bytes))).toMatch(/FIFO/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['pipe']);
  });

  it('refuses a directory, before writing anything', async () => {
    const dir = freshDir();
    const target = join(dir, 'model.safetensors');
    mkdirSync(target);
    expect(await refused(saveModel(target, record))).toMatch(/is a directory/);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('refuses a read-only file, even where the directory is writable (and even for root)', async () => {
    const dir = freshDir();
    const target = join(dir, 'model.safetensors');
    writeFileSync(target, 'precious');
    chmodSync(target, 0o444);
    expect(await refused(saveModelFile(target, bytes))).toMatch(/read-only/);
    expect(readFileSync(target, 'utf8')).toBe('precious');
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });

  it('refuses a missing directory, naming it', async () => {
    const target = join(scratch.dir, 'no-such-dir', 'model.safetensors');
    expect(await refused(saveModelFile(target, bytes))).toMatch(/no-such-dir.*does not exist/);
  });

  it('replaces a regular file and keeps its permissions', async () => {
    const dir = freshDir();
    const target = join(dir, 'model.safetensors');
    writeFileSync(target, 'old');
    chmodSync(target, 0o600);
    await saveModelFile(target, bytes);
    expect(new Uint8Array(readFileSync(target))).toEqual(bytes);
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir)).toEqual(['model.safetensors']);
  });
});

describe('symbolic links', () => {
  it('are refused by default: neither the link nor its target changes', async () => {
    const dir = freshDir();
    const target = join(dir, 'real.safetensors');
    const link = join(dir, 'link.safetensors');
    writeFileSync(target, 'old');
    symlinkSync(target, link);
    expect(await refused(saveModelFile(link, bytes))).toMatch(/symbolic link.*follow/);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(target, 'utf8')).toBe('old');
  });

  it('are written through with followSymlinks: the target gets the bytes, the link stays a link', async () => {
    const dir = freshDir();
    const target = join(dir, 'real.safetensors');
    const link = join(dir, 'link.safetensors');
    writeFileSync(target, 'old');
    symlinkSync('real.safetensors', link);
    await saveModelFile(link, bytes, { followSymlinks: true });
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('real.safetensors');
    expect(new Uint8Array(readFileSync(target))).toEqual(bytes);
    expect(readdirSync(dir).sort()).toEqual(['link.safetensors', 'real.safetensors']);
    await writeFileAtomically(link, 'text', { followSymlinks: true });
    expect(readFileSync(target, 'utf8')).toBe('text');
  });

  it('to a FIFO, a device or nothing are refused even with followSymlinks', async () => {
    const dir = freshDir();
    const fifoLink = join(dir, 'to-fifo');
    symlinkSync(makeFifo(join(dir, 'pipe')), fifoLink);
    expect(await refused(saveModelFile(fifoLink, bytes, { followSymlinks: true }))).toMatch(/FIFO/);
    const dangling = join(dir, 'dangling');
    symlinkSync(join(dir, 'nothing-here'), dangling);
    expect(await refused(saveModelFile(dangling, bytes, { followSymlinks: true }))).toMatch(/points to nothing/);
    if (devicesAllowed) {
      const deviceLink = join(dir, 'to-null');
      symlinkSync(makeDevice(join(dir, 'null'), 'null'), deviceLink);
      expect(await refused(saveModelFile(deviceLink, bytes, { followSymlinks: true }))).toMatch(/character device/);
    }
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
  });
});

describe('writeFileAtomically (reports, JSON tables, charts, ONNX files) follows the same rules', () => {
  it('refuses a FIFO and a directory', async () => {
    const dir = freshDir();
    expect(await refused(writeFileAtomically(makeFifo(join(dir, 'out.json')), '{}'))).toMatch(/FIFO/);
    mkdirSync(join(dir, 'out.svg'));
    expect(await refused(writeFileAtomically(join(dir, 'out.svg'), '<svg/>'))).toMatch(/directory/);
    expect(readdirSync(dir).sort()).toEqual(['out.json', 'out.svg']);
  });
});

describe('checkOutputPath / checkOutputDirectory (what the CLI calls before any work)', () => {
  it('accepts a new file in an existing directory or a writable regular file, and returns where to write', () => {
    const dir = freshDir();
    expect(checkOutputPath(join(dir, 'new.bin'))).toBe(join(dir, 'new.bin'));
    writeFileSync(join(dir, 'old.bin'), 'x');
    expect(checkOutputPath(join(dir, 'old.bin'))).toBe(join(dir, 'old.bin'));
    symlinkSync('old.bin', join(dir, 'link.bin'));
    expect(() => checkOutputPath(join(dir, 'link.bin'))).toThrow(/symbolic link/);
    expect(checkOutputPath(join(dir, 'link.bin'), { followSymlinks: true })).toBe(join(dir, 'old.bin'));
    expect(() => checkOutputPath('')).toThrow(/non-empty/);
  });

  it('accepts a missing or existing directory for a report folder, and refuses anything else there', () => {
    const dir = freshDir();
    expect(checkOutputDirectory(join(dir, 'report'))).toBe(join(dir, 'report'));
    mkdirSync(join(dir, 'existing'));
    expect(checkOutputDirectory(join(dir, 'existing'))).toBe(join(dir, 'existing'));
    writeFileSync(join(dir, 'file'), 'x');
    expect(() => checkOutputDirectory(join(dir, 'file'))).toThrow(/regular file, not a directory/);
    makeFifo(join(dir, 'fifo'));
    expect(() => checkOutputDirectory(join(dir, 'fifo'))).toThrow(/FIFO/);
    symlinkSync('existing', join(dir, 'link'));
    expect(() => checkOutputDirectory(join(dir, 'link'))).toThrow(/symbolic link/);
    expect(checkOutputDirectory(join(dir, 'link'), { followSymlinks: true })).toBe(join(dir, 'existing'));
    expect(prepareOutputDirectory(join(dir, 'made'))).toBe(join(dir, 'made'));
    expect(statSync(join(dir, 'made')).isDirectory()).toBe(true);
    expect(() => prepareOutputDirectory(join(dir, 'no', 'parents'))).toThrow(/cannot create the directory/); // only the folder asked for
  });
});
