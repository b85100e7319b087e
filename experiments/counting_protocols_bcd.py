"""Counting protocols (b), (c) and (d): a^n b^n the way Weiss et al. (2018), Suzgun et al. (2019)
and El-Naggar et al. (2022) train and test it. Protocol (a) is experiments/counting_protocols.py,
whose network, acceptance test, pool and file writing this module shares.

    python experiments/counting_protocols_bcd.py c --quick    # each protocol has --quick (seconds),
    python experiments/counting_protocols_bcd.py b --full     # a default and --full (the committed
    python experiments/counting_protocols_bcd.py d --full     # runs; d reads the a and c results)

(b) Weiss, Goldberg & Yahav (2018); setup read from their code, tech-srl/counting_dimensions
    (RNNTokenPredictor.py and the notebook; the paper's text was not available to us):
    strings     a^n b^n, train n = 1..99 (their notebook: n = 0..99), positive examples only
    targets     the next symbol (softmax over the symbols, cross-entropy on every step)
    network     1 layer of 10 units, a softmax output layer on h_t
    updates     one string per update, Adam lr 0.001; at least `min_epochs`, at most `max_epochs`,
                stopping once every training string is recognised (their notebook's rule)
    recognised  a string is accepted when every next symbol has probability > 0.01 (their
                reject_threshold) and so does the end; n counts as right when a^n b^n is accepted
                *and* its near misses rejected: at every step the set {symbols with p > 0.01}
                equals the legal next-symbol set
(c) Suzgun, Belinkov & Shieber (2019), code suzgunmirac/lstm-eval (main.py, model.py,
    sample_generator.py):
    strings     a^n b^n without a start symbol, 1000 training strings with n uniform on a window
                (default [1, 50]; the paper also uses [1, 30] and [50, 100])
    targets     the set of next possible characters, sigmoid outputs, mean squared error
    network     `layers` (1) layers of `hidden` (3; the paper tries 1, 2, 3 and 36) units, a
                linear + sigmoid output on h_t
    updates     one string per update, RMSprop lr 0.01, `epochs` passes (theirs: 150)
    test        after every epoch n = 1, 2, ... until the fifth failure; a string is right when
                every step's outputs thresholded at 0.5 equal the target set. Reported: e_1, the
                first n that fails (so e_1 - 1 is the largest n with every smaller n right), and
                e_5, over epochs
(d) El-Naggar, Madhyastha & Weyde (2022, arXiv 2211.16429): the trained models of (a) and (c)
    (their parameters are stored in the result json) tested on much longer strings, n up to
    `long_max` on a geometric grid; per model: accepted or not at each n, the validation loss just
    past training, and for LSTMs a probe of the cell state c_t against the count #a - #b.

Where the protocols differ from the papers is listed in experiments/README.md.
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:
    sys.path.insert(0, HERE)

import counting_protocols as shared                                  # noqa: E402
from counting_protocols import (CONFIGS, REPO, CountingNet, accepted,  # noqa: E402
                                largest_contiguous, register_peephole, write_result)
from minirnn.analysis import best_unit, linear_probe                 # noqa: E402
from minirnn.data.tasks import anbn                                  # noqa: E402
from minirnn.losses import (binary_cross_entropy_with_logits,        # noqa: E402
                            mean_squared_error, softmax_cross_entropy)
from minirnn.optim import RMSprop, Adam, clip_grad_norm              # noqa: E402
from minirnn.threads import run_jobs                                 # noqa: E402

DEFAULT_CELLS = ("lstm_fb0", "lstm_fb1", "gru", "rnn")
SETTINGS = {
    "b": {"quick": dict(seeds=1, min_epochs=2, max_epochs=4, train_max=20, max_n=60),
          "default": dict(seeds=2, min_epochs=50, max_epochs=100, train_max=100, max_n=500),
          "full": dict(seeds=10, min_epochs=300, max_epochs=500, train_max=99, max_n=1000)},
    "c": {"quick": dict(seeds=2, epochs=2, samples=100, max_n=120),
          "default": dict(seeds=3, epochs=10, samples=1000, max_n=500),
          "full": dict(seeds=10, epochs=20, samples=1000, max_n=1000)},
    "d": {"quick": dict(long_max=2000), "default": dict(long_max=5000),
          "full": dict(long_max=10000)},
}
REJECT_THRESHOLD = 0.01   # Weiss et al.'s reject_threshold
FAILURES = 5              # Suzgun et al.'s e_1 .. e_5
CHUNK = 50                # test strings per forward pass


# ---- the strings of each protocol -----------------------------------------------------------------
def strings(protocol, ns):
    """anbn(ns) as protocol b or c reads it. (c) has no start symbol: step 0 (read S) is dropped."""
    data = anbn(ns)
    if protocol == "c":
        data = {**data, **{k: np.ascontiguousarray(data[k][:, 1:])
                           for k in ("x", "targets", "valid", "allowed", "predictable")}}
    return data


def right(protocol, logits, data):
    """(N,) bool: the protocol's criterion. (a), (c): sigmoid > 0.5 equals the legal set at every
    step. (b): softmax p > 0.01 equals the legal set over a, b, T (S is never a next symbol)."""
    if protocol == "b":
        p = np.exp(logits - logits.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        return accepted(p[..., 1:] - REJECT_THRESHOLD, data["allowed"][..., 1:], data["valid"])
    return accepted(logits, data["allowed"], data["valid"])


def loss_and_grad(protocol, logits, data):
    """(a): BCE on logits; (b): softmax cross-entropy on the next symbol; (c): MSE on sigmoids."""
    mask = data["valid"]
    if protocol == "b":
        return softmax_cross_entropy(logits, data["targets"], mask=mask)
    target = data["allowed"].astype(float)
    if protocol == "c":
        p = 1.0 / (1.0 + np.exp(-logits))
        loss, dp = mean_squared_error(p, target, mask=np.broadcast_to(mask[..., None], p.shape))
        return loss, dp * p * (1.0 - p)                              # through the sigmoid
    return binary_cross_entropy_with_logits(logits, target, mask=mask)


def test_ns(protocol, model, ns, stop_after=None):
    """(right per n, mean loss) over ns in chunks; stops after `stop_after` failures (the rest
    are reported as not right)."""
    ok, losses, weights = np.zeros(len(ns), bool), [], []
    failures = 0
    for start in range(0, len(ns), CHUNK):
        data = strings(protocol, ns[start:start + CHUNK])
        logits, _ = model.forward(data["x"], mask=data["valid"])
        ok[start:start + CHUNK] = right(protocol, logits, data)
        losses.append(loss_and_grad(protocol, logits, data)[0])
        weights.append(data["valid"].sum())
        failures += int((~ok[start:start + CHUNK]).sum())
        if stop_after is not None and failures >= stop_after:
            break
    return ok, float(np.average(losses, weights=weights))


def first_failures(ok, ns, k=FAILURES):
    """The first k n that are not right (Suzgun et al.'s e_1..e_k); fewer if fewer failed."""
    return [int(n) for n in np.asarray(ns)[~ok][:k]]


# ---- training --------------------------------------------------------------------------------------
def build(config, seed, hidden, layers, protocol):
    cell, forget_bias, backend = CONFIGS[config]
    if cell == "peephole_lstm":
        register_peephole()
    return CountingNet(cell, hidden, forget_bias, backend, seed, layers=layers,
                       shortcut=(protocol == "a"))


def update(protocol, model, opt, data, clip_norm):
    logits, caches = model.forward(data["x"])
    _, dlogits = loss_and_grad(protocol, logits, data)
    grads = model.backward(dlogits, caches)
    if clip_norm is not None:
        grads, _ = clip_grad_norm(grads, clip_norm)
    opt.step(model.params, grads)


def train_b(config, seed, hidden=10, layers=1, train_max=100, min_epochs=100, max_epochs=200,
            check_every=10, max_n=1000, lr=0.001, clip_norm=None):
    """Protocol (b): train on n = 1..train_max until all are recognised (and min_epochs), test."""
    started = time.perf_counter()
    model = build(config, seed, hidden, layers, "b")
    opt, rng = Adam(lr=lr), np.random.default_rng(seed)
    train = [strings("b", [n]) for n in range(1, train_max + 1)]
    train_ns = np.arange(1, train_max + 1)
    history, epoch = [], 0
    while epoch < max_epochs:
        for k in rng.permutation(len(train)):
            update("b", model, opt, train[k], clip_norm)
        epoch += 1
        if epoch % check_every == 0 or epoch == max_epochs:
            ok, loss = test_ns("b", model, train_ns)
            history.append({"epoch": epoch, "train_right": int(ok.sum()), "train_loss": loss})
            if ok.all() and epoch >= min_epochs:
                break
    ns = np.arange(1, max_n + 1)
    ok, test_loss = test_ns("b", model, ns)
    return finish("b", config, seed, model, ns, ok, started, epochs=epoch, history=history,
                  train_right=int(ok[:train_max].sum()), test_loss=test_loss)


def train_c(config, seed, hidden=3, layers=1, window=(1, 50), samples=1000, epochs=150,
            max_n=1000, lr=0.01, clip_norm=None):
    """Protocol (c): `samples` strings, n uniform on `window`; e_1..e_5 after every epoch."""
    started = time.perf_counter()
    model = build(config, seed, hidden, layers, "c")
    opt, rng = RMSprop(lr=lr), np.random.default_rng(seed)
    sample_ns = rng.integers(window[0], window[1] + 1, size=samples)
    cache = {n: strings("c", [n]) for n in np.unique(sample_ns)}
    ns = np.arange(1, max_n + 1)
    history = []
    for epoch in range(1, epochs + 1):
        for n in sample_ns:              # the sample order is fixed, as in their train()
            update("c", model, opt, cache[n], clip_norm)
        ok, _ = test_ns("c", model, ns, stop_after=FAILURES)
        history.append({"epoch": epoch, "e": first_failures(ok, ns)})
    ok, test_loss = test_ns("c", model, ns)
    e1 = [h["e"][0] if h["e"] else max_n + 1 for h in history]
    return finish("c", config, seed, model, ns, ok, started, epochs=epochs, history=history,
                  best_epoch_largest_n=int(max(e1) - 1), test_loss=test_loss,
                  train_right=int(ok[window[0] - 1:window[1]].sum()))


def finish(protocol, config, seed, model, ns, ok, started, **extra):
    cell, forget_bias, _ = CONFIGS[config]
    return {"protocol": protocol, "config": config, "cell": cell, "forget_bias": forget_bias,
            "seed": seed, "largest_n": largest_contiguous(ns, ok),
            "accepted_of_max_n": int(ok.sum()), "e": first_failures(ok, ns), **extra,
            "seconds": round(time.perf_counter() - started, 2),
            "params": {k: v.tolist() for k, v in model.params.items()}}


def run_one(job):
    protocol, config, seed, kwargs = job
    return (train_b if protocol == "b" else train_c)(config, seed, **kwargs)


# ---- (d): the long test of trained models -----------------------------------------------------------
def reload(run, protocol, hidden, layers):
    model = build(run["config"], run["seed"], hidden, layers, protocol)
    model.restore({k: np.asarray(v) for k, v in run["params"].items()})
    return model


def long_grid(start, long_max):
    """n = start, then about 8 per decade, up to long_max."""
    grid = np.unique(np.round(np.geomspace(start, long_max, 1 + int(8 * np.log10(long_max / start)))))
    return grid.astype(int)


def counter_probe(protocol, model, ns):
    """Pearson r of the best single cell-state unit with the count #a - #b read so far, and the
    held-out R^2 of a linear probe on all units, over the strings n in ns (LSTM layer 1 only)."""
    data = strings(protocol, ns)
    _, (net_cache, _) = model.forward(data["x"], mask=data["valid"])
    c = net_cache.layers[1]["fwd"]["c"]                                     # (N, T, H)
    x = data["x"]
    count = np.cumsum(x[..., 1] - x[..., 2], axis=1)                        # (N, T)
    valid = data["valid"]
    rows, target = c[valid], count[valid]                                   # (M, H), (M,)
    _, r = best_unit(rows, target)
    probe = linear_probe(rows, target, seed=0)
    peak = float(np.max(np.abs(c[valid])))
    return {"best_unit_abs_r": abs(r), "probe_r2_test": float(probe.r2_test),
            "max_abs_c": peak}


def long_test(source, long_max):
    """El-Naggar-style test of the models stored in `source` (a protocol a or c result)."""
    protocol = "a" if "counting_protocol_a" in source["_path"] else "c"
    p = source["protocol"]
    hidden, layers = p.get("hidden", 1), p.get("layers", 1)
    train_max = p["train_max"] if protocol == "a" else p["window"][1]
    grid = long_grid(2 * train_max, long_max)
    rows = []
    for run in source["runs"]:
        model = reload(run, protocol, hidden, layers)
        started = time.perf_counter()
        ok_long = np.concatenate([test_ns(protocol, model, [n])[0] for n in grid])
        _, val_loss = test_ns(protocol, model, np.arange(train_max + 1, 2 * train_max + 1))
        row = {"config": run["config"], "seed": run["seed"], "largest_n": run["largest_n"],
               "long_ns": grid.tolist(), "long_accepted": ok_long.tolist(),
               "val_loss": val_loss}
        if run["cell"] in ("lstm", "peephole_lstm"):
            row["probe_train"] = counter_probe(protocol, model, list(range(1, train_max + 1)))
            row["probe_10x"] = counter_probe(protocol, model, [10 * train_max])
        row["seconds"] = round(time.perf_counter() - started, 2)
        rows.append(row)
    return {"source": source["_path"], "source_command": source["command"],
            "protocol": protocol, "train_max": train_max, "grid": grid.tolist(), "rows": rows}


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return float(np.corrcoef(ra, rb)[0, 1]) if np.std(ra) > 0 and np.std(rb) > 0 else float("nan")


# ---- summaries and markdown -------------------------------------------------------------------------
def summarise(runs, configs, train_max, max_n, key="largest_n"):
    rows = shared.summarise([{**r, "largest_n": r[key]} for r in runs], configs, train_max, max_n)
    for row in rows:
        row["measure"] = key
    return rows


def table(rows, train_max, max_n, label=""):
    lines = [f"| config{label} | seeds | largest n, median | max | min | >= {train_max} (train) | "
             f">= {2 * train_max} (2x) | >= {10 * train_max} (10x) | all {max_n} | per seed |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['config']} | {r['seeds']} | {r['median_largest_n']:g} | "
                     f"{r['max_largest_n']} | {r['min_largest_n']} | {r['frac_train_range']:.0%} | "
                     f"{r['frac_2x']:.0%} | {r['frac_10x']:.0%} | {r['frac_all_max_n']:.0%} | "
                     f"{r['largest_n_per_seed']} |")
    return lines


def markdown_bc(result):
    p, prot = result["protocol"], result["protocol"]["name"][0]
    head = [f"# Counting protocol ({prot}): {result['protocol']['name'][3:-1]}-style a^n b^n", "",
            f"Command: `{result['command']}`  ",
            f"Wall time: {result['wall_seconds']:.0f} s on {result['workers']} worker(s).", ""]
    if prot == "b":
        train_max = p["train_max"]
        head += [f"Train n = 1..{train_max}, one string per update, Adam lr {p['lr']}, "
                 f"{p['min_epochs']}..{p['max_epochs']} epochs (stop once all training strings are "
                 f"recognised), {p['layers']} layer(s) of {p['hidden']} units + softmax on h_t, "
                 f"next-symbol cross-entropy. Test every n = 1..{p['max_n']}: right = the symbols "
                 f"with p > {REJECT_THRESHOLD} are exactly the legal next symbols at every step "
                 f"(a^n b^n accepted, its near misses rejected).", ""]
        lines = head + table(result["summary"], train_max, p["max_n"])
    else:
        train_max = p["window"][1]
        head += [f"Train {p['samples']} strings, n uniform on {p['window']}, one per update, "
                 f"RMSprop lr {p['lr']}, {p['epochs']} epochs, {p['layers']} layer(s) of "
                 f"{p['hidden']} units + sigmoid on h_t, next-character-set targets, MSE. Test n = "
                 f"1..{p['max_n']}: right = outputs > 0.5 equal the set at every step. Largest n "
                 f"= e_1 - 1 (Suzgun et al.'s first failure minus one).", "",
                 "After the last epoch:", ""]
        lines = head + table(result["summary"], train_max, p["max_n"])
        lines += ["", "Best epoch (the largest e_1 - 1 seen after any epoch; their curves' peak, "
                  "an optimistic reading):", ""]
        lines += table(result["summary_best_epoch"], train_max, p["max_n"])
    lines += ["", "Per run (largest n, e_1..e_5, epochs, seconds):", ""]
    for r in result["runs"]:
        extra = (f", best epoch {r['best_epoch_largest_n']}" if prot == "c"
                 else f", {r['epochs']} epochs, training strings right {r['train_right']}")
        lines.append(f"- {r['config']} seed {r['seed']}: largest n {r['largest_n']}, e {r['e']}"
                     f"{extra}, {r['seconds']} s")
    return "\n".join(lines) + "\n"


def summarise_d(test):
    out = []
    for config in dict.fromkeys(r["config"] for r in test["rows"]):
        rows = [r for r in test["rows"] if r["config"] == config]
        acc = np.array([r["long_accepted"] for r in rows])                # (seeds, grid)
        row = {"config": config, "seeds": len(rows),
               "frac_accepted_per_n": dict(zip(map(str, test["grid"]), acc.mean(0).tolist())),
               "largest_n_median": float(np.median([r["largest_n"] for r in rows]))}
        if "probe_train" in rows[0]:
            for where in ("probe_train", "probe_10x"):
                row[where] = {k: float(np.median([r[where][k] for r in rows]))
                              for k in rows[0][where]}
        out.append(row)
    lr = [r["largest_n"] for r in test["rows"]]
    vl = [r["val_loss"] for r in test["rows"]]
    return {"per_config": out, "spearman_val_loss_vs_largest_n": spearman(vl, lr)}


def markdown_d(result):
    lines = ["# Counting protocol (d): El-Naggar et al.-style long-sequence test", "",
             f"Command: `{result['command']}`  ",
             f"Wall time: {result['wall_seconds']:.0f} s.", "",
             "The trained models of protocols (a) and (c), reloaded from their result json, tested "
             "on a^n b^n for n on a geometric grid from 2x the training maximum to "
             f"{result['long_max']} (strings of length 2n + 1), each by its own protocol's "
             "criterion. Also: each model's loss on n just past training (train_max+1..2 "
             "train_max) against its largest contiguous n (Spearman, over all models of the "
             "protocol), and for LSTMs the cell state c_t against the count #a - #b read so far "
             "(|r| of the best unit; held-out R^2 of a linear probe on all units; max |c|), on "
             "the training strings and on the one string n = 10x the training maximum.", ""]
    for test in result["tests"]:
        s = test["summary"]
        lines += [f"## Models of protocol ({test['protocol']}) (`{test['source_command']}`)", "",
                  "Fraction of models accepting a^n b^n at n =", "",
                  "| config | seeds | median largest n | " + " | ".join(map(str, test["grid"])) + " |",
                  "|---|---|---|" + "---|" * len(test["grid"])]
        for row in s["per_config"]:
            lines.append(f"| {row['config']} | {row['seeds']} | {row['largest_n_median']:g} | "
                         + " | ".join(f"{v:.0%}" for v in row["frac_accepted_per_n"].values())
                         + " |")
        lines += ["", f"Spearman(validation loss, largest n) over all models: "
                  f"{s['spearman_val_loss_vs_largest_n']:.2f}", "",
                  "Cell-state probe, LSTMs (medians over seeds; train = the strings n = 1..train "
                  "max, 10x = the one string n = 10 train max):", "",
                  "| config | |r| train | R^2 train | max|c| train | "
                  "|r| 10x | R^2 10x | max|c| 10x |", "|---|---|---|---|---|---|---|"]
        for row in s["per_config"]:
            if "probe_train" in row:
                a, b = row["probe_train"], row["probe_10x"]
                lines.append(f"| {row['config']} | {a['best_unit_abs_r']:.3f} | "
                             f"{a['probe_r2_test']:.3f} | {a['max_abs_c']:.2f} | "
                             f"{b['best_unit_abs_r']:.3f} | {b['probe_r2_test']:.3f} | "
                             f"{b['max_abs_c']:.2f} |")
        lines.append("")
    return "\n".join(lines) + "\n"


# ---- main -----------------------------------------------------------------------------------------
def main(argv=None):
    args = parse_args(argv)
    mode = "quick" if args.quick else "full" if args.full else "default"
    for key, value in SETTINGS[args.protocol][mode].items():
        if getattr(args, key, None) is None:
            setattr(args, key, value)
    command = "python experiments/counting_protocols_bcd.py " + " ".join(
        argv if argv is not None else sys.argv[1:])
    started = time.perf_counter()
    if args.protocol == "d":
        tests = []
        for name in args.sources:
            path = name if os.path.isabs(name) else os.path.join(args.output_dir, name)
            with open(path) as f:
                source = {**json.load(f), "_path": os.path.basename(path)}
            test = long_test(source, args.long_max)
            test["summary"] = summarise_d(test)
            tests.append(test)
        result = {"command": command.strip(), "long_max": args.long_max, "tests": tests,
                  "wall_seconds": round(time.perf_counter() - started, 1)}
        write_result(result, markdown_d(result), args.output_dir, "counting_protocol_d" +
                     (f"_{args.tag}" if args.tag else ""), args.silent)
        return result
    seeds = list(range(args.seeds))
    if args.protocol == "b":
        kwargs = dict(hidden=args.hidden or 10, layers=args.layers, train_max=args.train_max,
                      min_epochs=args.min_epochs, max_epochs=args.max_epochs, max_n=args.max_n,
                      lr=args.lr or 0.001)
        train_max = args.train_max
        name = "b (Weiss, Goldberg & Yahav 2018)"
    else:
        kwargs = dict(hidden=args.hidden or 3, layers=args.layers, window=tuple(args.window),
                      samples=args.samples, epochs=args.epochs, max_n=args.max_n,
                      lr=args.lr or 0.01)
        train_max = args.window[1]
        name = "c (Suzgun, Belinkov & Shieber 2019)"
    jobs = [(args.protocol, config, seed, kwargs) for config in args.cells for seed in seeds]
    runs = run_jobs(run_one, jobs, args.workers, num_threads=None)  # BLAS left as it is
    result = {"command": command.strip(), "wall_seconds": round(time.perf_counter() - started, 1),
              "workers": args.workers,
              "protocol": {"name": name, **kwargs, "seeds": seeds, "cells": list(args.cells)},
              "summary": summarise(runs, args.cells, train_max, args.max_n), "runs": runs}
    if args.protocol == "c":
        result["protocol"]["train_max"] = train_max
        result["summary_best_epoch"] = summarise(runs, args.cells, train_max, args.max_n,
                                                 key="best_epoch_largest_n")
    write_result(result, markdown_bc(result), args.output_dir, f"counting_protocol_{args.protocol}"
                 + (f"_{args.tag}" if args.tag else ""), args.silent)
    return result


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("protocol", choices=("b", "c", "d"))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="seconds; the smoke test's setting")
    mode.add_argument("--full", action="store_true", help="the committed runs")
    parser.add_argument("--seeds", type=int)
    parser.add_argument("--cells", nargs="+", default=list(DEFAULT_CELLS), choices=list(CONFIGS))
    parser.add_argument("--hidden", type=int, help="(b) 10, (c) 3")
    parser.add_argument("--layers", type=int, default=1)
    parser.add_argument("--lr", type=float, help="(b) Adam 0.001, (c) RMSprop 0.01")
    parser.add_argument("--max-n", type=int, dest="max_n", help="test every n = 1..max_n")
    parser.add_argument("--train-max", type=int, dest="train_max", help="(b) train n = 1..this")
    parser.add_argument("--min-epochs", type=int, dest="min_epochs")
    parser.add_argument("--max-epochs", type=int, dest="max_epochs")
    parser.add_argument("--window", type=int, nargs=2, default=[1, 50], help="(c) n window")
    parser.add_argument("--samples", type=int, help="(c) training strings")
    parser.add_argument("--epochs", type=int, help="(c) epochs")
    parser.add_argument("--sources", nargs="+",
                        default=["counting_protocol_a.json", "counting_protocol_c.json"],
                        help="(d) result files whose models to test")
    parser.add_argument("--long-max", type=int, dest="long_max", help="(d) largest n tested")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--output-dir", default=os.path.join(REPO, "experiments", "results"),
                        dest="output_dir")
    parser.add_argument("--tag", default="")
    parser.add_argument("--silent", action="store_true")
    return parser.parse_args(argv)


if __name__ == "__main__":
    main()
