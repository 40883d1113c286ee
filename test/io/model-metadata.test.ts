/**
 * The model file's `__metadata__` (src/io/model-metadata.ts): training facts written as JSON only when JSON
 * holds them faithfully (and so that the strict reader reads them back), and every metadata entry checked on
 * reading, each refusal with its exact message. Written from the survivors of `npm run mutate -- io`; two
 * were bugs: the literal text `\ud800` in a string was refused as a lone surrogate, and a key holding a
 * real lone surrogate was written into a file the reader then refused.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, ModelFormatError } from '../../src/errors.ts';
import { deserializeModel, readModelHeader, serializeModel } from '../../src/io/model-file.ts';
import { trainingToJson } from '../../src/io/model-metadata.ts';
import { sampleRecord, TINY_SPEC, withMetadata } from '../fixtures/model-files.ts';

function refusal(run: () => unknown): { error: unknown; message: string; code: string | undefined } {
  try {
    run();
  } catch (error) {
    return { error, message: (error as Error).message, code: (error as ModelFormatError).code };
  }
  throw new Error('expected a refusal');
}

/** `levels` nested one-field objects (or arrays) around 1. */
const nest = (levels: number, array = false): unknown => {
  let value: unknown = 1;
  for (let i = 0; i < levels; i++) value = array ? [value] : { a: value };
  return value;
};

describe('trainingToJson', () => {
  it('writes JSON values compactly, in key order', () => {
    expect(trainingToJson({ a: [1, { b: null }, 'x'], c: true, d: -0.5 })).toBe('{"a":[1,{"b":null},"x"],"c":true,"d":-0.5}');
    expect(trainingToJson(Object.assign(Object.create(null) as Record<string, unknown>, { k: 1 }))).toBe('{"k":1}');
  });

  it('refuses what JSON cannot hold faithfully, naming the path', () => {
    const cases: [Record<string, unknown>, string][] = [
      [new Date(0) as unknown as Record<string, unknown>, 'training metadata must be a plain object'],
      [{ list: [1, Number.NaN] }, 'training metadata at training.list[1] is NaN; JSON holds only finite numbers'],
      [{ x: { y: Number.NEGATIVE_INFINITY } }, 'training metadata at training.x.y is -Infinity; JSON holds only finite numbers'],
      [{ when: new Date(0) }, 'training metadata at training.when is a class instance; only JSON values can be saved'],
      [{ fn: () => 1 }, 'training metadata at training.fn is function; only JSON values can be saved'],
      [{ big: 1n }, 'training metadata at training.big is bigint; only JSON values can be saved'],
      [{ missing: undefined }, 'training metadata at training.missing is undefined; only JSON values can be saved'],
      [JSON.parse('{"o":{"__proto__":1}}') as Record<string, unknown>, 'training metadata at training.o has a "__proto__" key, which files may not contain'],
      [{ s: ['ok', 'a\ud800'] }, 'training metadata at training.s[1] holds a lone UTF-16 surrogate'],
      [{ s: '\udc00b' }, 'training metadata at training.s holds a lone UTF-16 surrogate'],
      [{ ['k\udbff']: 1 }, 'training metadata at training has a key with a lone UTF-16 surrogate'],
    ];
    for (const [training, message] of cases) {
      const result = refusal(() => trainingToJson(training));
      expect(result.error, message).toBeInstanceOf(ConfigError);
      expect(result.message).toBe(message);
    }
  });

  it('surrogate pairs and the literal text "\\ud800" are fine, and come back from a file unchanged', () => {
    const training = { emoji: '😀', path: 'C:\\ud800files', pattern: '\\udbff' };
    const bytes = serializeModel({ ...sampleRecord(TINY_SPEC), training });
    expect(deserializeModel(bytes).training).toEqual(training);
  });

  it('nests up to 32 levels (objects and arrays alike), not 33', () => {
    for (const array of [false, true]) {
      expect(() => trainingToJson({ n: nest(31, array) })).not.toThrow();
      const deep = refusal(() => trainingToJson({ n: nest(32, array) }));
      expect(deep.message).toMatch(/^training metadata is nested deeper than 32 levels at training\.n/);
      expect(deep.message).toContain(array ? '.n[0][0]' : '.n.a.a');
    }
  });
});

describe('reading __metadata__', () => {
  const good = serializeModel(sampleRecord(TINY_SPEC, { seed: 1 }), { encoding: 'dense' });
  const reject = (bytes: Uint8Array, limits = {}): { code: string | undefined; message: string } => {
    const { code, message } = refusal(() => deserializeModel(bytes, limits));
    return { code, message };
  };

  it('names unknown entries and the known ones', () => {
    expect(reject(withMetadata(good, 'author', 'me'))).toEqual({ code: 'E_BAD_METADATA', message: 'unknown __metadata__ entry "author" (known: format, format_version, model, encodings, training)' });
  });

  it('each JSON entry is parsed strictly under its own name and depth', () => {
    expect(reject(withMetadata(good, 'encodings', '{'))).toMatchObject({ code: 'E_BAD_METADATA', message: expect.stringMatching(/^__metadata__\.encodings: invalid JSON at character 1/) });
    expect(reject(withMetadata(good, 'training', '[1'))).toMatchObject({ message: expect.stringMatching(/^__metadata__\.training: invalid JSON/) });
    expect(reject(withMetadata(good, 'model', '{"layers":[[[[[]]]]]}'))).toMatchObject({ message: expect.stringMatching(/^__metadata__\.model: invalid JSON .*nesting deeper than 4 levels/) });
    expect(reject(withMetadata(good, 'encodings', '{"a":{"b":[[1]]}}'))).toMatchObject({ message: expect.stringMatching(/nesting deeper than 3 levels/) });
    const deepTraining = JSON.stringify({ n: nest(30) });
    expect(deserializeModel(withMetadata(good, 'training', deepTraining)).training).toEqual({ n: nest(30) });
    expect(reject(withMetadata(good, 'training', JSON.stringify({ n: nest(32) })))).toMatchObject({ message: expect.stringMatching(/nesting deeper than 32 levels/) });
  });

  it('"__proto__" keys are refused anywhere in training, with their path', () => {
    expect(reject(withMetadata(good, 'training', '{"a":[0,{"__proto__":1}]}'))).toEqual({ code: 'E_BAD_METADATA', message: '__metadata__.training.a[1] has a "__proto__" key, which is not allowed' });
    expect(reject(withMetadata(good, 'training', '{"x":{"y":{"__proto__":{}}}}'))).toEqual({ code: 'E_BAD_METADATA', message: '__metadata__.training.x.y has a "__proto__" key, which is not allowed' });
  });

  it('a file without training facts has no training key at all', () => {
    expect('training' in deserializeModel(good)).toBe(false);
    expect('training' in readModelHeader(good)).toBe(false);
  });

  it('the size limit counts UTF-8 bytes: exactly the limit is accepted, one more byte is not', () => {
    const training = (text: string): string => JSON.stringify({ t: text });
    const ascii = training('x'.repeat(400)); // the limit applies to every entry; the model's is far shorter
    const limit = ascii.length;
    expect(deserializeModel(withMetadata(good, 'training', ascii), { maxMetadataJsonBytes: limit }).training).toEqual({ t: 'x'.repeat(400) });
    expect(reject(withMetadata(good, 'training', training('x'.repeat(401))), { maxMetadataJsonBytes: limit })).toEqual({
      code: 'E_BAD_METADATA', message: `__metadata__.training is larger than the limit of ${limit} bytes`,
    });
    // 'é' is one UTF-16 unit but two UTF-8 bytes: 8 + 2·200 = 408 bytes, well below the 3 × 208 units bound.
    const accented = training('é'.repeat(200));
    expect(deserializeModel(withMetadata(good, 'training', accented), { maxMetadataJsonBytes: 408 }).training).toEqual({ t: 'é'.repeat(200) });
    expect(reject(withMetadata(good, 'training', accented), { maxMetadataJsonBytes: 407 })).toMatchObject({ code: 'E_BAD_METADATA' });
  });

  it('encodings entries are objects with known fields only, each naming what is wrong', () => {
    const entryError = (why: string) => ({ code: 'E_BAD_METADATA', message: `__metadata__.encodings entry for "layers.0.weight"${why}` });
    const known = '(known: kind, shape, values, bits, indices, gapBits, entries, symbols, huffman)';
    for (const [entry, why] of [
      ['"csr"', ' must be an object such as {"kind":"csr","shape":[rows, cols]}'],
      ['[]', ' must be an object such as {"kind":"csr","shape":[rows, cols]}'],
      ['{"kind":"csr"}', ': "shape" must be an array'],
      ['{"kind":"csr","shape":[2,2],"x":1}', `: unknown field "x" ${known}`],
      ['{"kind":"coo","shape":[2,2]}', ': "kind" must be "dense" or "csr", got "coo"'],
      ['{"kind":"csr","shape":"2x2"}', ': "shape" must be an array'],
      ['{"shape":[2,2],"form":"csr"}', `: unknown field "form" ${known}`],
    ] as const) {
      expect(reject(withMetadata(good, 'encodings', `{"layers.0.weight":${entry}}`)), entry).toEqual(entryError(why));
    }
    expect(reject(withMetadata(good, 'encodings', '{"layers.0.weight":{"kind":"csr","shape":[3,2]}}'))).toEqual({
      code: 'E_BAD_SHAPE', message: '__metadata__.encodings gives "layers.0.weight" shape [3,2] but the architecture needs [2, 2]',
    });
  });
});
