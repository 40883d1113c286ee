import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { extractReportData, renderReport, serializeJsonForHtml, type Report } from '../../src/report/html.ts';
import { lineChart } from '../../src/report/svg-chart.ts';
import { findAll, findByClass, parseXml, textOf, type XmlElement } from './xml.ts';
import { SAMPLE_CHART_COUNT, sampleReport } from './sample-report.ts';

const HOSTILE = '</script><script>alert(1)</script><!-- & "q" \'a\' \u2028';

function hostileReport(): Report {
  return {
    title: HOSTILE,
    summary: `Intro ${HOSTILE}`,
    meta: { date: HOSTILE, seed: 7, nodeVersion: 'v20.20.2', cpu: HOSTILE, extra: [[HOSTILE, HOSTILE]] },
    sections: [
      {
        title: HOSTILE,
        blocks: [
          { kind: 'text', text: `${HOSTILE}\n\nsecond \`code ${HOSTILE}\` paragraph` },
          { kind: 'table', caption: HOSTILE, columns: [HOSTILE, { label: 'acc', format: 'percent', description: HOSTILE }], rows: [[HOSTILE, 0.5], [null, { value: 0.25, emphasis: true }]] },
          { kind: 'keyValue', entries: [[HOSTILE, HOSTILE]] },
          { kind: 'code', text: HOSTILE, caption: HOSTILE },
          { kind: 'chart', svg: lineChart({ title: HOSTILE, xLabel: 'x', yLabel: 'y', series: [{ name: HOSTILE, points: [[0, 1], [1, 2]] }] }), caption: HOSTILE },
        ],
      },
    ],
    data: { note: HOSTILE, values: [1, 2.5, -3], nested: { deep: ['<!--', '</SCRIPT >', '&amp;'] } },
    footer: HOSTILE,
  };
}

describe('renderReport', () => {
  it('renders a complete page that is also well-formed XML', () => {
    const html = renderReport(sampleReport());
    expect(html.startsWith('<!DOCTYPE html>\n<html lang="en">')).toBe(true);
    const root = parseXml(html);
    expect(root.name).toBe('html');
    expect(findAll(root, 'svg')).toHaveLength(SAMPLE_CHART_COUNT);
    expect(findAll(root, 'h2').map(textOf)).toEqual(['Accuracy vs sparsity', 'Speed', 'Model size']);
    expect(textOf(findAll(root, 'title')[0] as XmlElement)).toBe('sparsegrad demo: pruning a 3-layer MLP on digits');
    const meta = findByClass(root, 'meta')[0] as XmlElement;
    expect(findAll(meta, 'dt').map(textOf)).toEqual(['Date', 'Seed', 'Node.js', 'CPU', 'Platform', 'Command']);
  });

  it('is self-contained: no external resources, and a policy that blocks loads and scripts', () => {
    const html = renderReport(sampleReport());
    const root = parseXml(html);
    for (const element of [...findAll(root, 'link'), ...findAll(root, 'img'), ...findAll(root, 'script'), ...findAll(root, 'a')]) {
      for (const attribute of ['src', 'href']) {
        const value = element.attributes[attribute];
        if (value !== undefined) expect(value).toMatch(/^(#|data:)/);
      }
    }
    const csp = findAll(root, 'meta').find((m) => m.attributes['http-equiv'] === 'Content-Security-Policy');
    expect(csp?.attributes['content']).toContain("default-src 'none'");
  });

  it('embeds the report data as JSON that round-trips through JSON.parse', () => {
    const report = sampleReport();
    const html = renderReport(report);
    const data = extractReportData(html) as { title: string; data: unknown; sections: Array<{ blocks: Array<{ kind: string }> }> };
    expect(data.title).toBe(report.title);
    expect(data.data).toEqual(JSON.parse(JSON.stringify(report.data)));
    // Charts are embedded without their SVG markup; tables are kept.
    expect(JSON.stringify(data.sections)).not.toContain('<svg');
    expect(data.sections[0]?.blocks.map((b) => b.kind)).toEqual(['chart', 'table']);
  });

  it('escapes hostile strings everywhere, and they round-trip exactly through the embedded JSON', () => {
    const html = renderReport(hostileReport());
    // Exactly one script element: ours, with the JSON.
    expect(html.match(/<script/gi)).toHaveLength(1);
    expect(html).not.toMatch(/<script>alert/i);
    // The only "<!--"-like or "</script" sequences would come from unescaped input.
    expect(html).not.toContain('<!--');
    expect(html.match(/<\/script/gi)).toHaveLength(1);
    const root = parseXml(html);
    expect(textOf(findAll(root, 'h1')[0] as XmlElement)).toBe(HOSTILE);
    expect(textOf(findAll(root, 'h2')[0] as XmlElement)).toBe(HOSTILE);
    expect(findAll(root, 'td').map(textOf)).toContain(HOSTILE);
    expect(findAll(root, 'th')[1]?.attributes['title']).toBe(HOSTILE);
    expect(textOf(findAll(root, 'figcaption')[0] as XmlElement)).toBe(HOSTILE);
    expect(findAll(root, 'code').map(textOf)).toContain(`code ${HOSTILE}`);
    const data = extractReportData(html) as { title: string; data: unknown; meta: unknown };
    expect(data.title).toBe(HOSTILE);
    expect(data.data).toEqual(hostileReport().data);
    expect(data.meta).toEqual(hostileReport().meta);
  });

  it('serialises JSON for a script element with <, >, & and line separators escaped', () => {
    const json = serializeJsonForHtml({ a: '</script><!--&\u2028\u2029' });
    expect(json).toBe('{"a":"\\u003c/script\\u003e\\u003c!--\\u0026\\u2028\\u2029"}');
    expect(JSON.parse(json)).toEqual({ a: '</script><!--&\u2028\u2029' });
    expect(serializeJsonForHtml(undefined)).toBe('null');
    expect(() => serializeJsonForHtml({ big: 1n })).toThrow(ConfigError);
    const cycle: Record<string, unknown> = {};
    cycle['self'] = cycle;
    expect(() => serializeJsonForHtml(cycle)).toThrow(ConfigError);
  });

  it('formats table numbers by column and right-aligns numeric columns', () => {
    const html = renderReport({
      title: 't',
      sections: [
        {
          title: 's',
          blocks: [
            {
              kind: 'table',
              columns: ['name', { label: 'acc', format: 'percent' }, { label: 'speedup', format: 'speedup' }, 'n', 'mixed'],
              rows: [
                ['a', 0.9731, 3.456, 1234567, 1],
                ['b', null, Number.NaN, 2, 'x'],
              ],
            },
          ],
        },
      ],
    });
    const root = parseXml(html);
    const cells = findAll(root, 'td');
    expect(cells.map(textOf)).toEqual(['a', '97.3%', '3.46×', '1,234,567', '1', 'b', '—', 'NaN', '2', 'x']);
    expect(cells.map((c) => c.attributes['class'] ?? '')).toEqual(['', 'num', 'num', 'num', '', '', 'num', 'num', 'num', '']);
  });

  it('is deterministic', () => {
    expect(renderReport(sampleReport())).toBe(renderReport(sampleReport()));
  });

  it('rejects malformed input with ConfigError', () => {
    const base = { title: 't', sections: [] };
    expect(() => renderReport({ ...base, sections: [{ title: 's', blocks: [{ kind: 'chart', svg: '<div>not a chart</div>' }] }] })).toThrow(ConfigError);
    expect(() => renderReport({ ...base, sections: [{ title: 's', blocks: [{ kind: 'chart', svg: '<svg><script>alert(1)</script></svg>' }] }] })).toThrow(ConfigError);
    expect(() => renderReport({ ...base, sections: [{ title: 's', blocks: [{ kind: 'table', columns: ['a', 'b'], rows: [[1]] }] }] })).toThrow(ConfigError);
    expect(() => renderReport({ ...base, sections: [{ title: 's', blocks: [{ kind: 'nope' } as never] }] })).toThrow(ConfigError);
    expect(() => renderReport({ ...base, title: 3 as never })).toThrow(ConfigError);
    expect(() => renderReport({ ...base, data: { n: 10n } })).toThrow(ConfigError);
  });

  it('renders a minimal report with no metadata, sections or data', () => {
    const html = renderReport({ title: 'empty', sections: [] });
    const root = parseXml(html);
    expect(findAll(root, 'section')).toHaveLength(0);
    expect(extractReportData(html)).toMatchObject({ title: 'empty', data: null });
  });
});
