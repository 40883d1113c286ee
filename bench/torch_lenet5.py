"""PyTorch reference for issue 15's LeNet-5 pruning protocol, with sparsegrad's CLI schedule mirrored exactly,
so a gap between the two can be told apart into "protocol" and "defect".

Model: LeNet-5-Caffe (conv 20@5x5 -> max-pool 2 -> conv 50@5x5 -> max-pool 2 -> 500 -> 10, ReLU). Data: the IDX
files in --data, pixels / 255, all 60,000 training images, the 10,000 test images. Adam lr 1e-3, batch 128,
cross-entropy, a shuffled epoch gathered by index (no DataLoader), the last batch partial (like sparsegrad).

Dense phase: --dense-epochs epochs from PyTorch's default init (--init torch) or He normal (--init he, as
sparsegrad's default); or --load a sparsegrad model file (safetensors, dense LeNet-5) to start from *our* dense
weights and compare only the pruning phase.

Pruning phase (--method):
  gradual  Zhu & Gupta with the CLI's schedule: total = epochs * ceil(60000/128) optimizer steps, end step
           floor(total * end_fraction), masks updated after optimizer step t when (t - 1) % every == 0 or
           t == end (every = floor(end / 20)), sparsity s_t = s * (1 - (1 - (t - 1)/(end - 1))^3); global
           magnitude over the four weight tensors (biases never pruned), masks only shrink. A pruned weight's
           gradient is masked before the step and the weight re-zeroed after it, as sparsegrad's optimizer does.
  filter   Li et al. 2017: per layer, keep the half of conv1's, conv2's filters and fc1's units with the largest
           L1 norm of their weights (and bias-free), zero the rest (rows, their biases; the next layer's inputs
           from them become dead), then fine-tune --prune-epochs epochs with the masks held.
--optimizer fresh (default, as sparsegrad's prune: a new Adam for the pruning phase) or continue (the dense
phase's Adam, moments and step count kept).

Prints JSON lines: one per epoch ({"phase", "epoch", "loss", "test"}) and a final summary with per-layer sparsity.

Usage: python3 bench/torch_lenet5.py --data /usr/share/datasets/fashion-mnist [--sparsity 0.95] [--load m.safetensors]
"""
import argparse
import json
import math
import struct
import time

import numpy as np
import torch
import torch.nn.functional as F

from torch_train import find, read_idx  # the IDX reader of the training reference, beside this file


def load_split(directory, split):
    images = read_idx(find(directory, f'{split}-images-idx3-ubyte'))
    labels = read_idx(find(directory, f'{split}-labels-idx1-ubyte'))
    x = torch.from_numpy(images.reshape(len(images), 1, 28, 28).astype(np.float32) / 255)
    return x, torch.from_numpy(labels.astype(np.int64))


def lenet5():
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 20, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(20, 50, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(800, 500), torch.nn.ReLU(), torch.nn.Linear(500, 10),
    )


def weighted_layers(model):
    return [m for m in model if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]


def he_init(model, generator):
    for layer in weighted_layers(model):
        fan_in = layer.weight[0].numel()
        with torch.no_grad():
            layer.weight.normal_(0, math.sqrt(2 / fan_in), generator=generator)
            layer.bias.zero_()


def load_sparsegrad(model, path):
    """Copies the tensors of a sparsegrad safetensors file (layers.1/4/8/10 .weight/.bias, F32, dense) into model."""
    with open(path, 'rb') as f:
        header_size = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(header_size))
        blob = f.read()
    names = ['layers.1', 'layers.4', 'layers.8', 'layers.10']
    for name, layer in zip(names, weighted_layers(model)):
        for part in ('weight', 'bias'):
            entry = header[f'{name}.{part}']
            if entry['dtype'] != 'F32':
                raise SystemExit(f'{name}.{part}: expected a dense F32 tensor, got {entry["dtype"]}')
            start, end = entry['data_offsets']
            values = np.frombuffer(blob[start:end], dtype='<f4').reshape(entry['shape'])
            target = getattr(layer, part)
            if tuple(target.shape) != values.shape:
                raise SystemExit(f'{name}.{part}: shape {values.shape}, expected {tuple(target.shape)}')
            with torch.no_grad():
                target.copy_(torch.from_numpy(values.copy()))


def evaluate(model, x, y):
    model.eval()
    correct = 0
    with torch.no_grad():
        for start in range(0, len(x), 1000):
            correct += (model(x[start:start + 1000]).argmax(1) == y[start:start + 1000]).sum().item()
    model.train()
    return correct / len(x)


class Masks:
    """One 0/1 mask per weight (and, for filter pruning, per bias); masks the gradient before and the weight after a step."""

    def __init__(self, params):
        self.masks = {p: torch.ones_like(p) for p in params}

    def mask_grads(self):
        for p, m in self.masks.items():
            if p.grad is not None:
                p.grad.mul_(m)

    def apply(self):
        with torch.no_grad():
            for p, m in self.masks.items():
                p.mul_(m)


def global_magnitude(masks, weights, sparsity):
    """Global magnitude selection over `weights`; pruned weights (zero, masked) rank lowest so masks only shrink."""
    scores = torch.cat([(w.detach().abs() * masks.masks[w]).flatten() for w in weights])
    # Already pruned weights get -1 so they are always chosen first (a live weight may be exactly 0 too).
    alive = torch.cat([masks.masks[w].flatten() for w in weights])
    scores = torch.where(alive > 0, scores, torch.full_like(scores, -1.0))
    count = int(round(sparsity * scores.numel()))
    keep = torch.ones_like(scores)
    if count > 0:
        # Stable sort: ties break by position, as sparsegrad does.
        order = torch.sort(scores, stable=True).indices
        keep[order[:count]] = 0
    offset = 0
    for w in weights:
        n = w.numel()
        masks.masks[w] = keep[offset:offset + n].view_as(w).clone()
        offset += n
    masks.apply()


def filter_masks(model, masks, fraction):
    """Li et al. 2017: per layer, zero the `fraction` of conv1/conv2 filters and fc1 units with the smallest L1 norm."""
    layers = weighted_layers(model)
    for k, layer in enumerate(layers[:-1]):
        norms = layer.weight.detach().abs().flatten(1).sum(1)
        units = norms.numel()
        drop = torch.sort(norms, stable=True).indices[:int(round(fraction * units))]
        masks.masks.setdefault(layer.bias, torch.ones_like(layer.bias))
        masks.masks[layer.weight][drop] = 0
        masks.masks[layer.bias][drop] = 0
        following = layers[k + 1]
        span = following.weight[0].numel() // units if isinstance(following, torch.nn.Linear) else None
        for u in drop.tolist():
            if span is None:
                masks.masks[following.weight][:, u] = 0
            else:
                masks.masks[following.weight][:, u * span:(u + 1) * span] = 0
    masks.apply()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True)
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--init', choices=['torch', 'he'], default='torch')
    parser.add_argument('--load', help='start from this sparsegrad dense LeNet-5 model file instead of training')
    parser.add_argument('--dense-epochs', type=int, default=10)
    parser.add_argument('--method', choices=['gradual', 'filter'], default='gradual')
    parser.add_argument('--sparsity', type=float, default=0.95)
    parser.add_argument('--prune-epochs', type=int, default=6)
    parser.add_argument('--end-fraction', type=float, default=0.75)
    parser.add_argument('--optimizer', choices=['fresh', 'continue'], default='fresh')
    parser.add_argument('--batch', type=int, default=128)
    parser.add_argument('--lr', type=float, default=1e-3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    generator = torch.Generator().manual_seed(args.seed)
    x, y = load_split(args.data, 'train')
    x_test, y_test = load_split(args.data, 't10k')
    model = lenet5()
    if args.init == 'he':
        he_init(model, generator)
    weights = [layer.weight for layer in weighted_layers(model)]
    masks = Masks(weights)
    loss_fn = torch.nn.CrossEntropyLoss()
    batches = (len(x) + args.batch - 1) // args.batch
    started = time.perf_counter()

    def train(phase, epochs, optimizer, after_step=None):
        step = 0
        for epoch in range(1, epochs + 1):
            order = torch.randperm(len(x), generator=generator)
            total = 0.0
            for b in range(batches):
                index = order[b * args.batch:(b + 1) * args.batch]
                optimizer.zero_grad()
                loss = loss_fn(model(x[index]), y[index])
                loss.backward()
                masks.mask_grads()
                optimizer.step()
                masks.apply()
                step += 1
                if after_step is not None:
                    after_step(step)
                total += loss.item()
            print(json.dumps({'phase': phase, 'epoch': epoch, 'loss': total / batches, 'test': evaluate(model, x_test, y_test),
                              'seconds': round(time.perf_counter() - started, 1)}), flush=True)

    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    if args.load:
        load_sparsegrad(model, args.load)
        print(json.dumps({'phase': 'loaded', 'test': evaluate(model, x_test, y_test)}), flush=True)
    else:
        train('dense', args.dense_epochs, optimizer)
    dense_test = evaluate(model, x_test, y_test)
    if args.optimizer == 'fresh':
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    if args.method == 'gradual':
        total = args.prune_epochs * batches
        end = max(1, math.floor(total * args.end_fraction))
        every = max(1, end // 20)

        def sparsity_at(t):
            if t >= end or end == 1:
                return args.sparsity
            return args.sparsity * (1 - (1 - (t - 1) / (end - 1)) ** 3)

        def after_step(t):
            if t <= end and ((t - 1) % every == 0 or t == end):
                global_magnitude(masks, weights, sparsity_at(t))

        train('gradual', args.prune_epochs, optimizer, after_step)
    else:
        filter_masks(model, masks, 0.5)
        print(json.dumps({'phase': 'filters removed', 'test': evaluate(model, x_test, y_test)}), flush=True)
        train('fine-tune', args.prune_epochs, optimizer)

    layers = [{'shape': list(w.shape), 'sparsity': float((w == 0).float().mean())} for w in weights]
    zeros = sum(int((w == 0).sum()) for w in weights)
    print(json.dumps({'method': args.method, 'sparsity': zeros / sum(w.numel() for w in weights), 'denseTest': dense_test,
                      'test': evaluate(model, x_test, y_test), 'init': args.init, 'loaded': args.load is not None,
                      'optimizer': args.optimizer, 'seed': args.seed, 'layers': layers, 'torch': torch.__version__,
                      'threads': args.threads}), flush=True)


if __name__ == '__main__':
    main()
