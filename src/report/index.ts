/**
 * Charts and the static HTML report: pure string builders, safe in Node and the browser.
 * Writing the report to a file, and checking it in a real browser, live on the Node side (src/node).
 */
export { lineChart, barChart, PALETTE, estimateTextWidth } from './svg-chart.ts';
export type { LineChartOptions, LineSeries, BarChartOptions, BarSeries, ReferenceLine } from './svg-chart.ts';
export { createScale, niceDomain, linearTicks, logTicks, sparsityTicks, formatSparsity } from './scale.ts';
export type { Scale, ScaleKind, Domain } from './scale.ts';
export { renderReport, extractReportData, serializeJsonForHtml, REPORT_DATA_ID } from './html.ts';
export type { Report, ReportSection, ReportBlock, TextBlock, TableBlock, ChartBlock, KeyValueBlock, CodeBlock, TableColumn, Cell, RunMetadata } from './html.ts';
export { formatNumber, formatPercent, formatBytes, formatCompact, formatFixed } from './format.ts';
export type { NumberFormat } from './format.ts';
export { escapeXml } from './escape.ts';
export { compressionChart, type CompressionChartOptions, type CompressionPoint } from './compression-chart.ts';
