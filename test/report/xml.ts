/**
 * A tiny, strict XML parser for tests: enough to prove that generated SVG and HTML are well-formed
 * (balanced tags, quoted attributes, no duplicate attributes, no stray `<` or `&`) and to read text back
 * with entities decoded, so a test can check that a hostile name comes out as the same characters.
 * Not a general XML library: no namespaces, no DTDs beyond `<!DOCTYPE html>`, no processing of encodings.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly children: ReadonlyArray<XmlElement | string>;
}

const NAME = /[A-Za-z_:][\w:.-]*/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

function decodeEntities(text: string, where: number): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch === '<') throw new Error(`raw '<' in text or attribute near offset ${where + i}`);
    if (ch !== '&') {
      out += ch;
      continue;
    }
    ENTITY.lastIndex = i;
    const match = ENTITY.exec(text);
    if (match === null) throw new Error(`bare '&' near offset ${where + i}: ${JSON.stringify(text.slice(i, i + 12))}`);
    const entity = match[0];
    const named: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&apos;': "'" };
    out += named[entity] ?? String.fromCodePoint(entity.startsWith('&#x') ? Number.parseInt(entity.slice(3, -1), 16) : Number(entity.slice(2, -1)));
    i += entity.length - 1;
  }
  return out;
}

/** Parses `source`; throws an Error describing the first problem. Returns the root element. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const stack: Array<{ name: string; attributes: Record<string, string>; children: Array<XmlElement | string> }> = [];
  let root: XmlElement | undefined;

  const expectName = (): string => {
    NAME.lastIndex = pos;
    const match = NAME.exec(source);
    if (match === null) throw new Error(`expected a name at offset ${pos}: ${JSON.stringify(source.slice(pos, pos + 20))}`);
    pos += match[0].length;
    return match[0];
  };
  const skipSpace = (): void => {
    while (pos < source.length && /\s/.test(source[pos] as string)) pos++;
  };

  skipSpace();
  if (source.startsWith('<?xml', pos)) pos = source.indexOf('?>', pos) + 2;
  skipSpace();
  if (/^<!DOCTYPE html>/i.test(source.slice(pos, pos + 15))) pos += 15;

  while (pos < source.length) {
    const next = source.indexOf('<', pos);
    const text = source.slice(pos, next === -1 ? source.length : next);
    if (text !== '') {
      const decoded = decodeEntities(text, pos);
      const parent = stack[stack.length - 1];
      if (parent === undefined) {
        if (decoded.trim() !== '') throw new Error(`text outside the root element at offset ${pos}`);
      } else {
        parent.children.push(decoded);
      }
    }
    if (next === -1) break;
    pos = next;
    if (source.startsWith('<!--', pos)) {
      const end = source.indexOf('-->', pos + 4);
      if (end === -1) throw new Error(`unterminated comment at offset ${pos}`);
      pos = end + 3;
      continue;
    }
    if (source.startsWith('<![CDATA[', pos)) {
      const end = source.indexOf(']]>', pos);
      if (end === -1) throw new Error(`unterminated CDATA at offset ${pos}`);
      stack[stack.length - 1]?.children.push(source.slice(pos + 9, end));
      pos = end + 3;
      continue;
    }
    if (source.startsWith('</', pos)) {
      pos += 2;
      const name = expectName();
      skipSpace();
      if (source[pos] !== '>') throw new Error(`malformed end tag </${name} at offset ${pos}`);
      pos++;
      const open = stack.pop();
      if (open === undefined || open.name !== name) throw new Error(`end tag </${name}> does not match <${open?.name ?? '(nothing)'}> at offset ${pos}`);
      const element: XmlElement = open;
      const parent = stack[stack.length - 1];
      if (parent === undefined) {
        if (root !== undefined) throw new Error('more than one root element');
        root = element;
      } else {
        parent.children.push(element);
      }
      continue;
    }
    // A start tag.
    pos++;
    const name = expectName();
    const attributes: Record<string, string> = {};
    for (;;) {
      const before = pos;
      skipSpace();
      if (source.startsWith('/>', pos) || source[pos] === '>') break;
      if (pos === before) throw new Error(`expected whitespace before an attribute in <${name}> at offset ${pos}`);
      const attribute = expectName();
      if (Object.hasOwn(attributes, attribute)) throw new Error(`duplicate attribute ${attribute} in <${name}>`);
      skipSpace();
      if (source[pos] !== '=') throw new Error(`attribute ${attribute} in <${name}> has no value`);
      pos++;
      skipSpace();
      const quote = source[pos];
      if (quote !== '"' && quote !== "'") throw new Error(`attribute ${attribute} in <${name}> is not quoted`);
      const end = source.indexOf(quote, pos + 1);
      if (end === -1) throw new Error(`unterminated attribute ${attribute} in <${name}>`);
      attributes[attribute] = decodeEntities(source.slice(pos + 1, end), pos + 1);
      pos = end + 1;
    }
    const selfClosing = source.startsWith('/>', pos);
    pos += selfClosing ? 2 : 1;
    const element = { name, attributes, children: [] as Array<XmlElement | string> };
    if (selfClosing) {
      const parent = stack[stack.length - 1];
      if (parent === undefined) {
        if (root !== undefined) throw new Error('more than one root element');
        root = element;
      } else {
        parent.children.push(element);
      }
    } else {
      if (stack.length === 0 && root !== undefined) throw new Error('more than one root element');
      stack.push(element);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed element <${stack[stack.length - 1]?.name}>`);
  if (root === undefined) throw new Error('no root element');
  return root;
}

/** All elements named `name` in document order (depth first). */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (element: XmlElement): void => {
    if (element.name === name) found.push(element);
    for (const child of element.children) if (typeof child !== 'string') visit(child);
  };
  visit(root);
  return found;
}

/** The concatenated text inside an element, entities decoded. */
export function textOf(element: XmlElement): string {
  return element.children.map((child) => (typeof child === 'string' ? child : textOf(child))).join('');
}

/** Elements whose class attribute contains `className`. */
export function findByClass(root: XmlElement, className: string): XmlElement[] {
  const found: XmlElement[] = [];
  const visit = (element: XmlElement): void => {
    if ((element.attributes['class'] ?? '').split(/\s+/).includes(className)) found.push(element);
    for (const child of element.children) if (typeof child !== 'string') visit(child);
  };
  visit(root);
  return found;
}
