/**
 * The look shared by every chart: layout constants (CSS pixels), the palette, text measuring, truncating and
 * wrapping (there is no font engine, so widths are estimated), coordinate formatting, and the checks on
 * caller-supplied colours, sizes and text. Part of the SVG charts (svg-chart.ts).
 */
import { ConfigError } from '../errors.ts';
import { escapeXml } from './escape.ts';

/**
 * The Okabe–Ito palette (Okabe & Ito 2002, "Color Universal Design"), which stays distinguishable under the
 * common colour-vision deficiencies. Ordered for a white background; the pale yellow comes last.
 */
export const PALETTE: readonly string[] = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

export const FONT_FAMILY = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
export const TICK_FONT = 12;
export const AXIS_TITLE_FONT = 13;
export const TITLE_FONT = 16;
export const LEGEND_FONT = 12;
export const LEGEND_ROW = 20;
export const MARKER_SIZE = 3.8;
export const TICK_LENGTH = 5;
export const MIN_PLOT_HEIGHT = 140;
export const TEXT_COLOR = '#222';
export const AXIS_COLOR = '#555';
export const GRID_COLOR = '#e3e3e3';
export const REFERENCE_COLOR = '#666';

/** A pixel coordinate written with at most two decimals (short output, stable across runs). */
export function px(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return Object.is(rounded, -0) ? '0' : String(rounded);
}

/**
 * An estimate of the rendered width of `text` in a sans-serif font. There is no font engine here, so
 * characters are sorted into narrow, normal and wide classes; good enough to keep labels from colliding.
 */
export function estimateTextWidth(text: string, fontSize: number, bold = false): number {
  let ems = 0;
  for (const ch of text) {
    if (/[il.,:;'|!jtf()[\] ]/.test(ch)) ems += 0.34;
    else if (/[mwMW%@]/.test(ch)) ems += 0.92;
    else if (/[A-Z]/.test(ch)) ems += 0.7;
    else ems += 0.62; // digits and most lower-case letters; generous, as Linux fonts (DejaVu) run wide
  }
  return ems * fontSize * (bold ? 1.08 : 1);
}

/** Shortens text to at most `maxWidth` pixels, ending with "…" when cut. */
export function truncateText(text: string, maxWidth: number, fontSize: number, bold = false): string {
  if (estimateTextWidth(text, fontSize, bold) <= maxWidth) return text;
  const chars = Array.from(text);
  while (chars.length > 1 && estimateTextWidth(chars.join('') + '…', fontSize, bold) > maxWidth) chars.pop();
  return chars.join('') + '…';
}

/** Breaks text into lines at most `maxWidth` wide (by words), keeping at most `maxLines`. */
export function wrapText(text: string, maxWidth: number, fontSize: number, maxLines: number, bold = false): string[] {
  const lines: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const candidate = current === '' ? word : `${current} ${word}`;
    if (current !== '' && estimateTextWidth(candidate, fontSize, bold) > maxWidth) {
      lines.push(current);
      current = word;
    } else {
      current = candidate;
    }
  }
  if (current !== '' || lines.length === 0) lines.push(current);
  if (lines.length > maxLines) {
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = truncateText(`${kept[maxLines - 1] ?? ''} ${lines.slice(maxLines).join(' ')}`, maxWidth, fontSize, bold);
    return kept.map((line) => truncateText(line, maxWidth, fontSize, bold));
  }
  return lines.map((line) => truncateText(line, maxWidth, fontSize, bold));
}

const SAFE_COLOR = /^(#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,30}|(rgb|rgba|hsl|hsla)\([0-9\s.,%/+-]{1,60}\))$/;

export function checkColor(color: string | undefined, fallback: string, what: string): string {
  if (color === undefined) return fallback;
  if (typeof color !== 'string' || !SAFE_COLOR.test(color)) throw new ConfigError(`${what}: colour ${JSON.stringify(color)} is not a CSS colour this chart accepts (#rgb, #rrggbb, a name, rgb() or hsl())`);
  return color;
}

export function checkSize(value: number, name: string): number {
  if (!Number.isFinite(value) || value < 160 || value > 4000) throw new ConfigError(`chart ${name} must be a number from 160 to 4000 pixels, got ${value}`);
  return value;
}

export function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new ConfigError(`${what} must be a string, got ${typeof value}`);
  return value;
}

/** An SVG `<text>` element; `content` is escaped here, attributes are trusted (built by this module). */
export function textElement(x: number, y: number, content: string, attributes: string): string {
  return `<text x="${px(x)}" y="${px(y)}" ${attributes}>${escapeXml(content)}</text>`;
}
