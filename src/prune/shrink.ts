import { Linear } from '../nn/linear.ts';
import type { Parameter } from '../nn/parameter.ts';
import type { Sequential } from '../nn/sequential.ts';
import { Tensor } from '../tensor/tensor.ts';

/**
 * After neuron pruning, physically removes the dead neurons: the rows of a Linear layer whose weights are
 * all pruned, their biases, and the matching input columns of the next Linear layer. The model becomes a
 * smaller dense model (the structured-pruning payoff: fewer FLOPs with plain dense kernels). Parameters
 * keep their identity; only their values shrink. Returns what was removed per layer.
 */
export function shrinkNeurons(model: Sequential): { name: string; before: number; removed: number }[] {
  const linears = model.layers.map((layer, index) => ({ layer, index })).filter((x): x is { layer: Linear; index: number } => x.layer instanceof Linear);
  const report: { name: string; before: number; removed: number }[] = [];
  for (let k = 0; k + 1 < linears.length; k++) {
    const { layer, index } = linears[k]!;
    const next = linears[k + 1]!.layer;
    const rows = layer.outFeatures;
    const cols = layer.inFeatures;
    const w = layer.weight;
    const alive: number[] = [];
    for (let r = 0; r < rows; r++) {
      let rowAlive = false;
      for (let c = 0; c < cols && !rowAlive; c++) {
        const i = r * cols + c;
        rowAlive = w.mask === null ? w.value.data[i] !== 0 : w.mask[i] === 1;
      }
      // A neuron with no inputs still emits relu(bias); only remove it if its bias is pruned or zero too.
      const biasAlive = layer.bias !== null && (layer.bias.mask === null ? layer.bias.value.data[r] !== 0 : layer.bias.mask[r] === 1);
      if (rowAlive || biasAlive) alive.push(r);
    }
    report.push({ name: `layers.${index}`, before: rows, removed: rows - alive.length });
    if (alive.length === rows) continue;
    keepRows(w, alive, cols);
    if (layer.bias !== null) keepRows(layer.bias, alive, 1);
    keepColumns(next.weight, alive);
  }
  return report;
}

function keepRows(p: Parameter, rows: readonly number[], rowLength: number): void {
  const data = new Float32Array(rows.length * rowLength);
  const mask = p.mask === null ? null : new Uint8Array(rows.length * rowLength);
  rows.forEach((r, i) => {
    data.set(p.value.data.subarray(r * rowLength, (r + 1) * rowLength), i * rowLength);
    mask?.set(p.mask!.subarray(r * rowLength, (r + 1) * rowLength), i * rowLength);
  });
  const shape = p.value.rank === 1 ? [rows.length] : [rows.length, rowLength];
  p.resize(new Tensor(data, shape), simplify(mask));
}

function keepColumns(p: Parameter, columns: readonly number[]): void {
  const [rows, cols] = p.value.shape as [number, number];
  const data = new Float32Array(rows * columns.length);
  const mask = p.mask === null ? null : new Uint8Array(rows * columns.length);
  for (let r = 0; r < rows; r++) {
    columns.forEach((c, j) => {
      data[r * columns.length + j] = p.value.data[r * cols + c]!;
      if (mask !== null) mask[r * columns.length + j] = p.mask![r * cols + c]!;
    });
  }
  p.resize(new Tensor(data, [rows, columns.length]), simplify(mask));
}

/** A mask that keeps everything is no mask. */
function simplify(mask: Uint8Array | null): Uint8Array | null {
  return mask !== null && mask.every((m) => m === 1) ? null : mask;
}
