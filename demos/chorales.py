"""Bach chorales, the percussionist and the conductor: does the lower layer of a stacked LSTM
track the beat and the upper one the harmony and the phrase?

Shape legend: N windows, T steps (eighth notes), D input width, V soprano classes, H hidden.

Data: minirnn.data.load_chorale_windows: 399 four-part chorales of music21's corpus, transposed
to C major / A minor, cut into windows of 64 eighths; 20% of the chorales (seeded) are held out.
The network hears the melody only: at each step the soprano's pitch (one-hot over rest and MIDI
55..84) and whether a note starts there; it predicts the soprano's next step.
    LSTM [H, H, H] -> Dense(V) at every step
Baselines: repeat the last step; a trigram over soprano classes with add-one smoothing.
The claim: layer 1 tracks the metre, the top layer the harmony and the phrase. Linear probes
(held-out windows) of each layer for the position in the bar (fast), the bass pitch class the
network never hears (slow) and the steps to the next fermata (slow); each layer's
impulse-response time constant (minirnn.analysis.impulse_response on held-out windows); and each
layer's frequency response (minirnn.analysis.frequency_response around the mean input, along the
direction from a quarter-note C to a quarter-note G): the ratio of its gain at the bar's period
(8 eighths in 4/4) to its gain at the eighth-note alternation (2 steps), larger = slower.
Every number is the mean over `--seeds` trained networks.

    python demos/chorales.py OUTPUT_DIR [--epochs 60] [--hidden 32] [--seeds 3]

Prints the tables and the verdict and writes probe_table.png, continuation.png and
results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN
from minirnn.analysis import frequency_response, impulse_response, linear_probe
from minirnn.data import load_chorale_windows
from minirnn.layers import Dense
from minirnn.losses import softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, pyplot, save
from minirnn.threads import set_num_threads
from minirnn.train import accuracy, fit, predict

LOW, HIGH = 55, 84                  # soprano MIDI range after transposition; class 0 a rest
V, LAYERS = HIGH - LOW + 2, 3
PITCH_C, PITCH_G = 1 + 72 - LOW, 1 + 67 - LOW   # the classes of C5 and G4 (frequency probe)
FERMATA_CAP = 32                    # steps to the next fermata, capped (none left: the cap)
TARGETS = ("bar position", "bass pitch class", "steps to fermata")
SPEEDS = {"bar position": "fast", "bass pitch class": "slow", "steps to fermata": "slow"}


# ---- data -----------------------------------------------------------------------------------
def soprano_classes(pitches):
    """MIDI pitches (...) -> classes (...): 0 a rest, 1 + midi - LOW (clipped to the range)."""
    return np.where(pitches > 0, np.clip(pitches, LOW, HIGH) - LOW + 1, 0)


def network_input(classes, onsets):
    """classes (N, T), onsets (N, T) -> x (N, T, V + 1): one-hot soprano class and onset."""
    return np.concatenate([np.eye(V)[classes], onsets[..., None]], axis=-1)


def probe_targets(windows, split):
    """{target: (N, T - 1, K)} at the network's steps 0..T-2 of each window."""
    bars = np.eye(8)[windows[f"bar_position_{split}"][:, :-1] % 8]
    bass = windows[f"pitches_{split}"][:, :-1, 3]
    bass_pc = np.where(bass[..., None] > 0, np.eye(12)[bass % 12], 0.0)
    to_fermata = windows[f"steps_to_fermata_{split}"][:, :-1]
    capped = np.where(to_fermata < 0, FERMATA_CAP, np.minimum(to_fermata, FERMATA_CAP))
    return {"bar position": bars, "bass pitch class": bass_pc,
            "steps to fermata": capped[..., None].astype(float)}


# ---- baselines ------------------------------------------------------------------------------
def trigram_log_probs(train, test):
    """log P(test[:, t] | test[:, t-2], test[:, t-1]) for t >= 2 under add-one-smoothed trigram
    counts of the training sequences. train, test: (N, T) classes. Returns (N_test, T - 2, V)."""
    counts = np.ones((V, V, V))
    np.add.at(counts, (train[:, :-2], train[:, 1:-1], train[:, 2:]), 1.0)
    probs = counts / counts.sum(axis=-1, keepdims=True)
    return np.log(probs[test[:, :-2], test[:, 1:-1]])


def scores(log_probs, labels):
    """{'accuracy', 'nll'} of log-probabilities (N, T, V) for labels (N, T)."""
    chosen = np.take_along_axis(log_probs, labels[..., None], axis=-1)[..., 0]
    return {"accuracy": float(np.mean(log_probs.argmax(axis=-1) == labels)),
            "nll": float(-chosen.mean())}


def log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


# ---- the model and the claim ----------------------------------------------------------------
def train_model(x, y, hidden, epochs, seed=0):
    net = StackedRNN("lstm", V + 1, [hidden] * LAYERS, return_sequences=True, seed=seed)
    model = Sequential([("lstm", Recurrent(net)), ("dense", Dense(hidden, V, seed=seed))])
    fit(model, softmax_cross_entropy, (x, y), optimizer=Adam(lr=0.01), epochs=epochs,
        batch_size=16, metric=accuracy, clip_norm=5.0, seed=seed, progress=False, num_threads=1)
    return model


def probe_table(net, x, targets):
    """{target: [R^2 of layer 0 (the input), 1, .., L]} on held-out windows of x (N, T, D)."""
    _, _, cache = net.forward(x)
    return {name: [linear_probe(cache.outputs[layer], target, ridge=1e-3, seed=0).r2_test
                   for layer in range(LAYERS + 1)] for name, target in targets.items()}


def continuation(model, x, onsets_from, prefix, rng):
    """Sample the soprano after `prefix` steps of one window x (T, D), a step at a time (the
    onset flag: a new class, or the written onset when the class repeats). Returns (T,)."""
    x = x.copy()
    classes = x[:, :V].argmax(axis=-1)
    for t in range(prefix, len(x)):
        logits = predict(model, x[None, :t])[0, -1]
        p = np.exp(log_softmax(logits))
        classes[t] = rng.choice(V, p=p / p.sum())
        x[t, :V] = np.eye(V)[classes[t]]
        x[t, V] = float(classes[t] != classes[t - 1] or onsets_from[t])
    return classes


def slowness(net, x):
    """(L,) each layer's gain at the bar's period (w = 2 pi / 8) over its gain at the eighth-note
    alternation (w = pi), driven around the mean input x (N, T, D) along C -> G."""
    direction = np.zeros(x.shape[-1])
    direction[[PITCH_C, PITCH_G]] = -1.0, 1.0
    response = frequency_response(net, [2 * np.pi / 8, np.pi], amplitude=0.2,
                                  direction=direction / np.sqrt(2), offset=x.mean(axis=(0, 1)))
    return response.gain[:, 0] / response.gain[:, 1]


def verdict(table, taus, slow):
    """Checks: layer 1 wins the bar position among the layers; the top layer beats layer 1 on
    the bass and on the fermata distance; the time constant and the slowness (bar-period over
    eighth-note gain) grow from layer 1 to the top. Returns (verdict, {check: passed})."""
    layers = {name: np.array(row[1:]) for name, row in table.items()}
    checks = {
        "layer 1 has the best bar-position probe": bool(layers["bar position"].argmax() == 0),
        f"layer {LAYERS} beats layer 1 on the bass pitch class":
            bool(layers["bass pitch class"][-1] > layers["bass pitch class"][0]),
        f"layer {LAYERS} beats layer 1 on the steps to the next fermata":
            bool(layers["steps to fermata"][-1] > layers["steps to fermata"][0]),
        f"layer {LAYERS}'s time constant exceeds layer 1's": bool(taus[-1] > taus[0]),
        f"layer {LAYERS} is more low-pass than layer 1": bool(slow[-1] > slow[0])}
    ok = list(checks.values())
    return ("held" if all(ok) else "partly" if any(ok) else "did not hold"), checks


# ---- figures --------------------------------------------------------------------------------
def plot_probe_table(table, path, note):
    plt = pyplot()
    grid = np.array([table[name] for name in TARGETS]).T   # (L + 1, targets)
    fig, ax = plt.subplots(figsize=(6.5, 3.6), layout="constrained")
    image = ax.imshow(grid, cmap="viridis", vmin=0, vmax=max(1e-3, grid.max()))
    for (i, j), value in np.ndenumerate(grid):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center",
                color="white" if value < 0.6 * grid.max() else "black")
    ax.set_xticks(range(len(TARGETS)), [f"{n}\n({SPEEDS[n]})" for n in TARGETS])
    ax.set_yticks(range(LAYERS + 1), ["input"] + [f"layer {l}" for l in range(1, LAYERS + 1)])
    fig.colorbar(image, ax=ax, label="held-out $R^2$")
    ax.set_title("linear probes on held-out chorales")
    add_note(fig, note)
    return save(fig, path)


def plot_continuation(pitches, generated, prefix, path, note):
    """pitches (T, 4) MIDI as written; generated (T,) soprano classes after `prefix` steps."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(10, 4), layout="constrained")
    steps = np.arange(len(pitches))
    for voice, name in enumerate(("soprano", "alto", "tenor", "bass")):
        sounding = pitches[:, voice] > 0
        ax.scatter(steps[sounding], pitches[sounding, voice], marker="s", s=14, color="0.75",
                   label="as written" if voice == 0 else None)
    sampled = generated[prefix:] > 0
    ax.scatter(steps[prefix:][sampled], generated[prefix:][sampled] + LOW - 1, marker="s", s=18,
               color="tab:red", label="sampled soprano")
    ax.axvline(prefix - 0.5, color="k", linestyle="--")
    ax.set(xlabel="step (eighth notes)", ylabel="MIDI pitch (transposed to C / a)",
           title="a generated continuation of a held-out chorale's melody")
    ax.legend(fontsize=8, loc="lower left")
    add_note(fig, note)
    return save(fig, path)


# ---- the report -----------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--max-windows", type=int, default=None,
                        help="use at most this many windows per split (a quick run)")
    return parser.parse_args(argv)


def split_data(windows, split, limit):
    classes = soprano_classes(windows[f"pitches_{split}"][..., 0])[:limit]
    x = network_input(classes, windows[f"onsets_{split}"][:limit, :, 0])
    return x[:, :-1], classes[:, 1:], classes


def main(argv=None):
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    set_num_threads(1)   # one BLAS thread per process: the machine is shared (minirnn/threads.py)
    start = time.time()
    windows = load_chorale_windows(length=64)
    limit = args.max_windows
    x_train, y_train, train_classes = split_data(windows, "train", limit)
    x_test, y_test, test_classes = split_data(windows, "test", limit)
    facts = {"chorales": len(windows["train_chorales"]) + len(windows["test_chorales"]),
             "train_chorales": len(windows["train_chorales"]),
             "test_chorales": len(windows["test_chorales"]),
             "train_windows": len(x_train), "test_windows": len(x_test)}
    print(f"Bach chorales: {facts['train_chorales']} training and {facts['test_chorales']} "
          f"held-out chorales; {len(x_train)} / {len(x_test)} windows of 64 eighths")

    models = [train_model(x_train, y_train, args.hidden, args.epochs, seed)
              for seed in range(args.seeds)]
    runs = [scores(log_softmax(predict(m, x_test))[:, 1:], y_test[:, 1:]) for m in models]
    repeat = np.log(np.where(np.eye(V)[test_classes[:, 1:-1]] > 0, 1.0, 1e-12))
    results = {"repeat the last step": scores(repeat, y_test[:, 1:]),
               "trigram (add-one)": scores(trigram_log_probs(train_classes, test_classes),
                                           y_test[:, 1:]),
               f"LSTM {LAYERS}x{args.hidden}": {k: float(np.mean([r[k] for r in runs]))
                                                 for k in ("accuracy", "nll")}}
    results[f"LSTM {LAYERS}x{args.hidden}"].update(
        {f"{k}_sd": float(np.std([r[k] for r in runs], ddof=1)) if len(runs) > 1 else 0.0
         for k in ("accuracy", "nll")})
    results["repeat the last step"]["nll"] = None   # a point mass: no finite likelihood
    print(f"\nNext soprano step on held-out chorales ({y_test[:, 1:].size} steps; the LSTM: mean "
          f"+- sd over {args.seeds} seeds)")
    print(f"{'model':<24}{'accuracy':>18}{'NLL (nats)':>18}")
    for name, row in results.items():
        sd = {k: f" +- {row[k + '_sd']:.3f}" if k + "_sd" in row else "" for k in ("accuracy",
                                                                                 "nll")}
        nll = "-" if row["nll"] is None else f"{row['nll']:.3f}{sd['nll']}"
        print(f"{name:<24}{row['accuracy']:>10.3f}{sd['accuracy']:<8}{nll:>18}")

    targets = probe_targets(windows, "test")
    targets = targets if limit is None else {k: v[:limit] for k, v in targets.items()}
    nets = [m.layers["lstm"].net for m in models]
    tables = [probe_table(net, x_test, targets) for net in nets]
    table = {name: np.mean([t[name] for t in tables], axis=0).tolist() for name in TARGETS}
    taus = np.mean([impulse_response(net, t0=8, x=x_test[:32]).time_constant for net in nets],
                   axis=0)
    slow = np.mean([slowness(net, x_test) for net in nets], axis=0)
    print(f"\nLinear probes, held-out R^2 (layer 0: the input); impulse time constant (steps); "
          f"bar-period / eighth gain; means over {args.seeds} seeds")
    print(f"{'layer':<8}" + "".join(f"{n:>20}" for n in TARGETS) + f"{'tau':>8}{'slowness':>10}")
    for layer in range(LAYERS + 1):
        extra = f"{taus[layer - 1]:8.2f}{slow[layer - 1]:10.2f}" if layer else ""
        print(f"{layer:<8}" + "".join(f"{table[n][layer]:>20.3f}" for n in TARGETS) + extra)
    winners = {name: int(np.argmax(table[name][1:])) + 1 for name in TARGETS}
    print("best layer: " + ", ".join(f"{n} -> layer {w}" for n, w in winners.items()))
    outcome, checks = verdict(table, taus, slow)
    per_seed = [verdict(t, impulse_response(net, t0=8, x=x_test[:32]).time_constant,
                        slowness(net, x_test))[0] for t, net in zip(tables, nets)]
    print(f"\nVerdict on the claim (mean over seeds): {outcome}; per seed: {per_seed}\n" +
          "\n".join(f"  [{'x' if ok else ' '}] {check}" for check, ok in checks.items()))
    model = models[0]

    note = (f"Model: LSTM [{args.hidden}]x{LAYERS} hearing the soprano only, {args.epochs} "
            f"epochs; {facts['test_chorales']} held-out chorales (music21 corpus, BSD-3).")
    prefix = 24
    generated = continuation(model, x_test[0], windows["onsets_test"][0, :-1, 0], prefix,
                             np.random.default_rng(0))
    figures = [plot_probe_table(table, args.output_dir / "probe_table.png", note),
               plot_continuation(windows["pitches_test"][0, :-1], generated, prefix,
                                 args.output_dir / "continuation.png",
                                 f"Held-out {windows['chorale_test'][0]}: the model continues "
                                 f"the melody after {prefix} steps. " + note)]
    summary = {"facts": facts, "next_step": results, "probes": table, "probes_per_seed": tables,
               "time_constants": taus.tolist(), "slowness": slow.tolist(),
               "best_layer": winners, "verdict": outcome, "verdict_per_seed": per_seed,
               "checks": checks, "epochs": args.epochs, "hidden": args.hidden,
               "seeds": args.seeds,
               "seconds": time.time() - start}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures ({', '.join(Path(f).name for f in figures)}) and results.json in "
          f"{args.output_dir}; total {time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
