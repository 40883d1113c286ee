/**
 * Turns the experiment results into the README's charts and tables:
 *   npx tsx scripts/results.ts            → docs/*.svg, and markdown tables on stdout
 * Inputs: experiments/results/digits/compare.json (from `sparsegrad compare`) and
 * experiments/results/fashion/*.json (from experiments/fashion.ts).
 */
import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { lineChart } from '../src/report/svg-chart.ts';

interface CompareRow { method: string; criterion: string; targetSparsity: number; sparsity: number; testAccuracy: number; validationAccuracy?: number }
const pct = (x: number): string => (x * 100).toFixed(2);
mkdirSync('docs', { recursive: true });
const out: string[] = [];

const digitsPath = 'experiments/results/digits/compare.json';
if (existsSync(digitsPath)) {
  const doc = JSON.parse(readFileSync(digitsPath, 'utf8')) as { dense: { testAccuracy: number }; rows: CompareRow[]; sparsities: number[] };
  const sparsities = [...new Set(doc.rows.map((r) => r.targetSparsity))].sort();
  out.push(`### Built-in digits: every method × criterion × sparsity\n`);
  out.push(`Dense LeNet-300-100: ${pct(doc.dense.testAccuracy)} %. Test accuracy (%) after pruning from it with 4 epochs of (re)training; global scope, unstructured.\n`);
  out.push(`| method | criterion | ${sparsities.map((s) => `${s * 100}%`).join(' | ')} |`);
  out.push(`|---|---|${sparsities.map(() => '---:').join('|')}|`);
  const groups = new Map<string, CompareRow[]>();
  for (const r of doc.rows) {
    const key = `${r.method}|${r.criterion}`;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  for (const [key, rows] of groups) {
    const [method, criterion] = key.split('|') as [string, string];
    const cells = sparsities.map((s) => {
      const r = rows.find((x) => x.targetSparsity === s);
      if (r === undefined) return '';
      return Math.abs(r.sparsity - s) > 0.005 ? `${pct(r.testAccuracy)} (at ${pct(r.sparsity)})` : pct(r.testAccuracy);
    });
    out.push(`| ${method} | ${criterion} | ${cells.join(' | ')} |`);
  }
  out.push('');
  const methods = [...new Set(doc.rows.map((r) => r.method))];
  for (const method of methods.filter((m) => doc.rows.some((r) => r.method === m && r.criterion !== '-'))) {
    const series = [...groups].filter(([k]) => k.startsWith(`${method}|`)).map(([k, rows]) => ({
      name: k.split('|')[1]!, points: rows.map((r) => [r.sparsity, r.testAccuracy * 100] as [number, number]).sort((a, b) => a[0] - b[0]),
    }));
    writeFileSync(`docs/digits-${method}.svg`, lineChart({
      title: `Digits, ${method} pruning: test accuracy by criterion`, xLabel: 'sparsity', yLabel: 'test accuracy (%)', xScale: 'sparsity', series,
      referenceLines: [{ y: doc.dense.testAccuracy * 100, label: 'dense' }],
    }));
  }
  // One line per method, each with its best criterion per sparsity — chosen by validation accuracy (held-out
  // training images) when the table has it, so the test set takes no part in the choice.
  // Named variants (threshold-dynamic, dns-scheduled) get their own chart beside their paper's rule, so no
  // chart has more lines than the palette has colours (8).
  const isVariant = (m: string): boolean => /-(dynamic|scheduled)$/.test(m);
  const bestOf = (method: string): { name: string; points: [number, number][] } => ({
    name: method,
    points: sparsities.map((s) => {
      const rs = doc.rows.filter((r) => r.method === method && r.targetSparsity === s);
      const top = rs.sort((a, b) => (b.validationAccuracy ?? b.testAccuracy) - (a.validationAccuracy ?? a.testAccuracy))[0]!;
      return [top.sparsity, top.testAccuracy * 100] as [number, number];
    }),
  });
  const best = methods.filter((m) => !isVariant(m)).map(bestOf);
  const variants = methods.filter(isVariant).flatMap((v) => [bestOf(v.replace(/-(dynamic|scheduled)$/, '')), bestOf(v)]);
  if (variants.length > 0) {
    writeFileSync('docs/digits-variants.svg', lineChart({
      title: 'Digits: the papers\' rules and their named variants', xLabel: 'sparsity', yLabel: 'test accuracy (%)', xScale: 'sparsity', series: variants,
      referenceLines: [{ y: doc.dense.testAccuracy * 100, label: 'dense' }],
    }));
  }
  writeFileSync('docs/digits-methods.svg', lineChart({
    title: `Digits: test accuracy by method (criterion chosen per sparsity by ${doc.rows.every((r) => r.validationAccuracy !== undefined) ? 'validation' : 'test'} accuracy)`, xLabel: 'sparsity', yLabel: 'test accuracy (%)', xScale: 'sparsity', series: best,
    referenceLines: [{ y: doc.dense.testAccuracy * 100, label: 'dense' }],
  }));
}

const fashionDir = 'experiments/results/fashion';
if (existsSync(fashionDir)) {
  const rows = readdirSync(fashionDir).filter((f) => f.endsWith('.json')).map((f) => JSON.parse(readFileSync(`${fashionDir}/${f}`, 'utf8')) as { name: string; testAccuracy: number; sparsity?: number; seconds: number });
  const byName = new Map(rows.map((r) => [r.name, r]));
  const reference: [string, string, number | null][] = [
    ['dense', 'dense, 15 epochs', 89.05],
    ['gradual-magnitude-0.95', 'gradual magnitude, global, 95 %', 88.48],
    ['gradual-magnitude-0.98', 'gradual magnitude, global, 98 %', 86.98],
    ['gradual-magnitude-0.99', 'gradual magnitude, global, 99 %', 84.95],
    ['oneshot-magnitude-0.95', 'one-shot magnitude + fine-tune, 95 %', 85.64],
    ['oneshot-taylor-0.95', 'one-shot Taylor + fine-tune, 95 %', 86.95],
    ['oneshot-gradient-0.95', 'one-shot gradient magnitude + fine-tune, 95 %', 83.29],
    ['gradual-taylor-lr3e-3-holdcosine-0.98', 'best method (gradual Taylor, lr 3e-3, hold-cosine), 98 % — vs PyTorch gradual magnitude', 86.98],
    ['gradual-taylor-lr3e-3-holdcosine-0.99', 'best method (gradual Taylor, lr 3e-3, hold-cosine), 99 % — vs PyTorch gradual magnitude', 84.95],
  ];
  out.push('### Fashion-MNIST: the reference rows\n');
  out.push('| run | PyTorch (issue) | sparsegrad | difference | minutes |');
  out.push('|---|---:|---:|---:|---:|');
  for (const [name, label, torch] of reference) {
    const r = byName.get(name);
    if (r === undefined) continue;
    out.push(`| ${label} | ${torch ?? ''} | ${pct(r.testAccuracy)} | ${torch === null ? '' : (r.testAccuracy * 100 - torch).toFixed(2)} | ${(r.seconds / 60).toFixed(1)} |`);
  }
  out.push('\n### Fashion-MNIST: all runs\n');
  out.push('| run | sparsity | test accuracy | minutes |');
  out.push('|---|---:|---:|---:|');
  for (const r of [...rows].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`| ${r.name} | ${r.sparsity === undefined ? '' : pct(r.sparsity)} | ${pct(r.testAccuracy)} | ${(r.seconds / 60).toFixed(1)} |`);
  }
  const family = (prefix: string): [number, number][] =>
    rows.filter((r) => new RegExp(`^${prefix}-0\\.9\\d$`).test(r.name)).map((r) => [r.sparsity!, r.testAccuracy * 100] as [number, number]).sort((a, b) => a[0] - b[0]);
  // At most 8 lines, one per palette colour; the table above has every run.
  const families = ['gradual-magnitude', 'gradual-magnitude-cosine', 'gradual-magnitude-lr3e-3', 'gradual-taylor', 'gradual-taylor-lr3e-3', 'gradual-taylor-lr3e-3-holdcosine', 'dns', 'rigl'];
  const dense = byName.get('dense');
  writeFileSync('docs/fashion.svg', lineChart({
    title: 'Fashion-MNIST, LeNet-300-100: test accuracy at high sparsity (8 epochs per run)', xLabel: 'sparsity', yLabel: 'test accuracy (%)', xScale: 'sparsity',
    series: families.map((f) => ({ name: f, points: family(f) })).filter((s) => s.points.length > 0),
    ...(dense === undefined ? {} : { referenceLines: [{ y: dense.testAccuracy * 100, label: 'dense' }] }),
  }));
}
console.log(out.join('\n'));
