/**
 * parseStrictJson in detail: the exact message and character position of every kind of refusal, the
 * escape and surrogate edges, which whitespace counts, and how values are written back for messages.
 * The codes alone (strict-json.test.ts) let mutants through that moved a position, described a character
 * wrongly or accepted an edge case (found by `npm run mutate -- io`).
 */
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.ts';
import { jsonText, jsonToPlain, parseStrictJson, type JsonValue } from '../../src/io/strict-json.ts';

const parse = (text: string, trailing?: 'spaces'): JsonValue =>
  parseStrictJson(text, { what: 'doc', errorCode: 'E_TEST', maxDepth: 4, ...(trailing === undefined ? {} : { trailing }) });

function messageOf(text: string, trailing?: 'spaces'): string {
  try {
    parse(text, trailing);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFormatError);
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be refused`);
}

describe('parseStrictJson: every refusal says where and what', () => {
  it('syntax errors name the character position and what was found', () => {
    const cases: [string, string][] = [
      ['', 'at character 0: unexpected end of text where a value was expected'],
      ['[1,', 'at character 3: unexpected end of text where a value was expected'],
      ['\u0001', 'at character 0: unexpected character U+0001 where a value was expected'],
      ['\u007f', 'at character 0: unexpected character U+007F where a value was expected'],
      ['é', 'at character 0: unexpected character U+00E9 where a value was expected'],
      ['~', 'at character 0: unexpected "~" where a value was expected'],
      ['{1:2}', 'at character 1: expected a quoted key, found "1"'],
      ['{"a" 1}', 'at character 5: expected ":" after key "a", found "1"'],
      ['{"a":1 "b":2}', 'at character 7: expected "," or "}" in an object, found """'],
      ['{"a":1', 'at character 6: expected "," or "}" in an object, found end of text'],
      ['[1 2]', 'at character 3: expected "," or "]" in an array, found "2"'],
      ['[1', 'at character 2: expected "," or "]" in an array, found end of text'],
      ['1 x', 'at character 2: unexpected "x" after the JSON value'],
      ['"abc', 'at character 4: unterminated string'],
      ['"a\tb"', 'at character 2: unescaped control character 0x09 in a string'],
      ['"\\x41"', 'at character 2: invalid escape sequence "\\x"'],
      ['"\\', 'at character 2: invalid escape sequence "\\"'],
      ['"\\u12"', 'at character 3: invalid \\u escape'],
      ['"\\u00g0"', 'at character 3: invalid \\u escape'],
      ['-', 'at character 0: invalid number'],
      ['[[[[[1]]]]]', 'at character 4: nesting deeper than 4 levels'],
      ['{"a":{"b":{"c":{"d":{}}}}}', 'at character 20: nesting deeper than 4 levels'],
    ];
    for (const [text, expected] of cases) expect(messageOf(text), JSON.stringify(text)).toBe(`doc: invalid JSON ${expected}`);
    expect(jsonToPlain(parse('[[[[1]]]]'))).toEqual([[[[1]]]]); // depth 4 is allowed
  });

  it('surrogate escapes: a pair is one character; anything else is refused', () => {
    expect(parse('"\\ud83d\\ude00"')).toBe('😀');
    expect(parse('"\\udbff\\udfff"')).toBe('\u{10ffff}'); // the last pair
    expect(parse('"\\ud800\\udc00"')).toBe('\u{10000}'); // the first pair
    expect(parse('"\\ud7ff\\ue000"')).toBe('\ud7ff\ue000'); // just outside the surrogate ranges
    const lone = 'a low surrogate escape without a high surrogate before it';
    const unpaired = 'a high surrogate escape not followed by a low one';
    expect(messageOf('"\\udc00"')).toMatch(lone);
    expect(messageOf('"\\udfff"')).toMatch(lone);
    for (const text of ['"\\ud800"', '"\\udbff"', '"\\ud800x"', '"\\ud800\\n"', '"\\ud800\\\\u"', '"\\ud800\\udbff"', '"\\ud800\\ue000"', '"\\ud800u"']) {
      expect(messageOf(text), text).toMatch(unpaired);
    }
  });

  it('every escape of RFC 8259, and text around escapes kept', () => {
    expect(parse('"a\\"b\\\\c\\/d\\be\\ff\\ng\\rh\\ti\\u0041j"')).toBe('a"b\\c/d\be\ff\ng\rh\ti' + 'Aj');
  });

  it('whitespace: space, tab, CR and LF between tokens; only spaces after the value in safetensors padding mode', () => {
    expect(jsonToPlain(parse('\t{\r\n"a"\t:\r[ 1 ,\n2 ]\n}\r\n\t '))).toEqual({ a: [1, 2] });
    expect(jsonToPlain(parse('{}   ', 'spaces'))).toEqual({});
    expect(messageOf('{}\t', 'spaces')).toBe('doc: invalid JSON at character 2: unexpected character U+0009 after the JSON value (padding must be spaces, 0x20)');
    expect(messageOf('\u000b1')).toMatch(/character U\+000B where a value was expected/); // vertical tab is not JSON whitespace
  });

  it('numbers: the whole RFC grammar, nothing more', () => {
    const ok = ['0', '-0', '12', '-3.25', '1e5', '1E-5', '2.5e+3'];
    for (const text of ok) expect(jsonToPlain(parse(text)), text).toBe(Number(text));
    expect(messageOf('-a')).toBe('doc: invalid JSON at character 0: invalid number');
    expect(messageOf('1.')).toBe('doc: invalid JSON at character 1: unexpected "." after the JSON value');
  });

  it('duplicate keys name the path through objects and arrays', () => {
    expect(messageOf('{"a":{"b":[0,{"c":1,"c":2}]}}')).toBe('doc: duplicate key "c" in the object at "a"."b"[1] (character 23)');
    expect(messageOf('[{"x":1,"x":1}]')).toBe('doc: duplicate key "x" in the object at [0] (character 11)');
  });

  it('jsonToPlain makes ordinary writable, enumerable data properties', () => {
    const plain = jsonToPlain(parse('{"a":1,"b":[true,null]}')) as Record<string, unknown>;
    expect(Object.getOwnPropertyDescriptor(plain, 'a')).toEqual({ value: 1, enumerable: true, writable: true, configurable: true });
    plain['a'] = 2;
    expect(plain['a']).toBe(2);
    expect(JSON.stringify(plain)).toBe('{"a":2,"b":[true,null]}');
  });

  it('jsonText writes values back compactly, cutting long arrays, objects and deep nesting for messages', () => {
    const numbers = `[${Array.from({ length: 20 }, (_, i) => i).join(',')}]`;
    expect(jsonText(parse(numbers))).toBe('[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,...]');
    expect(jsonText(parse(`[${Array.from({ length: 16 }, () => 0).join(',')}]`))).toBe(`[${Array.from({ length: 16 }, () => 0).join(',')}]`);
    // (Objects are cut after 16 fields too, but 17 fields never fit in the 80 characters jsonText keeps.)
    expect(jsonText(parse('{"a":[1,2],"b":{"c":null}}'))).toBe('{"a":[1,2],"b":{"c":null}}');
    const deep = parseStrictJson('[[[[[[[[[[[1]]]]]]]]]]]', { what: 'x', errorCode: 'E', maxDepth: 20 });
    expect(jsonText(deep)).toBe('[[[[[[[[[...]]]]]]]]]');
    expect(jsonText(parse(JSON.stringify('y'.repeat(78))))).toBe(JSON.stringify('y'.repeat(78))); // exactly 80: kept
    expect(jsonText(parse(JSON.stringify('y'.repeat(79))))).toBe(`"${'y'.repeat(76)}...`);
  });
});
