/**
 * A strict JSON parser for untrusted text (the safetensors header and the model file's metadata strings).
 *
 * JSON.parse is not enough for a file format that must mean one thing to every reader: it keeps the last of
 * two duplicate keys silently (a classic parser differential: another reader may keep the first), accepts
 * lone surrogate escapes that cannot round-trip through UTF-8, has no depth limit, and builds objects whose
 * `__proto__` key can reach a prototype. This parser follows RFC 8259 exactly and refuses all of that.
 * Objects become Maps (key order kept, no prototype), and numbers keep their source text so a caller can
 * insist on plain integers ("2", not "2.0" or "2e0"), as the reference (Rust) safetensors reader does.
 *
 * Every failure is a ModelFormatError with the caller's error code (E_DUPLICATE_KEY for duplicate keys) and
 * the character position.
 */

import { ModelFormatError } from '../errors.ts';

const SPACE = 0x20;

/**
 * A JSON number, kept with its source text so callers can insist on plain integers ("2", not "2.0" or "2e0"),
 * which is what the reference (Rust) reader accepts for sizes and offsets.
 */
export class JsonNumber {
  constructor(
    readonly text: string,
    readonly value: number,
  ) {}
}

/** Parsed JSON: objects are Maps (key order kept, no prototype), numbers keep their text. */
export type JsonValue = null | boolean | string | JsonNumber | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export interface StrictJsonOptions {
  /** Names the text in error messages, e.g. `header` or `metadata "model"`. */
  readonly what: string;
  /** The ModelFormatError code for syntax errors. Duplicate keys always use E_DUPLICATE_KEY. */
  readonly errorCode: string;
  /** Deepest nesting of objects and arrays accepted; keeps the parser's recursion bounded. */
  readonly maxDepth: number;
  /** What may follow the value: JSON whitespace (default) or only spaces (safetensors padding). */
  readonly trailing?: 'whitespace' | 'spaces';
}

/**
 * Parses RFC 8259 JSON and rejects what JSON.parse lets through: duplicate keys at any level (JSON.parse keeps
 * the last one silently), lone surrogate escapes (they cannot round-trip through UTF-8) and nesting deeper than
 * `maxDepth`. Objects become Maps, so a key such as `__proto__` is just data.
 */
export function parseStrictJson(text: string, options: StrictJsonOptions): JsonValue {
  return new StrictJsonParser(text, options).parseDocument();
}

class StrictJsonParser {
  private position = 0;
  /** Keys from the root to the current value, for error messages. */
  private readonly path: string[] = [];

  constructor(
    private readonly text: string,
    private readonly options: StrictJsonOptions,
  ) {}

  parseDocument(): JsonValue {
    this.skipWhitespace();
    const value = this.parseValue(0);
    if (this.options.trailing === 'spaces') {
      while (this.text.charCodeAt(this.position) === SPACE) this.position++;
      if (this.position < this.text.length) {
        this.fail(`unexpected ${this.describeCharacter()} after the JSON value (padding must be spaces, 0x20)`);
      }
    } else {
      this.skipWhitespace();
      if (this.position < this.text.length) this.fail(`unexpected ${this.describeCharacter()} after the JSON value`);
    }
    return value;
  }

  private parseValue(depth: number): JsonValue {
    const c = this.text.charCodeAt(this.position);
    if (c === 0x7b /* { */) return this.parseObject(depth + 1);
    if (c === 0x5b /* [ */) return this.parseArray(depth + 1);
    if (c === 0x22 /* " */) return this.parseString();
    if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (this.text.startsWith('true', this.position)) {
      this.position += 4;
      return true;
    }
    if (this.text.startsWith('false', this.position)) {
      this.position += 5;
      return false;
    }
    if (this.text.startsWith('null', this.position)) {
      this.position += 4;
      return null;
    }
    return this.fail(`unexpected ${this.describeCharacter()} where a value was expected`);
  }

  private parseObject(depth: number): JsonObject {
    if (depth > this.options.maxDepth) this.fail(`nesting deeper than ${this.options.maxDepth} levels`);
    this.position++; // {
    const object: JsonObject = new Map();
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x7d /* } */) {
      this.position++;
      return object;
    }
    for (;;) {
      if (this.text.charCodeAt(this.position) !== 0x22) this.fail(`expected a quoted key, found ${this.describeCharacter()}`);
      const key = this.parseString();
      if (object.has(key)) {
        throw new ModelFormatError(
          'E_DUPLICATE_KEY',
          `${this.options.what}: duplicate key ${JSON.stringify(key)} in the object at ${this.formatPath()} (character ${this.position})`,
        );
      }
      this.skipWhitespace();
      if (this.text.charCodeAt(this.position) !== 0x3a /* : */) this.fail(`expected ":" after key ${JSON.stringify(key)}, found ${this.describeCharacter()}`);
      this.position++;
      this.skipWhitespace();
      this.path.push(key);
      object.set(key, this.parseValue(depth));
      this.path.pop();
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.position);
      this.position++;
      if (c === 0x7d /* } */) return object;
      if (c !== 0x2c /* , */) {
        this.position--;
        this.fail(`expected "," or "}" in an object, found ${this.describeCharacter()}`);
      }
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number): JsonValue[] {
    if (depth > this.options.maxDepth) this.fail(`nesting deeper than ${this.options.maxDepth} levels`);
    this.position++; // [
    const array: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.position) === 0x5d /* ] */) {
      this.position++;
      return array;
    }
    for (;;) {
      this.path.push(`[${array.length}]`);
      array.push(this.parseValue(depth));
      this.path.pop();
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.position);
      this.position++;
      if (c === 0x5d /* ] */) return array;
      if (c !== 0x2c /* , */) {
        this.position--;
        this.fail(`expected "," or "]" in an array, found ${this.describeCharacter()}`);
      }
      this.skipWhitespace();
    }
  }

  private parseString(): string {
    const text = this.text;
    this.position++; // opening quote
    let result = '';
    let chunkStart = this.position;
    for (;;) {
      if (this.position >= text.length) this.fail('unterminated string');
      const c = text.charCodeAt(this.position);
      if (c === 0x22) {
        result += text.slice(chunkStart, this.position);
        this.position++;
        return result;
      }
      if (c < 0x20) this.fail(`unescaped control character 0x${c.toString(16).padStart(2, '0')} in a string`);
      if (c !== 0x5c /* \ */) {
        this.position++;
        continue;
      }
      result += text.slice(chunkStart, this.position);
      const escape = text[this.position + 1];
      this.position += 2;
      switch (escape) {
        case '"':
        case '\\':
        case '/':
          result += escape;
          break;
        case 'b':
          result += '\b';
          break;
        case 'f':
          result += '\f';
          break;
        case 'n':
          result += '\n';
          break;
        case 'r':
          result += '\r';
          break;
        case 't':
          result += '\t';
          break;
        case 'u': {
          const unit = this.readHex4();
          if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('a low surrogate escape without a high surrogate before it');
          if (unit >= 0xd800 && unit <= 0xdbff) {
            if (text[this.position] !== '\\' || text[this.position + 1] !== 'u') this.fail('a high surrogate escape not followed by a low one');
            this.position += 2;
            const low = this.readHex4();
            if (low < 0xdc00 || low > 0xdfff) this.fail('a high surrogate escape not followed by a low one');
            result += String.fromCharCode(unit, low);
          } else {
            result += String.fromCharCode(unit);
          }
          break;
        }
        default:
          this.position -= 1;
          this.fail(`invalid escape sequence "\\${escape ?? ''}"`);
      }
      chunkStart = this.position;
    }
  }

  private readHex4(): number {
    const digits = this.text.slice(this.position, this.position + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(digits)) this.fail('invalid \\u escape');
    this.position += 4;
    return parseInt(digits, 16);
  }

  private parseNumber(): JsonNumber {
    const match = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    match.lastIndex = this.position;
    const found = match.exec(this.text);
    if (found === null) return this.fail('invalid number');
    this.position += found[0].length;
    return new JsonNumber(found[0], Number(found[0]));
  }

  private skipWhitespace(): void {
    for (;;) {
      const c = this.text.charCodeAt(this.position);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) this.position++;
      else return;
    }
  }

  private describeCharacter(): string {
    if (this.position >= this.text.length) return 'end of text';
    const c = this.text.charCodeAt(this.position);
    return c >= 0x20 && c < 0x7f ? `"${this.text[this.position]}"` : `character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }

  private formatPath(): string {
    return this.path.length === 0 ? 'the top level' : this.path.map((key) => (key.startsWith('[') ? key : `.${JSON.stringify(key)}`)).join('').replace(/^\./, '');
  }

  private fail(reason: string): never {
    throw new ModelFormatError(this.options.errorCode, `${this.options.what}: invalid JSON at character ${this.position}: ${reason}`);
  }
}

/** Converts parsed JSON into plain JavaScript values: objects with a null prototype, numbers as numbers. */
export function jsonToPlain(value: JsonValue): unknown {
  if (value instanceof JsonNumber) return value.value;
  if (Array.isArray(value)) return value.map(jsonToPlain);
  if (value instanceof Map) {
    const object: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    // Own data properties via defineProperty: even a "__proto__" key stays data, never a prototype.
    for (const [key, item] of value) Object.defineProperty(object, key, { value: jsonToPlain(item), enumerable: true, writable: true, configurable: true });
    return object;
  }
  return value;
}

/** A short name for the kind of a parsed JSON value, for error messages. */
export function jsonKind(value: JsonValue): string {
  if (value === null) return 'null';
  if (value instanceof JsonNumber) return 'a number';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Map) return 'an object';
  return typeof value === 'string' ? 'a string' : 'a boolean';
}

/** The parsed JSON written back as compact text (numbers in their original spelling), capped at 80 characters for messages. */
export function jsonText(value: JsonValue): string {
  const text = renderJson(value, 0);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function renderJson(value: JsonValue, depth: number): string {
  if (value instanceof JsonNumber) return value.text;
  if (depth > 8) return '...';
  if (Array.isArray(value)) return `[${value.slice(0, 16).map((item) => renderJson(item, depth + 1)).join(',')}${value.length > 16 ? ',...' : ''}]`;
  if (value instanceof Map) {
    const fields = [...value].slice(0, 16).map(([key, item]) => `${JSON.stringify(key)}:${renderJson(item, depth + 1)}`);
    return `{${fields.join(',')}${value.size > 16 ? ',...' : ''}}`;
  }
  return JSON.stringify(value);
}
