"""The inter-layer regularisers (gate coordination, consistency) on two shipped tasks, measured.

Two stacked LSTMs [16, 16], trained with `fit` three ways each: without a regulariser, with the
gate-coordination penalty (o^1 + i^2 pushed up to at least 1), and with the consistency penalty
(a learned map from layer 1's time-pooled output to layer 2's summary); see
minirnn/regularisers.py for the equations.

  vowels    speaker identification on JapaneseVowels (the split and padding of demos/vowels.py)
            -> Dense(9) on each utterance's final state. Metric: accuracy (higher is better).
  airline   the seasonal log growth of the airline series (the windows of demos/airline.py),
            next month from 24 months -> Dense(1) at every step. Metric: one-step-ahead RMSE of
            the standardised growth at each window's last month (lower is better); val = the
            last 12 months of the history, test = 1959-1960.

Measured per task, variant and seed: the metric on val and test, the share of o^1 + i^2 below 1
on the test inputs (every unit and real step), and the out-of-sample R^2 of the best linear map
from layer 1's pooled output to layer 2's summary (least squares on train, scored on test): how
consistent the two layers are, whichever way the model was trained. The verdict for a
regulariser is "helps" or "hurts" only when every seed moves the test metric the same way.

    python demos/regularisers.py OUTPUT_DIR [--seeds 5] [--vowel-epochs 30]
        [--airline-epochs 150] [--gate-weight 1.0] [--consistency-weight 1.0]

Prints the table and the verdicts, writes regularisers_gate_sums.png (histograms of o^1 + i^2)
and results.json to OUTPUT_DIR.
"""
import argparse
import json
import runpy
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error, softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, pyplot, save
from minirnn.regularisers import Consistency, GateCoordination, gate_sums, pooled_output
from minirnn.stack import last_step
from minirnn.train import EarlyStopping, fit, predict

HERE = Path(__file__).resolve().parent
HIDDEN = [16, 16]
VARIANTS = ("none", "gate coordination", "consistency")


# ---- the two tasks ------------------------------------------------------------------------------
def vowels_task():
    """Splits {train, val, test: (x, y, mask)} and how to build, train and score the model."""
    split = runpy.run_path(str(HERE / "vowels.py"), run_name="vowels")["load"]()

    def score(model, part):
        x, y, mask = split[part]
        return float(np.mean(np.argmax(predict(model, x, mask), axis=-1) == y))

    return {"split": split, "input_size": 12, "outputs": 9, "return_sequences": False,
            "loss": softmax_cross_entropy, "score": score, "metric": "accuracy",
            "higher_is_better": True,
            "fit": {"optimizer_lr": 0.005, "batch_size": 32, "clip_norm": 5.0, "patience": 10}}


def airline_task():
    """The same for the airline series: windows of the standardised seasonal log growth."""
    airline = runpy.run_path(str(HERE / "airline.py"), run_name="airline")
    history, season, windows = airline["HISTORY"], airline["SEASON"], airline["windows"]
    _, passengers = data.load_airline()
    growth = np.log(passengers[season:]) - np.log(passengers[:-season])  # d_t, t = 12..143
    known = growth[:history - season]
    z = (growth - known.mean()) / known.std()  # standardised with the history's statistics
    val_from, test_from = len(known) - season, len(known)
    split = {"train": windows(z, 0, val_from - 1), "val": windows(z, val_from, test_from - 1),
             "test": windows(z, test_from, len(z) - 1)}
    split = {part: (x, y, None) for part, (x, y) in split.items()}

    def score(model, part):
        x, y, _ = split[part]
        return float(np.sqrt(np.mean((predict(model, x)[:, -1] - y[:, -1]) ** 2)))

    return {"split": split, "input_size": 1, "outputs": 1, "return_sequences": True,
            "loss": mean_squared_error, "score": score, "metric": "RMSE",
            "higher_is_better": False,
            "fit": {"optimizer_lr": 0.003, "batch_size": 16, "clip_norm": 1.0, "patience": 30}}


# ---- one run ------------------------------------------------------------------------------------
def build(task, seed):
    net = StackedRNN("lstm", task["input_size"], HIDDEN,
                     return_sequences=task["return_sequences"], seed=seed)
    return net, Sequential([("lstm", Recurrent(net)),
                            ("dense", Dense(HIDDEN[-1], task["outputs"], seed=seed))])


def regularisers_for(variant, net, weights, seed):
    """fit's `regularisers` for a variant: None, or one (regulariser, weight) pair."""
    if variant == "gate coordination":
        return [(GateCoordination(net), weights["gate"])]
    if variant == "consistency":
        return [(Consistency(net, lower=1, seed=seed), weights["consistency"])]
    return None


def pooled_and_summary(model, net, part):
    """Layer 1's output averaged over the steps it took (N, W_1), layer 2's summary (N, W_2) and
    the StackCache, from a forward run over one split."""
    x, _, mask = part
    _, cache = model.forward(x, mask)
    stack = cache.layers["lstm"]
    summary = last_step(stack.outputs[2], HIDDEN[-1], net.bidirectional)
    return pooled_output(stack, 1)[0], summary, stack


def consistency_r2(model, net, split):
    """Out-of-sample R^2 of the least-squares linear map (with intercept) from layer 1's pooled
    output to layer 2's summary: fitted on train, scored on test."""
    (z_train, y_train, _), (z_test, y_test, _) = (pooled_and_summary(model, net, split[p])
                                                  for p in ("train", "test"))
    design = np.column_stack([z_train, np.ones(len(z_train))])
    coef, *_ = np.linalg.lstsq(design, y_train, rcond=None)
    residual = np.column_stack([z_test, np.ones(len(z_test))]) @ coef - y_test
    return float(1.0 - np.sum(residual ** 2) / np.sum((y_test - y_train.mean(axis=0)) ** 2))


def run(task, variant, seed, epochs, weights):
    """Train one model; its scores, gate sums on the test inputs and the consistency R^2."""
    net, model = build(task, seed)
    settings, split = task["fit"], task["split"]
    history = fit(model, task["loss"], split["train"], split["val"],
                  Adam(lr=settings["optimizer_lr"]), epochs=epochs,
                  batch_size=settings["batch_size"], clip_norm=settings["clip_norm"],
                  early_stopping=EarlyStopping(settings["patience"]), seed=seed, progress=False,
                  num_threads=1, regularisers=regularisers_for(variant, net, weights, seed))
    sums = gate_sums(net, pooled_and_summary(model, net, split["test"])[2])[1]
    return {"val": task["score"](model, "val"), "test": task["score"](model, "test"),
            "below_one": float(np.mean(sums < 1.0)), "gate_sums": sums,
            "consistency_r2": consistency_r2(model, net, split),
            "epochs": len(history["train_loss"]), "best_epoch": history["best_epoch"] + 1,
            "regulariser_loss": history["regularisers"]}


# ---- summary ------------------------------------------------------------------------------------
def verdict(task, runs, variant):
    """'helps' / 'hurts' if every seed's test metric moves the same way against the run without
    a regulariser of the same seed, else 'no clear effect'; with the mean paired change."""
    sign = 1.0 if task["higher_is_better"] else -1.0
    change = [sign * (r["test"] - base["test"]) for r, base in zip(runs[variant], runs["none"])]
    word = ("helps" if min(change) > 0 else "hurts" if max(change) < 0 else "no clear effect")
    return word, float(np.mean(change))


def mean_sd(values):
    return f"{np.mean(values):.3f} +- {np.std(values):.3f}"


def print_table(tasks, results, seeds):
    print(f"\nmean +- sd over {seeds} seeds; share < 1: of o^1 + i^2 on the test inputs; "
          f"R^2: layer 1 pooled -> layer 2 summary, out of sample")
    header = f"{'task':<9}{'variant':<19}{'val':>16}{'test':>16}{'share < 1':>16}{'R^2':>16}"
    print(header + "\n" + "-" * len(header))
    for name, task in tasks.items():
        for variant in VARIANTS:
            runs = results[name][variant]
            print(f"{name:<9}{variant:<19}" + "".join(
                f"{mean_sd([r[key] for r in runs]):>16}"
                for key in ("val", "test", "below_one", "consistency_r2")))
    print(f"\nverdicts (test {', '.join(t['metric'] for t in tasks.values())}; a regulariser "
          f"'helps' only if it improves every seed)")
    verdicts = {}
    for name, task in tasks.items():
        for variant in VARIANTS[1:]:
            word, change = verdict(task, results[name], variant)
            verdicts[f"{name}: {variant}"] = {"verdict": word, "mean_change": change}
            better = "higher" if task["higher_is_better"] else "lower"
            print(f"{name:<9}{variant:<19}{word:<16} mean paired change {change:+.3f} "
                  f"({task['metric']}, positive = better, i.e. {better})")
    return verdicts


def plot(tasks, results, weights, out_dir):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 3.6), layout="constrained")
    bins = np.linspace(0.0, 2.0, 41)
    for ax, name in zip(np.atleast_1d(axes), tasks):
        for variant in VARIANTS:
            values = np.concatenate([r["gate_sums"] for r in results[name][variant]])
            ax.hist(values, bins=bins, density=True, histtype="step", linewidth=1.6,
                    label=f"{variant} ({100 * np.mean(values < 1):.0f}% < 1)")
        ax.axvline(1.0, color="gray", linestyle=":")
        ax.set(title=f"{name}: $o^1_t + i^2_t$ on the test inputs", xlabel="$o^1 + i^2$",
               ylabel="density")
        ax.legend(fontsize=8)
    net = build(next(iter(tasks.values())), 0)[0]
    add_note(fig, f"Every unit pair (unit j of layer 1's output gate, unit j of layer 2's input "
                  f"gate) at every real step, pooled over the seeds. Penalties: gate coordination "
                  f"{weights['gate']} x mean relu(1 - o - i)^2, consistency "
                  f"{weights['consistency']} x mean squared error of the learned map.",
             f"Model: {describe_networks([net])}, then a Dense head; Adam, early stopping on "
             f"the validation loss.")
    save(fig, out_dir / "regularisers_gate_sums.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--vowel-epochs", type=int, default=30)
    parser.add_argument("--airline-epochs", type=int, default=150)
    parser.add_argument("--gate-weight", type=float, default=1.0)
    parser.add_argument("--consistency-weight", type=float, default=1.0)
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    weights = {"gate": args.gate_weight, "consistency": args.consistency_weight}
    tasks = {"vowels": vowels_task(), "airline": airline_task()}
    epochs = {"vowels": args.vowel_epochs, "airline": args.airline_epochs}
    results = {name: {variant: [] for variant in VARIANTS} for name in tasks}
    for name, task in tasks.items():
        for seed in range(args.seeds):
            for variant in VARIANTS:
                r = run(task, variant, seed, epochs[name], weights)
                results[name][variant].append(r)
                print(f"{name} {variant:<18} seed {seed}: val {r['val']:.3f}, test "
                      f"{r['test']:.3f}, o^1 + i^2 < 1: {100 * r['below_one']:.0f}%, "
                      f"R^2 {r['consistency_r2']:.2f} ({r['epochs']} epochs, best "
                      f"{r['best_epoch']}; {time.time() - start:.0f} s)")
    verdicts = print_table(tasks, results, args.seeds)
    plot(tasks, results, weights, args.output_dir)
    summary = {"weights": weights, "hidden_sizes": HIDDEN, "seconds": time.time() - start,
               "verdicts": verdicts,
               "runs": {name: {variant: [{k: v for k, v in r.items() if k != "gate_sums"}
                                         for r in runs] for variant, runs in by_variant.items()}
                        for name, by_variant in results.items()}}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"regularisers_gate_sums.png and results.json in {args.output_dir}; total "
          f"{time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
