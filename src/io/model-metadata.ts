/**
 * The model file's `__metadata__`: that a file is a sparsegrad model of a supported version, and its nested
 * JSON strings (the architecture, which weights are CSR, free-form training facts), parsed strictly and
 * within size limits. Part of the model file format (model-file.ts).
 */

import { ConfigError, ModelFormatError } from '../errors.ts';
import type { ModelSpec } from '../nn/spec.ts';
import { isPlainObject, parameterShapes, validateModelSpec } from './model-architecture.ts';
import type { ModelLimits } from './model-file.ts';
import { jsonKind, jsonToPlain, parseStrictJson, type JsonValue } from './strict-json.ts';
import { utf8Encode } from './utf8.ts';
import { isPlainEncoding, readEntry, type EncodingEntry } from './encodings/entry.ts';

/** The value of `__metadata__.format`. */
export const MODEL_FORMAT = 'sparsegrad';
/** The value of `__metadata__.format_version` this version reads and writes. */
export const MODEL_FORMAT_VERSION = '1';
/** Largest size of each JSON metadata string by default, in UTF-8 bytes. */
export const DEFAULT_MAX_METADATA_JSON_BYTES = 1024 * 1024;

const METADATA_KEYS = ['format', 'format_version', 'model', 'encodings', 'training'] as const;

/**
 * A high surrogate not followed by a low one, or a low one not preceded by a high one (code units; no `u`
 * flag). Tested on the string itself: its JSON text would also flag the literal characters `\ud800`.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Training facts as JSON. Refuses what JSON cannot hold faithfully (NaN, undefined, class instances, cycles). */
export function trainingToJson(training: Record<string, unknown>): string {
  if (!isPlainObject(training)) throw new ConfigError('training metadata must be a plain object');
  const write = (value: unknown, path: string, depth: number): string => {
    if (depth > 32) throw new ConfigError(`training metadata is nested deeper than 32 levels at ${path}`);
    if (value === null || typeof value === 'boolean') return String(value);
    if (typeof value === 'string') {
      if (LONE_SURROGATE.test(value)) throw new ConfigError(`training metadata at ${path} holds a lone UTF-16 surrogate`);
      return JSON.stringify(value);
    }
    if (typeof value === 'number') {
      if (!Number.isFinite(value)) throw new ConfigError(`training metadata at ${path} is ${value}; JSON holds only finite numbers`);
      return JSON.stringify(value);
    }
    if (Array.isArray(value)) return `[${value.map((item, i) => write(item, `${path}[${i}]`, depth + 1)).join(',')}]`;
    if (isPlainObject(value)) {
      const fields = Object.keys(value).map((key) => {
        if (key === '__proto__') throw new ConfigError(`training metadata at ${path} has a "__proto__" key, which files may not contain`);
        if (LONE_SURROGATE.test(key)) throw new ConfigError(`training metadata at ${path} has a key with a lone UTF-16 surrogate`);
        return `${JSON.stringify(key)}:${write(value[key], `${path}.${key}`, depth + 1)}`;
      });
      return `{${fields.join(',')}}`;
    }
    throw new ConfigError(`training metadata at ${path} is ${typeof value === 'object' ? 'a class instance' : typeof value}; only JSON values can be saved`);
  };
  return write(training, 'training', 0);
}

/** What the metadata of a sparsegrad file says, checked. */
export interface ProfileMetadata {
  readonly formatVersion: string;
  readonly spec: ModelSpec;
  /** Parameter name -> expected shape, in architecture order. */
  readonly expected: Map<string, readonly number[]>;
  /** Names of parameters stored as CSR. */
  readonly csrParams: Set<string>;
  /** Parameters stored in a compact encoding (quantized values or relative indices; encodings/entry.ts). */
  readonly compact: Map<string, EncodingEntry>;
  readonly training?: Record<string, unknown>;
}

/** Checks `__metadata__`: that this is a sparsegrad file of a supported version, and its nested JSON. */
export function readProfileMetadata(metadata: Map<string, string>, limits: ModelLimits): ProfileMetadata {
  const format = metadata.get('format');
  if (format !== MODEL_FORMAT) {
    const found = format === undefined ? 'it has no __metadata__.format entry' : `its __metadata__.format is ${JSON.stringify(format)}`;
    throw new ModelFormatError('E_NOT_SPARSEGRAD', `not a sparsegrad model file: it is a safetensors file, but ${found} (expected "${MODEL_FORMAT}")`);
  }
  const version = metadata.get('format_version');
  if (version !== MODEL_FORMAT_VERSION) {
    const found = version === undefined ? 'has no format_version' : `has format_version ${JSON.stringify(version)}`;
    throw new ModelFormatError('E_UNSUPPORTED_VERSION', `the model file ${found}; this version of sparsegrad reads format_version "${MODEL_FORMAT_VERSION}"`);
  }
  for (const key of metadata.keys()) {
    if (!(METADATA_KEYS as readonly string[]).includes(key)) {
      throw new ModelFormatError('E_BAD_METADATA', `unknown __metadata__ entry ${JSON.stringify(key)} (known: ${METADATA_KEYS.join(', ')})`);
    }
  }

  const modelText = metadata.get('model');
  if (modelText === undefined) throw new ModelFormatError('E_BAD_METADATA', 'the model file has no __metadata__.model (the architecture)');
  const spec = validateModelSpec(jsonToPlain(parseMetadataJson('model', modelText, 4, limits)), limits);
  const expected = parameterShapes(spec);

  const csrParams = new Set<string>();
  const compact = new Map<string, EncodingEntry>();
  const encodingsText = metadata.get('encodings');
  if (encodingsText !== undefined) {
    const encodings = parseMetadataJson('encodings', encodingsText, 3, limits);
    if (!(encodings instanceof Map)) throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings must be a JSON object, got ${jsonKind(encodings)}`);
    for (const [name, value] of encodings) {
      const entry = readEncodingEntry(name, value, expected);
      if (entry.kind === 'csr') csrParams.add(name);
      if (!isPlainEncoding(entry)) compact.set(name, entry);
    }
  }

  let training: Record<string, unknown> | undefined;
  const trainingText = metadata.get('training');
  if (trainingText !== undefined) {
    const parsed = parseMetadataJson('training', trainingText, 32, limits);
    if (!(parsed instanceof Map)) throw new ModelFormatError('E_BAD_METADATA', `__metadata__.training must be a JSON object, got ${jsonKind(parsed)}`);
    rejectProtoKeys(parsed, 'training');
    training = jsonToPlain(parsed) as Record<string, unknown>;
  }
  const profile = { formatVersion: version, spec, expected, csrParams, compact };
  return training === undefined ? profile : { ...profile, training };
}

function parseMetadataJson(key: string, text: string, maxDepth: number, limits: ModelLimits): JsonValue {
  const maxBytes = limits.maxMetadataJsonBytes ?? DEFAULT_MAX_METADATA_JSON_BYTES;
  // A UTF-16 code unit takes at most 3 UTF-8 bytes; only measure exactly when that bound is not enough.
  if (text.length * 3 > maxBytes && utf8Encode(text).length > maxBytes) {
    throw new ModelFormatError('E_BAD_METADATA', `__metadata__.${key} is larger than the limit of ${maxBytes} bytes`);
  }
  return parseStrictJson(text, { what: `__metadata__.${key}`, errorCode: 'E_BAD_METADATA', maxDepth });
}

/** One `encodings` entry (encodings/entry.ts): `"<param>": {"kind": "csr", "shape": [the weight's dimensions], ...}`. */
function readEncodingEntry(name: string, entry: JsonValue, expected: Map<string, readonly number[]>): EncodingEntry {
  const shape = expected.get(name);
  if (shape === undefined) {
    throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings names ${JSON.stringify(name)}, which is not a parameter of the architecture`);
  }
  const plain = jsonToPlain(entry);
  if (!isPlainObject(plain)) throw new ModelFormatError('E_BAD_METADATA', `__metadata__.encodings entry for "${name}" must be an object such as {"kind":"csr","shape":[rows, cols]}`);
  return readEntry(name, plain, shape);
}

function rejectProtoKeys(value: JsonValue, path: string): void {
  if (Array.isArray(value)) value.forEach((item, i) => rejectProtoKeys(item, `${path}[${i}]`));
  if (value instanceof Map) {
    for (const [key, item] of value) {
      if (key === '__proto__') throw new ModelFormatError('E_BAD_METADATA', `__metadata__.${path} has a "__proto__" key, which is not allowed`);
      rejectProtoKeys(item, `${path}.${key}`);
    }
  }
}
