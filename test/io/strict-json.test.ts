import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { JsonNumber, jsonKind, jsonText, jsonToPlain, parseStrictJson, type JsonValue } from '../../src/io/strict-json.ts';

const parse = (text: string, maxDepth = 8): JsonValue => parseStrictJson(text, { what: 'test', errorCode: 'E_TEST', maxDepth });

/** The error a parse throws: code and message. */
function failure(run: () => unknown): ModelFormatError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    return error as ModelFormatError;
  }
  throw new Error('expected the text to be refused');
}

describe('parseStrictJson', () => {
  it('agrees with JSON.parse on valid documents without duplicates', () => {
    for (const text of ['{"a":[1,-2.5e3,true,false,null,"x\\n\\"\\/\\\\\\u00e9"]}', '[]', '{}', '"s"', '-0', '1E+2', ' 3 ', '"\\ud83d\\ude00"', '{"b\\tc":{"d":[[]]}}']) {
      expect(jsonToPlain(parse(text))).toEqual(JSON.parse(text));
    }
  });

  it('rejects what JSON forbids, with the caller error code and the position', () => {
    for (const text of ['', '{', '[1,]', '01', '1.', '.5', '+1', 'NaN', 'Infinity', 'tru', '"\t"', '{"a" 1}', '[1 2]', '"\\u12"', 'undefined', '{a:1}', "'s'", '"\\x41"', '[1]x']) {
      expect(failure(() => parse(text)).code, text).toBe('E_TEST');
    }
    expect(failure(() => parse('[1, 2 3]')).message).toMatch(/^test: invalid JSON at character 6: expected "," or "]"/);
  });

  it('rejects duplicate keys at any depth with E_DUPLICATE_KEY, naming the path (JSON.parse keeps the last silently)', () => {
    const top = failure(() => parse('{"a":1,"a":2}'));
    expect(top.code).toBe('E_DUPLICATE_KEY');
    expect(top.message).toMatch(/duplicate key "a" in the object at the top level/);
    const nested = failure(() => parse('{"x":[{"k":1},{"k":1,"k":2}]}'));
    expect(nested.code).toBe('E_DUPLICATE_KEY');
    expect(nested.message).toMatch(/at "x"\[1\]/);
    // Keys equal after unescaping are duplicates too.
    expect(failure(() => parse('{"a":1,"\\u0061":2}')).code).toBe('E_DUPLICATE_KEY');
  });

  it('rejects lone surrogate escapes, which cannot round-trip through UTF-8', () => {
    for (const text of ['"\\ud800"', '"\\udc00"', '"\\ud800\\u0041"', '"\\ud800x"']) expect(failure(() => parse(text)).code, text).toBe('E_TEST');
  });

  it('bounds nesting (no deep recursion on hostile input)', () => {
    expect(() => parse('[[[]]]', 3)).not.toThrow();
    expect(failure(() => parse('[[[[]]]]', 3)).message).toMatch(/nesting deeper than 3 levels/);
    expect(failure(() => parse('['.repeat(100_000), 8)).message).toMatch(/nesting deeper than 8/);
  });

  it("keeps '__proto__' as data: objects are Maps, and jsonToPlain makes null-prototype objects", () => {
    const parsed = parse('{"__proto__":{"polluted":true}}');
    expect(parsed).toBeInstanceOf(Map);
    const plain = jsonToPlain(parsed) as Record<string, unknown>;
    expect(Object.getPrototypeOf(plain)).toBeNull();
    expect(Object.keys(plain)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('keeps the spelling of numbers, so callers can insist on plain integers', () => {
    const value = parse('[2, 2.0, 2e0, -0]') as JsonNumber[];
    expect(value.map((n) => n.text)).toEqual(['2', '2.0', '2e0', '-0']);
    expect(value.map((n) => n.value)).toEqual([2, 2, 2, -0]);
  });

  it("allows only spaces after the value when trailing is 'spaces' (safetensors padding)", () => {
    const options = { what: 'header', errorCode: 'E_HEADER_JSON', maxDepth: 3, trailing: 'spaces' as const };
    expect(jsonToPlain(parseStrictJson('{}    ', options))).toEqual({});
    expect(failure(() => parseStrictJson('{}\n', options)).message).toMatch(/padding must be spaces/);
    expect(failure(() => parseStrictJson('{} \0', options)).code).toBe('E_HEADER_JSON');
  });
});

describe('jsonKind / jsonText', () => {
  it('names kinds and renders values compactly, capped for error messages', () => {
    expect(['null', '1', '[]', '{}', '"s"', 'true'].map((t) => jsonKind(parse(t)))).toEqual(['null', 'a number', 'an array', 'an object', 'a string', 'a boolean']);
    expect(jsonText(parse('{"a":[1e3, 2.50]}'))).toBe('{"a":[1e3,2.50]}');
    const long = jsonText(parse(JSON.stringify('x'.repeat(200))));
    expect(long.length).toBe(80);
    expect(long.endsWith('...')).toBe(true);
  });
});
