"""PyTorch reference for `bench train`: one epoch of LeNet-300-100 (784-300-100-10, ReLU), Adam lr 1e-3,
batch 64, cross-entropy, on the IDX training set in --data (pixels / 255, as sparsegrad loads them), on
--threads CPU threads. A few warm-up batches run first (not timed); then one shuffled epoch is timed,
batches gathered by index like sparsegrad's loop (no DataLoader). Prints one JSON line:
{"seconds": …, "batches": …, "loss": …, "torch": version, "threads": n}.

Usage: python3 bench/torch_train.py --data /usr/share/datasets/fashion-mnist [--threads 1] [--batches N]
"""
import argparse
import gzip
import json
import os
import struct
import time

import numpy as np
import torch


def read_idx(path):
    opener = gzip.open if path.endswith('.gz') else open
    with opener(path, 'rb') as f:
        data = f.read()
    _, _, dims = struct.unpack('>HBB', data[:4])
    shape = struct.unpack('>' + 'I' * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(directory, stem):
    for name in (stem, stem + '.gz'):
        if os.path.exists(os.path.join(directory, name)):
            return os.path.join(directory, name)
    raise SystemExit(f'{stem}[.gz] not found in {directory}')


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data', required=True)
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--batches', type=int, default=0, help='batches to time (default: one epoch)')
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    images = read_idx(find(args.data, 'train-images-idx3-ubyte'))
    labels = read_idx(find(args.data, 'train-labels-idx1-ubyte'))
    x = torch.from_numpy(images.reshape(len(images), -1).astype(np.float32) / 255)
    y = torch.from_numpy(labels.astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 300), torch.nn.ReLU(),
        torch.nn.Linear(300, 100), torch.nn.ReLU(),
        torch.nn.Linear(100, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(index):
        optimizer.zero_grad()
        loss = loss_fn(model(x[index]), y[index])
        loss.backward()
        optimizer.step()
        return loss.item()

    for b in range(5):  # warm-up: allocator, kernel selection
        step(torch.arange(b * args.batch, (b + 1) * args.batch))
    order = torch.randperm(len(x))
    batches = (len(x) + args.batch - 1) // args.batch
    if args.batches > 0:
        batches = min(batches, args.batches)
    started = time.perf_counter()
    total = 0.0
    for b in range(batches):
        total += step(order[b * args.batch:(b + 1) * args.batch])
    seconds = time.perf_counter() - started
    print(json.dumps({'seconds': seconds, 'batches': batches, 'loss': total / batches, 'torch': torch.__version__, 'threads': args.threads}))


if __name__ == '__main__':
    main()
