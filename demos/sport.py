"""Sport, from moves to plays: a stacked GRU reads a cycling workout second by second and
forecasts the rider's power zone 15 s ahead; then do its lower layer carry the moves and its
upper layer the plan?

Shape legend: N windows, T seconds, D features per second, H hidden units, K zones.

Why a workout and not a football match: the team-sport candidates found in package archives
(StatsBomb open-data events and the Metrica sample game, both among kloppy 3.19.1's test files)
come with terms that do not clearly allow redistribution, so they are not shipped; the CC0 1-Hz
workout of bokeh_sampledata 2026.1 is (minirnn/data/files/cycling_workout/README.md).

Data: minirnn.data.load_workout_windows: each second's power, cadence and speed (standardised
with the first half's statistics); the 'move' of a second is its power zone (5 zones, by the
mean power of the last 5 s); the target is the zone 15 s later. Split by time, like the halves
of a match: training windows of 120 s from the first half, the whole second half as the test
sequence, no target crossing the split.
    GRU [16, 16] -> Dense(5) at every second
Baselines: the majority zone; persistence (the zone now); an n-gram over the zones at t, t - 5
and t - 10 s (counts from the first half, backing off to shorter contexts).

The claim (micro-actions below, intention above), measured with a linear probe per layer (layer
0 is the input) on the test half, cut into 100-s chunks held out whole, trained network against
an untrained one:
    fast: the power and the cadence wobble (each minus its own mean over the last 10 s);
    slow: the plan's phase (one-hot), the seconds into the phase, the phase's mean power.
Held if layer 1 beats layer 2 on every fast target and layer 2 beats layer 1 on every slow one.

    python demos/sport.py OUTPUT_DIR [--epochs 40] [--seeds 3]

Prints the tables and the verdict and writes workout.png, probes.png and results.json to
OUTPUT_DIR.
"""
import argparse
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np

from minirnn import StackedRNN
from minirnn.analysis import linear_probe
from minirnn.data import cycling
from minirnn.layers import Dense
from minirnn.losses import softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, pyplot, save
from minirnn.threads import set_num_threads
from minirnn.train import fit, predict

HIDDEN, HORIZON, CHUNK = [16, 16], 15, 100
NGRAM_LAGS = (0, 5, 10)   # seconds back of the n-gram's context symbols
FAST, SLOW = ("power wobble", "cadence wobble"), ("phase", "seconds into phase", "phase power")
ABOUT = ("Data: a 73-minute structured workout at 1 Hz (bokeh_sampledata 2026.1, CC0); trained "
         "on its first half, tested on its second.")


# ---- baselines ----------------------------------------------------------------------------------
def ngram_contexts(symbols, seconds, first):
    """The context of each second: the symbols at seconds - lag for lag in NGRAM_LAGS, never
    before second `first` (the start of its half). -> (M, len(NGRAM_LAGS)) int64."""
    back = np.maximum(np.asarray(seconds)[:, None] - np.array(NGRAM_LAGS)[None, :], first)
    return np.asarray(symbols)[back]


def ngram_fit(contexts, targets):
    """Counts of the next symbol after every prefix of every context (the prefix of length k is
    its k most recent symbols): {prefix tuple: Counter}. () holds the overall counts."""
    table = {}
    for context, target in zip(contexts.tolist(), targets.tolist()):
        for k in range(len(context) + 1):
            table.setdefault(tuple(context[:k]), Counter())[target] += 1
    return table


def ngram_predict(table, contexts):
    """The most frequent next symbol after the longest prefix seen in training (ties: the
    smallest symbol). contexts (M, n) -> (M,) int64."""
    predictions = []
    for context in contexts.tolist():
        k = len(context)
        while tuple(context[:k]) not in table:
            k -= 1
        counts = table[tuple(context[:k])]
        predictions.append(min(counts, key=lambda s: (-counts[s], s)))
    return np.array(predictions, dtype=np.int64)


def baselines(split):
    """{name: (T,) predictions on the test sequence} of the majority zone, persistence and the
    n-gram, each fitted on the first half only."""
    symbols, T = split["symbols"], split["y_test"].shape[1]
    train_seconds = np.arange(cycling.HALF - HORIZON)        # targets up to HALF - 1
    test_seconds = cycling.HALF + np.arange(T)
    table = ngram_fit(ngram_contexts(symbols, train_seconds, 0), symbols[train_seconds + HORIZON])
    majority = np.bincount(split["y_train"].ravel()).argmax()
    return {"majority": np.full(T, majority), "persistence": symbols[test_seconds],
            "n-gram": ngram_predict(table, ngram_contexts(symbols, test_seconds, cycling.HALF))}


def scores(predicted, split):
    """Accuracy on every test second, on the seconds whose zone changes within the horizon, and
    in each phase of the plan that the test half holds."""
    target = split["y_test"][0]
    seconds = cycling.HALF + np.arange(len(target))
    changes = target != split["symbols"][seconds]
    phase = cycling.phase_of(seconds)
    found = {"accuracy": float(np.mean(predicted == target)),
             "at changes": float(np.mean(predicted[changes] == target[changes]))}
    for p in np.unique(phase):
        found[cycling.PHASE_NAMES[p]] = float(np.mean(predicted[phase == p] == target[phase == p]))
    return found


# ---- the model ----------------------------------------------------------------------------------
def build(seed):
    net = StackedRNN("gru", len(cycling.FEATURES), HIDDEN, seed=seed)
    return Sequential([("gru", Recurrent(net)),
                       ("dense", Dense(HIDDEN[-1], len(cycling.ZONE_NAMES), seed=seed))])


def train(split, epochs, seed):
    model = build(seed)
    fit(model, softmax_cross_entropy, (split["x_train"], split["y_train"]),
        optimizer=Adam(lr=0.01), epochs=epochs, batch_size=16, metric="accuracy",
        clip_norm=5.0, seed=seed, progress=False, num_threads=1)
    return model


def layer_outputs(model, x):
    """{layer: (N, T, width)} of the GRU stack on x; layer 0 is the input."""
    return model.layers["gru"].net.forward(x)[2].outputs


# ---- the probes ---------------------------------------------------------------------------------
def probe_targets(ride, seconds):
    """{name: (T,) or (T, K)} at the test seconds: the fast wobbles and the slow plan."""
    wobble = {}
    for name in ("power", "cadence"):
        # clipped at 3 sd of the first half's wobble: the few stops of pedalling (cadence 0)
        # would otherwise dominate the R^2
        raw = ride[name] - cycling.trailing_mean(ride[name], 10)
        limit = 3 * raw[:cycling.HALF].std()
        wobble[name] = np.clip(raw, -limit, limit)
    phase = ride["phase"]
    starts = np.flatnonzero(np.diff(phase, prepend=-1))              # first second of each phase
    first = starts[np.searchsorted(starts, np.arange(len(phase)), side="right") - 1]
    block_power = np.array([ride["power"][phase == p].mean() if np.any(phase == p) else 0.0
                            for p in range(len(cycling.PHASE_NAMES))])
    present = np.unique(phase[seconds])
    return {"power wobble": wobble["power"][seconds],
            "cadence wobble": wobble["cadence"][seconds],
            "phase": (phase[seconds][:, None] == present[None, :]).astype(float),
            "seconds into phase": (seconds - first[seconds]).astype(float),
            "phase power": block_power[phase[seconds]]}


def chunked(values, size):
    """(T, ...) -> (T // size, size, ...): whole chunks of consecutive seconds, the rest dropped."""
    count = len(values) // size
    return values[:count * size].reshape(count, size, *values.shape[1:])


def probe_table(outputs, targets):
    """{target: {layer: held-out R^2}} of a linear probe of each layer's states (1, T, W)."""
    return {name: {layer: linear_probe(chunked(states[0], CHUNK), chunked(target, CHUNK),
                                       seed=0).r2_test
                   for layer, states in outputs.items()}
            for name, target in targets.items()}


def probe_verdict(table):
    """Checks: layer 1 > layer 2 on each fast target, layer 2 > layer 1 on each slow one."""
    checks = [table[name][1] > table[name][2] for name in FAST] + \
             [table[name][2] > table[name][1] for name in SLOW]
    return "held" if all(checks) else "partly" if any(checks) else "did not hold here"


# ---- figures ------------------------------------------------------------------------------------
def plot_workout(ride, split, predictions, path, note):
    plt = pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(9, 4.6), layout="constrained")
    minutes = np.arange(len(ride["power"])) / 60
    axes[0].plot(minutes, ride["power"], lw=0.4, color="k")
    for (start, name), colour in zip(cycling.PHASES, plt.cm.Pastel1.colors):
        stop = ([s for s, _ in cycling.PHASES if s > start] + [len(minutes)])[0]
        axes[0].axvspan(start / 60, stop / 60, color=colour, alpha=0.8, lw=0)
        axes[0].text((start + stop) / 120, 400, name, ha="center", fontsize=6)
    axes[0].axvline(cycling.HALF / 60, color="r", ls="--", lw=1)
    axes[0].set(ylabel="power (W)", title="the workout; red: train | test split")
    test_minutes = (cycling.HALF + np.arange(split["y_test"].shape[1])) / 60
    axes[1].plot(test_minutes, split["y_test"][0], color="k", lw=1.5, label="zone 15 s later")
    for name, style in (("GRU", "-"), ("persistence", ":")):
        axes[1].plot(test_minutes, predictions[name] + 0.08, ls=style, lw=0.8, label=name)
    axes[1].set(xlabel="minute", ylabel="zone", yticks=range(len(cycling.ZONE_NAMES)),
                yticklabels=cycling.ZONE_NAMES, title="test half: forecast zone")
    axes[1].legend(fontsize=7, loc="lower left")
    add_note(fig, note)
    save(fig, path)
    return path


def plot_probes(tables, path, note):
    """tables: {'trained' | 'untrained': {target: {layer: R^2}}}."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(9, 3.2), layout="constrained")
    names, layers = FAST + SLOW, sorted(tables["trained"][FAST[0]])
    width = 0.8 / len(layers)
    for i, layer in enumerate(layers):
        x = np.arange(len(names)) + (i - (len(layers) - 1) / 2) * width
        for kind, hatch in (("trained", None), ("untrained", "//"))[:1 + (layer > 0)]:
            values = [max(tables[kind][n][layer], -0.1) for n in names]
            ax.bar(x, values, width * (0.9 if kind == "trained" else 0.45), hatch=hatch,
                   color=f"C{i}", alpha=1.0 if kind == "trained" else 0.4,
                   label=f"layer {layer}" + ("" if kind == "trained" else " (untrained)"))
    ax.set_xticks(np.arange(len(names)), [f"{n}\n({'fast' if n in FAST else 'slow'})"
                                          for n in names], fontsize=8)
    ax.set(ylabel="held-out $R^2$ (floored at -0.1)", title="linear probes per layer, test half")
    ax.legend(fontsize=7, ncols=2)
    add_note(fig, note)
    save(fig, path)
    return path


# ---- main ---------------------------------------------------------------------------------------
def print_table(title, header, rows):
    print(f"\n{title}\n" + header)
    for row in rows:
        print(row)


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--seeds", type=int, default=3)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    set_num_threads(1)   # one BLAS thread: the same numbers on any machine (see splice_sites.py)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    ride, split = cycling.load_cycling_workout(), cycling.load_workout_windows(horizon=HORIZON)
    print(f"training windows {split['x_train'].shape}, test sequence {split['x_test'].shape}")
    predictions = baselines(split)
    models = [train(split, args.epochs, seed) for seed in range(args.seeds)]
    for seed, model in enumerate(models):
        predictions[f"GRU seed {seed}"] = predict(model, split["x_test"])[0].argmax(axis=-1)
    predictions["GRU"] = predictions["GRU seed 0"]
    forecast = {name: scores(p, split) for name, p in predictions.items() if name != "GRU"}
    columns = list(forecast["majority"])
    print_table(f"Zone {HORIZON} s ahead, test half ({len(split['y_test'][0])} s): accuracy",
                f"{'model':<14}" + "".join(f"{c:>12}" for c in columns),
                [f"{name:<14}" + "".join(f"{s[c]:>12.3f}" for c in columns)
                 for name, s in forecast.items()])
    seconds = cycling.HALF + np.arange(split["x_test"].shape[1])
    targets = probe_targets(ride, seconds)
    tables = {"trained": probe_table(layer_outputs(models[0], split["x_test"]), targets),
              "untrained": probe_table(layer_outputs(build(0), split["x_test"]), targets)}
    layers = sorted(tables["trained"][FAST[0]])
    print_table("Probe R^2 per layer (held-out 100-s chunks of the test half; untrained in "
                "brackets)", f"{'target':<20}" + "".join(f"{f'layer {l}':>16}" for l in layers),
                [f"{name:<20}" + "".join(f"{tables['trained'][name][l]:>8.3f} "
                                         f"({tables['untrained'][name][l]:>5.2f})"
                                         for l in layers) for name in FAST + SLOW])
    verdicts = {f"seed {seed}": probe_verdict(probe_table(layer_outputs(m, split["x_test"]),
                                                          targets))
                for seed, m in enumerate(models)}
    print("\nVerdict (lower layer: the moves; upper layer: the plan): " +
          ", ".join(f"{seed}: {v}" for seed, v in verdicts.items()))
    note = (f"Model: {describe_networks([models[0].layers['gru'].net])} $\\to$ Dense(5) at "
            f"every second. " + ABOUT)
    figures = [plot_workout(ride, split, predictions, args.output_dir / "workout.png", note),
               plot_probes(tables, args.output_dir / "probes.png", note)]
    summary = {"forecast": forecast, "probes": tables, "verdicts": verdicts,
               "epochs": args.epochs, "seeds": args.seeds, "seconds": time.time() - start}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1, default=float))
    print(f"figures ({', '.join(Path(f).name for f in figures)}) and results.json in "
          f"{args.output_dir}; total {time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
