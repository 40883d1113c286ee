import * as fsPromises from 'node:fs/promises';
import { saveFileAtomically } from './model-io.ts';

/**
 * Writes a text or binary file (reports, JSON tables, charts) with the same atomic temp-file + fsync +
 * rename procedure as model files, so a crash never leaves a half-written file.
 */
export async function writeFileAtomically(path: string, content: string | Uint8Array): Promise<void> {
  await saveFileAtomically(path, typeof content === 'string' ? new TextEncoder().encode(content) : content, fsPromises);
}
