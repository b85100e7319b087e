"""Counting protocol (a): a^n b^n trained and scored the way Gers & Schmidhuber (2001) describe.

    python experiments/counting_protocols.py --quick          # 2 seeds, tiny training, < 60 s
    python experiments/counting_protocols.py                  # default: 3 seeds, < 2 min
    python experiments/counting_protocols.py --full           # 10 seeds per cell, n <= 1000,
                                                              # 5000 epochs: ~5 min on 2 cores

Issue 15, part 1. demos/counting.py trains a 2-layer stack with softmax next-symbol targets and
finds the LSTM exact only to n ~ 12; Gers & Schmidhuber (2001) report LSTMs trained on n <= 10
that are exact to n = 1000, El-Naggar et al. (2022) that LSTMs trained the standard way fail
well beyond the training lengths. This script runs G & S's protocol as far as minirnn allows:

    strings     S a^n b^n T, train n = 1..10 (minirnn.data.tasks.anbn)
    targets     at every step the *set* of legal next symbols (anbn's `allowed`): 4 sigmoid
                outputs, binary cross-entropy on every real step (losses.binary_cross_entropy_with_logits)
    network     one recurrent layer of `hidden` units (default 1: G & S's single memory block of
                one cell) and a sigmoid output layer that sees the cell output h_t *and* the input
                x_t (G & S's shortcut connections from the input to the output units)
    updates     online: one string per update (G & S update after each sequence), in a random order
                each epoch; Adam (default) or SGD with momentum (--optimizer sgd)
    selection   every `eval_every` epochs the network is scored on n = 1..val_max; the snapshot
                with the largest n such that every n' <= n is exact is kept (ties: lower loss on
                the validation strings n = 11..val_max)
    test        every n = 1..max_n; a string is accepted when at *every* step the thresholded
                outputs (sigmoid > 0.5, i.e. logit > 0) equal the legal-next-symbol set exactly
    reported    per cell: the largest n with every n' <= n accepted (median and max over seeds),
                the fractions of seeds reaching 2x and 10x the training range, and how many of
                1..max_n are accepted

Departures from G & S (see experiments/README.md): no peepholes in the built-in LSTM (the
`peephole` configuration uses the peephole cell of tests/custom_cells.py, registered here, NumPy
backend); the LSTM has no bias-free 'memory block' variants; Adam rather than plain momentum SGD
by default; the validation range is part of the test range (as the selection rule reads it).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from minirnn import StackedRNN                                   # noqa: E402
from minirnn.data.tasks import anbn                              # noqa: E402
from minirnn.layers import Dense                                 # noqa: E402
from minirnn.losses import binary_cross_entropy_with_logits      # noqa: E402
from minirnn.optim import SGD, Adam, clip_grad_norm              # noqa: E402
from minirnn.threads import run_jobs                             # noqa: E402

# configuration name -> (cell, forget-gate bias, backend)
CONFIGS = {"lstm_fb0": ("lstm", 0.0, "numba"), "lstm_fb1": ("lstm", 1.0, "numba"),
           "gru": ("gru", 0.0, "numba"), "rnn": ("rnn", 0.0, "numba"),
           "peephole": ("peephole_lstm", 1.0, "numpy")}
DEFAULT_CELLS = ("lstm_fb0", "lstm_fb1", "gru", "rnn")
SETTINGS = {   # what --quick, the default and --full set (any flag given explicitly wins)
    "quick": dict(seeds=2, epochs=20, eval_every=5, max_n=60, val_max=20),
    "default": dict(seeds=3, epochs=2000, eval_every=50, max_n=500, val_max=20),
    "full": dict(seeds=10, epochs=5000, eval_every=50, max_n=1000, val_max=20),
}
SYMBOLS = 4        # S, a, b, T
TEST_CHUNK = 50    # test strings per forward pass (consecutive n, so little padding)


# ---- the criterion ----------------------------------------------------------------------------
def accepted(logits, allowed, valid):
    """(N,) True where every real step's thresholded outputs equal the legal-next-symbol set.

    logits: (N, T, 4); allowed: (N, T, 4) bool; valid: (N, T) bool. sigmoid(a) > 0.5 <=> a > 0."""
    right = np.all((logits > 0) == allowed, axis=-1)            # (N, T)
    return np.all(right | ~valid, axis=1)


def largest_contiguous(ns, ok):
    """The largest n such that every n' <= n in `ns` (which must be 1, 2, ...) is ok; 0 if n = 1 fails."""
    ns, ok = np.asarray(ns), np.asarray(ok, bool)
    if not np.array_equal(ns, np.arange(1, len(ns) + 1)):
        raise ValueError("ns must be 1, 2, ..., N in order")
    return int(len(ns)) if ok.all() else int(np.argmin(ok))


# ---- the network: recurrent layer(s), and an output layer fed by h_t (and x_t) -------------------
class CountingNet:
    """logits_t = [h_t, x_t] @ W + b (shortcut=True: G & S's output units see the memory cells and
    the input) or h_t @ W + b (shortcut=False, protocols b and c). `layers` recurrent layers of
    `hidden` units each; one output unit per symbol."""

    def __init__(self, cell, hidden, forget_bias, backend, seed, layers=1, shortcut=True):
        self.net = StackedRNN(cell, SYMBOLS, [hidden] * layers, seed=seed, backend=backend,
                              forget_bias=forget_bias)
        self.shortcut = shortcut
        self.head = Dense(hidden + (SYMBOLS if shortcut else 0), SYMBOLS, seed=seed + 1000)
        self.hidden = hidden
        self.params = {**{f"net.{k}": v for k, v in self.net.params.items()},
                       **{f"head.{k}": v for k, v in self.head.params.items()}}

    def forward(self, x, mask=None):
        """x: (N, T, 4) -> logits (N, T, 4) and the caches."""
        y, _, net_cache = self.net.forward(x, mask=mask)
        logits, head_cache = self.head.forward(np.concatenate([y, x], axis=-1) if self.shortcut
                                               else y)
        return logits, (net_cache, head_cache)

    def backward(self, dlogits, caches):
        net_cache, head_cache = caches
        dz, head_grads = self.head.backward(dlogits, head_cache)
        _, net_grads = self.net.backward(np.ascontiguousarray(dz[..., :self.hidden]), net_cache)
        return {**{f"net.{k}": g for k, g in net_grads.items()},
                **{f"head.{k}": g for k, g in head_grads.items()}}

    def snapshot(self):
        return {k: v.copy() for k, v in self.params.items()}

    def restore(self, snapshot):
        for k, v in self.params.items():
            v[...] = snapshot[k]


def score(model, ns):
    """(accepted per n (N,) bool, mean BCE) over strings n in ns, in chunks of consecutive n."""
    ok, losses, weights = [], [], []
    for start in range(0, len(ns), TEST_CHUNK):
        data = anbn(ns[start:start + TEST_CHUNK])
        logits, _ = model.forward(data["x"], mask=data["valid"])
        ok.append(accepted(logits, data["allowed"], data["valid"]))
        loss, _ = binary_cross_entropy_with_logits(logits, data["allowed"].astype(float),
                                                   mask=data["valid"])
        losses.append(loss)
        weights.append(data["valid"].sum())
    return np.concatenate(ok), float(np.average(losses, weights=weights))


# ---- one run ------------------------------------------------------------------------------------
def make_optimizer(name, lr, momentum):
    return Adam(lr=lr) if name == "adam" else SGD(lr=lr, momentum=momentum)


def train_and_test(config, seed, train_max=10, hidden=1, epochs=150, eval_every=10, val_max=20,
                   max_n=300, optimizer="adam", lr=0.01, momentum=0.9, clip_norm=1.0):
    """Train one network by protocol (a) and test it on n = 1..max_n. Returns a JSON-able dict."""
    cell, forget_bias, backend = CONFIGS[config]
    if cell == "peephole_lstm":
        register_peephole()
    started = time.perf_counter()
    model = CountingNet(cell, hidden, forget_bias, backend, seed)
    opt = make_optimizer(optimizer, lr, momentum)
    rng = np.random.default_rng(seed)
    strings = [anbn([n]) for n in range(1, train_max + 1)]      # one string per update, no padding
    select_ns = np.arange(1, val_max + 1)
    best, best_key, history = None, None, []
    for epoch in range(1, epochs + 1):
        for k in rng.permutation(len(strings)):
            s = strings[k]
            logits, caches = model.forward(s["x"])
            _, dlogits = binary_cross_entropy_with_logits(logits, s["allowed"].astype(float))
            grads = model.backward(dlogits, caches)
            if clip_norm is not None:
                grads, _ = clip_grad_norm(grads, clip_norm)
            opt.step(model.params, grads)
        if epoch % eval_every == 0 or epoch == epochs:
            ok, _ = score(model, select_ns)
            _, val_loss = score(model, np.arange(train_max + 1, val_max + 1))
            key = (largest_contiguous(select_ns, ok), -val_loss)
            history.append({"epoch": epoch, "selection_n": key[0], "val_loss": val_loss})
            if best_key is None or key > best_key:
                best, best_key, best_epoch = model.snapshot(), key, epoch
    model.restore(best)
    test_ns = np.arange(1, max_n + 1)
    ok, test_loss = score(model, test_ns)
    return {"config": config, "cell": cell, "forget_bias": forget_bias, "seed": seed,
            "selected_epoch": best_epoch, "selection_n": best_key[0],
            "train_strings_accepted": int(ok[:train_max].sum()),
            "largest_n": largest_contiguous(test_ns, ok), "accepted_of_max_n": int(ok.sum()),
            "first_failures": [int(n) for n in test_ns[~ok][:5]], "test_loss": test_loss,
            "seconds": round(time.perf_counter() - started, 2), "history": history,
            "params": {k: v.tolist() for k, v in model.params.items()}}   # the kept net, for (d)


def register_peephole():
    """The peephole LSTM of tests/custom_cells.py (not shipped with the library), registered here."""
    from minirnn.cells import CELLS, register_cell
    if "peephole_lstm" not in CELLS:
        sys.path.insert(0, os.path.join(REPO, "tests"))
        from custom_cells import PEEPHOLE
        register_cell(PEEPHOLE)


def run_one(job):
    config, seed, kwargs = job
    return train_and_test(config, seed, **kwargs)


# ---- summary and files --------------------------------------------------------------------------
def summarise(runs, configs, train_max, max_n):
    rows = []
    for config in configs:
        largest = np.array([r["largest_n"] for r in runs if r["config"] == config])
        rows.append({"config": config, "seeds": int(len(largest)),
                     "median_largest_n": float(np.median(largest)),
                     "max_largest_n": int(largest.max()), "min_largest_n": int(largest.min()),
                     "largest_n_per_seed": [int(v) for v in largest],
                     "frac_train_range": float(np.mean(largest >= train_max)),
                     "frac_2x": float(np.mean(largest >= 2 * train_max)),
                     "frac_10x": float(np.mean(largest >= 10 * train_max)),
                     "frac_all_max_n": float(np.mean(largest >= max_n))})
    return rows


def markdown(result):
    p = result["protocol"]
    lines = [f"# Counting protocol (a): Gers & Schmidhuber-style a^n b^n", "",
             f"Command: `{result['command']}`  ",
             f"Wall time: {result['wall_seconds']:.0f} s on {result['workers']} worker(s).", "",
             f"Train n = 1..{p['train_max']} (online, one string per update, {p['epochs']} epochs, "
             f"{p['optimizer']} lr {p['lr']}, clip {p['clip_norm']}), 1 layer of {p['hidden']} "
             f"unit(s) + sigmoid outputs fed by h_t and x_t, legal-next-symbol targets, BCE. "
             f"Snapshot kept: largest contiguous exact n on 1..{p['val_max']} (every "
             f"{p['eval_every']} epochs). Test: every n = 1..{p['max_n']}; accepted = every "
             f"step's thresholded outputs equal the legal set.", "",
             f"| config | seeds | largest n, median | max | min | >= {p['train_max']} (train) | "
             f">= {2 * p['train_max']} (2x) | >= {10 * p['train_max']} (10x) | all {p['max_n']} | per seed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in result["summary"]:
        lines.append(f"| {r['config']} | {r['seeds']} | {r['median_largest_n']:g} | "
                     f"{r['max_largest_n']} | {r['min_largest_n']} | {r['frac_train_range']:.0%} | "
                     f"{r['frac_2x']:.0%} | {r['frac_10x']:.0%} | {r['frac_all_max_n']:.0%} | "
                     f"{r['largest_n_per_seed']} |")
    lines += ["", "Per run (selected epoch, accepted strings of 1..max_n, first failures, seconds):", ""]
    for r in result["runs"]:
        lines.append(f"- {r['config']} seed {r['seed']}: largest n {r['largest_n']}, epoch "
                     f"{r['selected_epoch']}, {r['accepted_of_max_n']}/{p['max_n']} accepted, "
                     f"first failures {r['first_failures']}, {r['seconds']} s")
    return "\n".join(lines) + "\n"


def main(argv=None):
    args = parse_args(argv)
    setting = SETTINGS["quick" if args.quick else "full" if args.full else "default"]
    for key, value in setting.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    seeds = list(range(args.seeds)) if isinstance(args.seeds, int) else args.seeds
    kwargs = dict(train_max=args.train_max, hidden=args.hidden, epochs=args.epochs,
                  eval_every=args.eval_every, val_max=args.val_max, max_n=args.max_n,
                  optimizer=args.optimizer, lr=args.lr, momentum=args.momentum,
                  clip_norm=args.clip_norm)
    jobs = [(config, seed, kwargs) for config in args.cells for seed in seeds]
    started = time.perf_counter()
    runs = run_jobs(run_one, jobs, args.workers, num_threads=None)  # BLAS left as it is
    wall = time.perf_counter() - started
    command = "python experiments/counting_protocols.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    result = {"command": command.strip(), "wall_seconds": round(wall, 1), "workers": args.workers,
              "protocol": {"name": "a (Gers & Schmidhuber 2001)", **kwargs, "seeds": seeds,
                           "cells": list(args.cells)},
              "summary": summarise(runs, args.cells, args.train_max, args.max_n), "runs": runs}
    write_result(result, markdown(result), args.output_dir,
                 "counting_protocol_a" + (f"_{args.tag}" if args.tag else ""), args.silent)
    return result


def write_result(result, text, output_dir, name, silent=False):
    """<output_dir>/<name>.json (the result) and .md (text); prints the text up to 'Per run'."""
    os.makedirs(output_dir, exist_ok=True)
    stem = os.path.join(output_dir, name)
    with open(stem + ".json", "w") as f:
        json.dump(result, f, separators=(",", ":"))  # compact: the .md is the readable copy
    with open(stem + ".md", "w") as f:
        f.write(text)
    if not silent:
        print(text.split("\nPer run")[0])
        print(f"written: {stem}.json, {stem}.md")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="2 seeds, tiny training, < 60 s")
    mode.add_argument("--full", action="store_true", help="10 seeds, 5000 epochs, n <= 1000")
    parser.add_argument("--seeds", type=int, help="number of seeds (0..k-1)")
    parser.add_argument("--cells", nargs="+", default=list(DEFAULT_CELLS), choices=list(CONFIGS))
    parser.add_argument("--max-n", type=int, dest="max_n", help="test every n = 1..max_n")
    parser.add_argument("--val-max", type=int, dest="val_max", help="select on n = 1..val_max")
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--eval-every", type=int, dest="eval_every")
    parser.add_argument("--train-max", type=int, default=10, dest="train_max")
    parser.add_argument("--hidden", type=int, default=1)
    parser.add_argument("--optimizer", choices=("adam", "sgd"), default="adam")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9, help="SGD only")
    parser.add_argument("--clip-norm", type=float, default=1.0, dest="clip_norm")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--output-dir", default=os.path.join(REPO, "experiments", "results"),
                        dest="output_dir")
    parser.add_argument("--tag", default="", help="result files counting_protocol_a_<tag>.*")
    parser.add_argument("--silent", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
