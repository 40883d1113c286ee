import { modelFromRecord } from '../../io/model-adapter.ts';
import { loadModelFile, readModelFileHeader } from '../../node/model-io.ts';
import { formatLayer } from '../../nn/spec-shapes.ts';
import { sparsityReport } from '../../prune/report.ts';
import { parseCommand, UsageError } from '../args.ts';
import { createOutput, kib, percent, table } from '../output.ts';

export const INSPECT_HELP = `usage: sparsegrad inspect FILE [--json]

Shows a model file: architecture, each parameter's shape, encoding (dense or CSR), how its values and
indices are coded (f32, int8, codebook, relative-index gaps, Huffman), sparsity and bytes,
and the training facts stored with it. The file is fully validated on the way.
`;

export async function inspectCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, { model: { type: 'string' }, json: { type: 'boolean' } }, true);
  const path = typeof values['model'] === 'string' ? values['model'] : positionals[0];
  if (path === undefined) throw new UsageError('missing the model file (sparsegrad inspect FILE)');
  const out = createOutput({ json: values['json'] === true, quiet: true });
  const header = await readModelFileHeader(path);
  const model = modelFromRecord(await loadModelFile(path));
  const report = sparsityReport(model);
  const fileBytes = header.container.fileSize;
  const params = header.params.map((p) => {
    const layer = report.layers.find((l) => l.name === p.name);
    return { name: p.name, shape: p.shape, encoding: p.encoding, coding: p.coding, masked: p.hasMask, storedBytes: p.storedBytes, ...(layer ? { nnz: layer.nnz, sparsity: layer.sparsity } : {}) };
  });
  out.result(`${path}: sparsegrad model, format version ${header.formatVersion}, ${kib(fileBytes)}`);
  out.result(`architecture: ${header.spec.layers.map(formatLayer).join(' → ')}`);
  out.result(table(params.map((p) => ({ parameter: p.name, shape: p.shape.join('x'), encoding: p.encoding, coding: p.coding, nnz: p.nnz ?? '', sparsity: p.sparsity === undefined ? '' : percent(p.sparsity), 'bytes stored': p.storedBytes })), ['parameter', 'shape', 'encoding', 'coding', 'nnz', 'sparsity', 'bytes stored']));
  out.result(`weights: ${report.total.nnz} of ${report.total.parameters} non-zero (${percent(report.total.sparsity)} sparse)`);
  if (header.training !== undefined) out.result(`training: ${JSON.stringify(header.training)}`);
  out.emitJson({ file: path, fileBytes, formatVersion: header.formatVersion, spec: header.spec, training: header.training ?? null, params, total: report.total });
}
