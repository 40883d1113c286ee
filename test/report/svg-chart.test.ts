import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { barChart, lineChart, PALETTE, type LineChartOptions } from '../../src/report/svg-chart.ts';
import { findAll, findByClass, parseXml, textOf, type XmlElement } from './xml.ts';

const HOSTILE = `<script>alert("x")</script> & 'quotes' ]]> <!--`;

function basicOptions(overrides: Partial<LineChartOptions> = {}): LineChartOptions {
  return {
    title: 'Accuracy vs sparsity',
    xLabel: 'sparsity',
    yLabel: 'accuracy',
    series: [
      { name: 'magnitude', points: [[0, 0.97], [0.5, 0.97], [0.9, 0.95], [0.99, 0.6]] },
      { name: 'random', points: [[0, 0.97], [0.5, 0.9], [0.9, 0.4], [0.99, 0.1]], dashed: true },
    ],
    ...overrides,
  };
}

/** Tooltip texts of the data markers (the <title> children inside the series group). */
function markerTooltips(svg: XmlElement): string[] {
  const series = findByClass(svg, 'series')[0];
  if (series === undefined) return [];
  return findAll(series, 'title').map(textOf);
}

function axisLabels(svg: XmlElement, axis: 'x-axis' | 'y-axis'): string[] {
  const group = findByClass(svg, axis)[0];
  if (group === undefined) throw new Error(`no ${axis} group`);
  return findAll(group, 'text').map(textOf);
}

describe('lineChart', () => {
  it('produces a well-formed SVG document with a viewBox, title, axes, legend and one polyline per series', () => {
    const svg = lineChart(basicOptions());
    const root = parseXml(svg);
    expect(root.name).toBe('svg');
    expect(root.attributes['xmlns']).toBe('http://www.w3.org/2000/svg');
    expect(root.attributes['viewBox']).toMatch(/^0 0 640 \d+(\.\d+)?$/);
    expect(textOf(findAll(root, 'title')[0] as XmlElement)).toBe('Accuracy vs sparsity');
    expect(findAll(root, 'polyline')).toHaveLength(2);
    expect(findAll(root, 'polyline')[1]?.attributes['stroke-dasharray']).toBe('6 4');
    expect(findAll(root, 'polyline')[0]?.attributes['stroke']).toBe(PALETTE[0]);
    const legend = findByClass(root, 'legend')[0] as XmlElement;
    expect(findAll(legend, 'text').map(textOf)).toEqual(['magnitude', 'random']);
    expect(axisLabels(root, 'y-axis')).toContain('accuracy');
    expect(axisLabels(root, 'x-axis')).toContain('sparsity');
    // No <style> element: CSS inside an inline SVG would leak into the page that embeds it.
    expect(svg).not.toMatch(/<style/);
  });

  it('gives every marker a tooltip with the series name and its values', () => {
    const tooltips = markerTooltips(parseXml(lineChart(basicOptions({ xScale: 'sparsity' }))));
    expect(tooltips).toHaveLength(8);
    expect(tooltips[3]).toBe('magnitude: sparsity = 99%, accuracy = 0.6');
  });

  it('escapes <, &, " and \' in every label and name', () => {
    const svg = lineChart({
      title: HOSTILE,
      xLabel: HOSTILE,
      yLabel: HOSTILE,
      referenceLines: [{ y: 0.5, label: HOSTILE }],
      series: [{ name: HOSTILE, points: [[1, 1], [2, 2]] }],
    });
    expect(svg).not.toContain('<script');
    expect(svg).not.toContain('<!--');
    const root = parseXml(svg); // throws on any unescaped < or &
    const texts = findAll(root, 'text').map(textOf);
    expect(texts.filter((t) => t === HOSTILE).length).toBeGreaterThanOrEqual(3); // legend, y title, title
    expect(textOf(findAll(root, 'title')[0] as XmlElement)).toBe(HOSTILE);
    expect(markerTooltips(root)[0]).toContain(HOSTILE);
  });

  it('skips non-finite points and breaks the line there', () => {
    const root = parseXml(
      lineChart(basicOptions({ series: [{ name: 's', points: [[0, 1], [1, 2], [2, Number.NaN], [3, Infinity], [Number.NaN, 3], [4, 4], [5, 5]] }] })),
    );
    expect(findAll(root, 'polyline')).toHaveLength(2);
    expect(markerTooltips(root)).toHaveLength(4);
  });

  it('skips values an axis cannot show: ≤ 0 on a log axis, s ≥ 1 on a sparsity axis', () => {
    const root = parseXml(
      lineChart(basicOptions({ xScale: 'sparsity', yScale: 'log', series: [{ name: 's', points: [[0, 1], [0.5, 0], [0.9, -3], [0.99, 10], [1, 100]] }] })),
    );
    expect(markerTooltips(root)).toEqual(['s: sparsity = 0%, accuracy = 1', 's: sparsity = 99%, accuracy = 10']);
  });

  it('labels a log axis at 1-2-5 × 10^k and a sparsity axis as percentages', () => {
    const root = parseXml(
      lineChart(basicOptions({ xScale: 'sparsity', yScale: 'log', series: [{ name: 'speedup', points: [[0, 0.5], [0.9, 5], [0.99, 20]] }] })),
    );
    expect(axisLabels(root, 'y-axis')).toEqual(['0.5', '1', '2', '5', '10', '20', 'accuracy']);
    expect(axisLabels(root, 'x-axis')).toEqual(['0%', '50%', '80%', '90%', '95%', '98%', '99%', 'sparsity']);
  });

  it('places ticks consistently with the scale: 90 % halfway between 0 % and 99 % on a sparsity axis', () => {
    const root = parseXml(lineChart(basicOptions({ xScale: 'sparsity' })));
    const xAxis = findByClass(root, 'x-axis')[0] as XmlElement;
    const positions = new Map(findAll(xAxis, 'text').map((t) => [textOf(t), Number(t.attributes['x'])]));
    const zero = positions.get('0%') as number;
    const ninety = positions.get('90%') as number;
    const ninetyNine = positions.get('99%') as number;
    expect(ninety - zero).toBeCloseTo(ninetyNine - ninety, 1);
  });

  it('draws reference lines and includes them in the automatic y range', () => {
    const root = parseXml(lineChart(basicOptions({ yScale: 'log', referenceLines: [{ y: 1, label: 'dense' }], series: [{ name: 's', points: [[0, 2], [1, 8]] }] })));
    expect(findByClass(root, 'reference')).toHaveLength(1);
    expect(axisLabels(root, 'y-axis')).toContain('1');
  });

  it('says "No data to plot" for empty input instead of failing', () => {
    for (const series of [[], [{ name: 'empty', points: [] }], [{ name: 'nan', points: [[Number.NaN, 1], [2, Infinity]] as [number, number][] }]]) {
      const svg = lineChart(basicOptions({ series }));
      const root = parseXml(svg);
      expect(findAll(root, 'text').map(textOf)).toContain('No data to plot');
      expect(findAll(root, 'polyline')).toHaveLength(0);
    }
  });

  it('marks a series with no drawable points in the legend', () => {
    const root = parseXml(lineChart(basicOptions({ series: [{ name: 'ok', points: [[0, 1], [1, 2]] }, { name: 'bad', points: [[0, Number.NaN]] }] })));
    const legend = findByClass(root, 'legend')[0] as XmlElement;
    expect(findAll(legend, 'text').map(textOf)).toEqual(['ok', 'bad (no data)']);
  });

  it('is deterministic: the same options give the same string', () => {
    const options = basicOptions({ xScale: 'sparsity', referenceLines: [{ y: 0.9 }] });
    expect(lineChart(options)).toBe(lineChart(options));
    expect(lineChart(basicOptions())).toBe(lineChart(basicOptions()));
  });

  it('clips to an explicit domain and applies custom tick formats', () => {
    const root = parseXml(lineChart(basicOptions({ xDomain: [0, 0.5], yDomain: [0, 1], yTickFormat: (v) => `${Math.round(v * 100)} pct` })));
    expect(axisLabels(root, 'y-axis')).toContain('100 pct');
    const clip = findAll(root, 'clipPath')[0] as XmlElement;
    expect(findByClass(root, 'series')[0]?.attributes['clip-path']).toBe(`url(#${clip.attributes['id']})`);
  });

  it('rejects caller mistakes with ConfigError', () => {
    expect(() => lineChart(basicOptions({ yScale: 'log', yDomain: [0, 10] }))).toThrow(ConfigError);
    expect(() => lineChart(basicOptions({ xDomain: [1, 1] }))).toThrow(ConfigError);
    expect(() => lineChart(basicOptions({ width: Number.NaN }))).toThrow(ConfigError);
    expect(() => lineChart(basicOptions({ referenceLines: [{ y: 0 }], yScale: 'log' }))).toThrow(ConfigError);
    expect(() => lineChart(basicOptions({ series: [{ name: 's', points: [], color: 'red" onload="alert(1)' }] }))).toThrow(ConfigError);
  });

  it('grows taller rather than squeezing the plot when the legend needs many rows', () => {
    const series = Array.from({ length: 24 }, (_, i) => ({ name: `a rather long series name number ${i}`, points: [[0, i], [1, i + 1]] as [number, number][] }));
    const root = parseXml(lineChart(basicOptions({ series, height: 300 })));
    expect(Number(root.attributes['height'])).toBeGreaterThan(300);
  });
});

describe('barChart', () => {
  const options = {
    title: 'Bytes per layer',
    yLabel: 'bytes',
    categories: ['fc1', 'fc2 <b>', 'fc3'],
    series: [
      { name: 'dense', values: [1000, 500, 40] },
      { name: 'CSR', values: [200, null, Number.NaN] },
    ],
  };

  it('draws one rect per finite value with tooltips, well-formed and escaped', () => {
    const svg = barChart(options);
    const root = parseXml(svg);
    const bars = findByClass(root, 'bars')[0] as XmlElement;
    expect(findAll(bars, 'rect')).toHaveLength(4);
    expect(findAll(bars, 'title').map(textOf)).toContain('dense, fc2 <b>: 500');
    expect(svg).not.toContain('<b>');
    expect(barChart(options)).toBe(svg);
  });

  it('starts linear bars at zero and handles empty input', () => {
    const root = parseXml(barChart(options));
    expect(axisLabels(root, 'y-axis')[0]).toBe('0');
    const empty = parseXml(barChart({ ...options, series: [{ name: 'none', values: [null, Number.NaN] }] }));
    expect(findAll(empty, 'text').map(textOf)).toContain('No data to plot');
  });

  it('rejects a series longer than the category list', () => {
    expect(() => barChart({ ...options, series: [{ name: 'x', values: [1, 2, 3, 4] }] })).toThrow(ConfigError);
  });
});
