// Add your own importance criterion and your own pruning method from outside the library, then run them
// through runPruning like the built-ins (the CLI's `prune --help` would list them too).
import {
  Adam, ConfigError, definePruningMethod, evaluate, fit, mlp, pruningMethods, registerCriterion, registerPruningMethod, runPruning,
  type PruneConfig,
} from 'sparsegrad';
import { loadDigits } from 'sparsegrad/node';

const epochs = Number(process.env['EPOCHS'] ?? 2);
const { train, test } = loadDigits();
const model = mlp([784, 100, 10], { seed: 0 });
fit(model, train, { epochs, batchSize: 128, optimizer: new Adam(model.parameters(), { lr: 1e-3 }), seed: 0 });
console.log(`dense: test accuracy ${(evaluate(model, test).accuracy * 100).toFixed(2)}%`);

// A criterion: |w| weighted by the root-mean-square gradient, so large weights the loss ignores rank lower.
registerCriterion({
  name: 'rms-weighted-magnitude',
  summary: '|w|·sqrt(mean over batches of (∂L/∂w)²)',
  needsGradients: true, // runs gather gradient statistics before scoring
  score: (target, { stats }) => {
    const w = target.weight.value.data;
    const sumSq = stats!.sum('sqGrad', target.weight);
    return Float64Array.from(sumSq, (g2, i) => Math.abs(w[i]!) * Math.sqrt(g2 / stats!.batches));
  },
});

// A method: prune in `steps` equal steps spread evenly over training (a linear schedule), through a
// training hook. It decides with the run's criterion, scope and granularity (ctx.pruneTo → select).
registerPruningMethod(definePruningMethod<{ steps: number }>({
  name: 'linear-steps',
  summary: 'prune in equal steps spread evenly over training',
  paper: '',
  options: { steps: { type: 'integer', min: 1, max: 100, default: 4, help: 'number of pruning steps' } },
  usesCriterion: true,
  minEpochs: 1,
  run(ctx, { steps }) {
    const every = Math.max(1, Math.floor((ctx.config.epochs * ctx.batchesPerEpoch) / (steps + 1)));
    let done = 0;
    ctx.train(ctx.config.epochs, 'linear-steps', [{
      afterStep({ step }) {
        if (done === steps || step % every !== 0) return;
        done++;
        ctx.pruneTo((ctx.sparsity * done) / steps);
        ctx.note(`step ${done}/${steps} at optimizer step ${step}: ${(ctx.currentSparsity() * 100).toFixed(1)}% pruned`);
      },
    }]);
  },
}));
console.log('methods:', pruningMethods().map((m) => m.name).join(', '));

const config: PruneConfig = {
  method: 'linear-steps', criterion: 'rms-weighted-magnitude', sparsity: 0.9, scope: 'global', granularity: { kind: 'weight' },
  epochs, batchSize: 128, lr: 1e-3, seed: 0, options: { steps: 3 },
};
const result = runPruning(model, { train }, config);
for (const note of result.notes) console.log(' ', note);
console.log(`linear-steps + rms-weighted-magnitude: ${(result.sparsity * 100).toFixed(1)}% pruned, test accuracy ${(evaluate(result.model, test).accuracy * 100).toFixed(2)}%`);

// Options are validated against the method's own specs, like a built-in's.
try {
  runPruning(model, { train }, { ...config, options: { steps: 0 } });
} catch (error) {
  console.log('refused:', error instanceof ConfigError ? error.message : String(error));
}
