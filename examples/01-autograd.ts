// Tensors and reverse-mode autodiff: build a small expression, get its gradients, check them.
import { backward, gradcheck, matmul, mul, relu, sum, tensor, variable } from 'sparsegrad';

const x = variable(tensor([[1, -2], [3, 4]]));
const w = variable(tensor([[0.5, -1], [2, 0.25]]));
const loss = sum(mul(relu(matmul(x, w)), 2)); // Σ 2·relu(x·w)
backward(loss);
console.log('loss', loss.value.item());
console.log('dloss/dw', w.grad!.toArray());

// Every op's backward can be checked against finite differences (in float64).
const check = gradcheck((a, b) => sum(relu(matmul(a!, b!))), [tensor([[1, -2], [3, 4]]), tensor([[0.5, -1], [2, 0.25]])]);
console.log('gradcheck ok:', check.ok);
