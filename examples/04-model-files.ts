// Save a pruned model as a (safetensors) file with CSR weights, load it back, export it to ONNX.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportOnnx, findTargets, mlp, modelFromRecord, modelToRecord, pruneTargets, Rng } from 'sparsegrad';
import { loadModelFile, saveModel, writeFileAtomically } from 'sparsegrad/node';

const dir = mkdtempSync(join(tmpdir(), 'sparsegrad-example-'));
const model = mlp([784, 300, 100, 10], { seed: 0 });
pruneTargets(findTargets(model), 0.9, { criterion: 'magnitude', scope: 'global', granularity: { kind: 'weight' }, rng: new Rng(0) });

const path = join(dir, 'model.safetensors');
await saveModel(path, modelToRecord(model, { encoding: 'auto' }), { encoding: 'auto' }); // atomic write
const loaded = modelFromRecord(await loadModelFile(path)); // validated: a corrupt file is a ModelFormatError
console.log('loaded layers:', loaded.spec().layers.map((l) => l.type).join(' → '));

const params = new Map(loaded.namedParameters().map(([name, p]) => [name, Float32Array.from(p.value.data)] as const));
await writeFileAtomically(join(dir, 'model.onnx'), exportOnnx(loaded.spec(), params));
console.log('wrote', path, 'and model.onnx');
