"""Can a small stacked RNN learn to count? a^n b^n next-symbol prediction, LSTM vs GRU vs tanh RNN.

    python demos/counting.py [output folder]         (default ./counting-out)

Trains a 2-layer stack of each cell type (same hidden sizes, a Dense readout) on S a^n b^n T
with n <= 10 (minirnn.data.tasks.anbn: predict the next symbol; cross-entropy on every real
step), then tests every n up to 200. A string is handled exactly when the argmax prediction is
right at every predictable step (the first a, every b, and the end symbol T: Weiss et al. 2018).
Prints, per cell: the largest n such that every n' <= n is handled, how many of 1..200 are, and
the held-out R^2 of a linear probe from each layer's state (LSTM: cell state c and h) to the
counter #a - #b read so far. Writes probe_<cell>.png for the best-probed layer of each cell.

Published results (Gers & Schmidhuber 2001; Weiss, Goldberg & Yahav 2018) say LSTMs learn a
counter and generalise well beyond the training range, while GRUs and tanh RNNs generalise
poorly. One seed and a few minutes of training are a small experiment: read the numbers as
what this run found, not as a verdict.
"""
import argparse
import os

import numpy as np

from minirnn import StackedRNN
from minirnn.analysis import linear_probe
from minirnn.plot import describe_networks, plot_probe
from minirnn.analysis.states import layer_states
from minirnn.data.tasks import anbn
from minirnn.layers import Dense
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.train import fit


def exact_per_string(net, head, data):
    """(N,) True where the argmax prediction is right at every predictable step."""
    y, _, _ = net.forward(data["x"], mask=data["valid"])
    logits, _ = head.forward(y)
    right = np.argmax(logits, axis=-1) == data["targets"]
    return np.all(right | ~data["predictable"], axis=1)


def counter(data):
    """#a - #b read so far: (N, T)."""
    reads = np.argmax(data["x"], axis=-1) * data["valid"]
    return np.cumsum((reads == 1).astype(float) - (reads == 2), axis=1)


def main(out, epochs=150, hidden=(8, 8), max_test_n=200, seed=0, backend=None):
    os.makedirs(out, exist_ok=True)
    train = anbn(np.tile(np.arange(1, 11), 16))
    test = anbn(np.arange(1, max_test_n + 1))
    probe_data = anbn(np.tile(np.arange(1, 31), 2))
    print(f"train: n = 1..10 ({len(train['n'])} strings); test: n = 1..{max_test_n}")
    for cell in ("lstm", "gru", "rnn"):
        net = StackedRNN(cell, 4, list(hidden), seed=seed, backend=backend)
        head = Dense(hidden[-1], 4, seed=seed)
        model = Sequential([("rnn", Recurrent(net)), ("head", head)])
        data = (train["x"], train["targets"], train["valid"])
        history = fit(model, "softmax_cross_entropy", data,
                      optimizer=Adam(lr=1e-2), epochs=epochs, batch_size=32, clip_norm=1.0,
                      seed=seed, progress=False)
        exact = exact_per_string(net, head, test)
        contiguous = int(np.argmin(exact)) if not exact.all() else max_test_n
        train_exact = exact_per_string(net, head, train).mean()
        print(f"\n{cell}: final train loss {history['train_loss'][-1]:.4f}, "
              f"train strings exact {train_exact:.0%}")
        print(f"  largest n with every n' <= n exact: {contiguous}; exact on "
              f"{exact.sum()} of n = 1..{max_test_n}")
        _, _, cache = net.forward(probe_data["x"], mask=probe_data["valid"])
        target = counter(probe_data)
        best = None
        for l in range(1, net.num_layers + 1):
            for state in net.spec.state_names:
                features = layer_states(net, cache, l, state)
                valid = probe_data["valid"]
                probe = linear_probe(features[valid], target[valid], seed=seed)
                print(f"  probe layer {l} {state!r} -> counter #a - #b (n <= 30): "
                      f"held-out R^2 = {probe.r2_test:.4f}")
                if best is None or probe.r2_test > best[0].r2_test:
                    best = (probe, features[valid], target[valid], f"layer {l}'s state {state!r}")
        *figure, probed = best
        about = (f"Target: the counter #a $-$ #b read so far, at every step of a$^n$b$^n$ "
                 f"strings with $n \\leq 30$ (trained on $n \\leq 10$). Probed: {probed}, the "
                 f"best of every layer and state.   {describe_networks([net])}, trained "
                 f"{epochs} epochs")
        plot_probe(*figure, os.path.join(out, f"probe_{cell}.png"), about=about)
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="counting-out")
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.out, epochs=args.epochs, seed=args.seed)
