// Train LeNet-300-100 on the built-in digits (10,000 real MNIST images, 8,000/2,000 split).
import { Adam, evaluate, fit, mlp } from 'sparsegrad';
import { loadDigits } from 'sparsegrad/node';

const epochs = Number(process.env['EPOCHS'] ?? 3);
const { train, test } = loadDigits();
const model = mlp([784, 300, 100, 10], { seed: 0 });
fit(model, train, {
  epochs,
  batchSize: 128,
  optimizer: new Adam(model.parameters(), { lr: 1e-3 }),
  seed: 0,
  onEpoch: (s) => console.log(`epoch ${s.epoch}: loss ${s.loss.toFixed(3)}`),
});
console.log(`test accuracy ${(evaluate(model, test).accuracy * 100).toFixed(2)}%`);
