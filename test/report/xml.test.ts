import { describe, expect, it } from 'vitest';
import { parseXml, textOf } from './xml.ts';

// The well-formedness checker must itself reject broken markup, or the chart tests prove nothing.
describe('test XML checker', () => {
  it('accepts well-formed markup and decodes entities', () => {
    const root = parseXml('<a x="1 &lt; 2"><b/>t&amp;&#39;&#x41;<c y=\'q\'>z</c></a>');
    expect(root.attributes['x']).toBe('1 < 2');
    expect(textOf(root)).toBe("t&'Az");
  });

  it.each([
    ['<a><b></a></b>', /does not match/],
    ['<a>', /unclosed/],
    ['<a x=1/>', /not quoted/],
    ['<a x="1" x="2"/>', /duplicate/],
    ['<a>1 & 2</a>', /bare '&'/],
    ['<a>x < y</a>', /expected a name|raw '<'/],
    ['<a/><b/>', /more than one root/],
    ['<a x="<"/>', /raw '<'/],
  ])('rejects %s', (source, message) => {
    expect(() => parseXml(source)).toThrow(message);
  });
});
