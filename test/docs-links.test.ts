/**
 * Every relative link in the README and in docs/*.md points at a file that exists, and every in-page
 * anchor (`#section`) at a heading of the linked markdown file — so moving a section or renaming a file
 * cannot leave a dead link behind.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const documents = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** GitHub's heading anchor: lower case, punctuation other than '-' and '_' dropped, spaces to '-'. */
function anchorOf(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}

function anchorsIn(markdown: string): Set<string> {
  const withoutCode = markdown.replace(/```[\s\S]*?```/g, '');
  return new Set([...withoutCode.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1]!)));
}

describe('documentation links', () => {
  it('computes anchors as GitHub does', () => {
    expect(anchorOf('Fashion-MNIST (full, 60,000 / 10,000)')).toBe('fashion-mnist-full-60000--10000');
    expect(anchorOf('Files: what is read and what is written')).toBe('files-what-is-read-and-what-is-written');
  });

  for (const document of documents) {
    it(`${document}: every relative link and anchor resolves`, () => {
      const text = readFileSync(join(root, document), 'utf8').replace(/```[\s\S]*?```/g, '');
      const dead: string[] = [];
      for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue; // http:, https:, mailto:
        const [path, anchor] = target!.split('#') as [string, string | undefined];
        const file = path === '' ? join(root, document) : normalize(join(root, dirname(document), path));
        if (!existsSync(file)) {
          dead.push(`${target} (no such file)`);
          continue;
        }
        if (anchor !== undefined && file.endsWith('.md') && !anchorsIn(readFileSync(file, 'utf8')).has(anchor)) dead.push(`${target} (no such heading)`);
      }
      expect(dead).toEqual([]);
    });
  }
});
