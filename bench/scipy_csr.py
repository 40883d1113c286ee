"""scipy CSR reference timings for bench/sparse.ts.

Reads one JSON object from stdin: {"configs": [{"rows", "cols", "sparsity", "batches": [..]}...], "seed",
"minSeconds", "reps", "clock"} and prints one JSON object: {"scipy": version, "results": [{"rows", "cols", "sparsity",
"batch", "nnz", "us"}...]}.

W is a float32 scipy.sparse.csr_matrix [rows, cols] with exactly round((1 - sparsity) * rows * cols) nonzeros
at uniformly random positions (numpy's own random draws, same counts as the JS side). Batch 1 times
`W @ x` with x 1-D (csr_matvec); batch B times `W @ Xt` with Xt a C-contiguous (cols, B) float32 array
(csr_matvecs, scipy's efficient layout: Yt = W @ Xt). Timing: a calibrated loop (doubling until it takes
>= minSeconds / 4, then scaled to minSeconds), repeated `reps` times; the fastest repetition is reported,
the same rule as the JS side. With "clock": "cpu" the loops are timed by this process's CPU time
(time.process_time) instead of wall time, as the JS side then is. scipy's sparse products are single-threaded;
OPENBLAS_NUM_THREADS=1 is set by the caller anyway.
"""
import json
import sys
import time

import numpy as np
import scipy
import scipy.sparse as sp


def best_seconds(fn, min_seconds, reps, clock=time.perf_counter):
    for _ in range(3):
        fn()
    n = 1
    while True:
        t0 = clock()
        for _ in range(n):
            fn()
        dt = clock() - t0
        if dt >= min_seconds / 4:
            n = max(1, int(np.ceil(n * min_seconds / dt)))
            break
        n *= 2
    best = float("inf")
    for _ in range(reps):
        t0 = clock()
        for _ in range(n):
            fn()
        best = min(best, (clock() - t0) / n)
    return best


def main():
    spec = json.load(sys.stdin)
    rng = np.random.default_rng(spec.get("seed", 0))
    min_seconds = spec.get("minSeconds", 0.05)
    reps = spec.get("reps", 5)
    clock = time.process_time if spec.get("clock") == "cpu" else time.perf_counter
    results = []
    for config in spec["configs"]:
        rows, cols, sparsity = config["rows"], config["cols"], config["sparsity"]
        size = rows * cols
        nnz = int(round((1 - sparsity) * size))
        dense = np.zeros(size, dtype=np.float32)
        dense[rng.permutation(size)[:nnz]] = rng.standard_normal(nnz).astype(np.float32)
        w = sp.csr_matrix(dense.reshape(rows, cols))
        assert w.nnz == nnz and w.dtype == np.float32
        for batch in config["batches"]:
            if batch == 1:
                x = rng.standard_normal(cols).astype(np.float32)
                seconds = best_seconds(lambda: w @ x, min_seconds, reps, clock)
            else:
                xt = np.ascontiguousarray(rng.standard_normal((cols, batch)).astype(np.float32))
                seconds = best_seconds(lambda: w @ xt, min_seconds, reps, clock)
            results.append({"rows": rows, "cols": cols, "sparsity": sparsity, "batch": batch, "nnz": nnz, "us": seconds * 1e6})
    json.dump({"scipy": scipy.__version__, "numpy": np.__version__, "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
