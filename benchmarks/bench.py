"""Time the same programs through mini_autograd and autograd, interleaved, in one process.

Run:  python benchmarks/bench.py [--repeats N]

Each program is written once against a NumPy-like module ``np`` and run with
``mini_autograd.numpy`` and ``autograd.numpy``.  The two libraries alternate run by run
(so drifts in machine load hit both alike), each measurement is the median of
``--repeats`` runs, and the table reports ratios, which are what the targets are about.
Gradients are checked to agree before anything is timed.
"""

import argparse
import importlib.metadata
import platform
import time

import autograd
import autograd.numpy as anp
import numpy as onp

import mini_autograd
import mini_autograd.numpy as mnp


def mlp_program(np, batch=256, sizes=(784, 512, 512, 10)):
    rng = onp.random.default_rng(0)
    params = [(rng.normal(size=(m, n)) / onp.sqrt(m), onp.zeros(n))
              for m, n in zip(sizes[:-1], sizes[1:])]
    x = rng.normal(size=(batch, sizes[0]))
    labels = rng.integers(0, sizes[-1], size=batch)
    onehot = onp.eye(sizes[-1])[labels]

    def loss(params):
        h = x
        for W, b in params[:-1]:
            h = np.tanh(h @ W + b)
        W, b = params[-1]
        logits = h @ W + b
        m = np.max(logits, axis=1, keepdims=True)
        log_probs = logits - m - np.log(np.sum(np.exp(logits - m), axis=1, keepdims=True))
        return -np.sum(log_probs * onehot) / batch

    return loss, params


def rnn_program(np, hidden=8, steps=200):
    rng = onp.random.default_rng(1)
    Wh = rng.normal(size=(hidden, hidden)) * 0.3
    Wx = rng.normal(size=(hidden, hidden)) * 0.3
    xs = rng.normal(size=(steps, hidden))

    def loss(Wh):
        h = np.zeros(hidden)
        for t in range(steps):
            h = np.tanh(np.dot(Wh, h) + np.dot(Wx, xs[t]))
        return np.sum(h * h)

    return loss, Wh


def sin_chain_program(np, length=1000):
    def loss(x):
        for _ in range(length):
            x = np.sin(x)
        return x

    return loss, 0.5


def conv_program(np, batch=8, channels=3, size=32, out_channels=8, k=3):
    rng = onp.random.default_rng(2)
    x = rng.normal(size=(batch, channels, size, size))
    w = rng.normal(size=(out_channels, channels, k, k)) * 0.1
    n = size - k + 1

    def loss(w):
        out = 0.0
        for i in range(k):
            for j in range(k):
                patch = x[:, :, i:i + n, j:j + n]                   # (B, C, n, n)
                out = out + np.einsum("bchw,oc->bohw", patch, w[:, :, i, j])
        return np.sum(np.tanh(out) ** 2)

    return loss, w


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def interleaved(fns, repeats):
    """Median time of each function, measured round-robin so load changes hit all alike."""
    samples = {name: [] for name in fns}
    for name, fn in fns.items():  # warm up
        fn()
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
    return {name: sorted(ts)[len(ts) // 2] for name, ts in samples.items()}


def assert_close(a, b):
    la = a if isinstance(a, (list, tuple)) else [a]
    lb = b if isinstance(b, (list, tuple)) else [b]
    for x, y in zip(la, lb):
        if isinstance(x, (list, tuple)):
            assert_close(x, y)
        else:
            assert onp.allclose(x, y, rtol=1e-6, atol=1e-9), "gradients disagree"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rows = []

    loss_m, params = mlp_program(mnp)
    loss_a, _ = mlp_program(anp)
    loss_plain, _ = mlp_program(onp)
    gm, ga = mini_autograd.grad(loss_m), autograd.grad(loss_a)
    assert_close(gm(params), ga(params))
    t = interleaved({"numpy forward": lambda: loss_plain(params),
                     "mini_autograd grad": lambda: gm(params),
                     "autograd grad": lambda: ga(params)}, args.repeats)
    rows.append(("MLP 784-512-512-10, batch 256: grad / NumPy forward",
                 t["mini_autograd grad"] / t["numpy forward"],
                 t["autograd grad"] / t["numpy forward"], "<= 3.2", t))

    for label, program in [("tanh RNN, 8 hidden, 200 steps: grad", rnn_program),
                           ("chain of 1000 scalar sin: grad", sin_chain_program),
                           ("conv 3x3 by slicing (8x3x32x32 -> 8 ch): grad", conv_program)]:
        loss_m, x = program(mnp)
        loss_a, _ = program(anp)
        gm, ga = mini_autograd.grad(loss_m), autograd.grad(loss_a)
        assert_close(gm(x), ga(x))
        t = interleaved({"mini_autograd grad": lambda: gm(x), "autograd grad": lambda: ga(x)},
                        args.repeats)
        target = "<= 1.0" if "conv" in label else "<= 0.5"
        rows.append((label + " / autograd", t["mini_autograd grad"] / t["autograd grad"],
                     None, target, t))

    print(f"python {platform.python_version()}, numpy {onp.__version__}, "
          f"autograd {importlib.metadata.version('autograd')}, "
          f"{args.repeats} interleaved runs, medians")
    print(f"| program | mini_autograd | autograd | target | medians (ms) |")
    print("|---|---|---|---|---|")
    for label, ratio, other, target, t in rows:
        medians = ", ".join(f"{k} {v * 1e3:.2f}" for k, v in t.items())
        other_s = f"{other:.2f}x" if other is not None else "1.00x"
        print(f"| {label} | {ratio:.2f}x | {other_s} | {target} | {medians} |")


if __name__ == "__main__":
    main()
