/**
 * Strict UTF-8 for the file formats. TextEncoder and TextDecoder exist in every browser and in Node, but the
 * core is type-checked without DOM or Node typings, so they are reached through globalThis with just the
 * members used here.
 */

interface Utf8Codecs {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: 'utf-8', options: { fatal: boolean; ignoreBOM: boolean }) => { decode(bytes: Uint8Array): string };
}
const codecs = globalThis as unknown as Utf8Codecs;

/** Encodes text as UTF-8. A lone UTF-16 surrogate becomes U+FFFD (callers that care check first). */
export function utf8Encode(text: string): Uint8Array {
  return new codecs.TextEncoder().encode(text);
}

/** Decodes strict UTF-8 (no replacement characters, a byte-order mark is kept as text); null if invalid. */
export function utf8DecodeStrict(bytes: Uint8Array): string | null {
  try {
    return new codecs.TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
