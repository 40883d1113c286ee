/**
 * Point markers: a different shape per series, so series stay apart even in greyscale or for colour-blind
 * readers. Part of the SVG charts (svg-chart.ts).
 */
import { escapeXml } from './escape.ts';
import { MARKER_SIZE, px } from './chart-style.ts';

export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down';
export const MARKER_SHAPES: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'];

export function markerElement(shape: MarkerShape, x: number, y: number, color: string, tooltip: string | undefined): string {
  const s = MARKER_SIZE;
  const path = (...corners: Array<[number, number]>): string => `d="M${corners.map(([cx, cy]) => `${px(cx)} ${px(cy)}`).join('L')}Z"`;
  let tag: 'circle' | 'rect' | 'path';
  let geometry: string;
  switch (shape) {
    case 'circle':
      tag = 'circle';
      geometry = `cx="${px(x)}" cy="${px(y)}" r="${px(s)}"`;
      break;
    case 'square':
      tag = 'rect';
      geometry = `x="${px(x - s * 0.9)}" y="${px(y - s * 0.9)}" width="${px(s * 1.8)}" height="${px(s * 1.8)}"`;
      break;
    case 'triangle':
      tag = 'path';
      geometry = path([x, y - s * 1.15], [x + s, y + s * 0.75], [x - s, y + s * 0.75]);
      break;
    case 'triangle-down':
      tag = 'path';
      geometry = path([x, y + s * 1.15], [x + s, y - s * 0.75], [x - s, y - s * 0.75]);
      break;
    case 'diamond':
      tag = 'path';
      geometry = path([x, y - s * 1.2], [x + s * 1.2, y], [x, y + s * 1.2], [x - s * 1.2, y]);
      break;
  }
  const open = `<${tag} ${geometry} fill="${color}" stroke="#fff" stroke-width="1"`;
  return tooltip === undefined ? `${open}/>` : `${open}><title>${escapeXml(tooltip)}</title></${tag}>`;
}
