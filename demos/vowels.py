"""Speaker identification on JapaneseVowels with stacked GRU and LSTM networks and masking.

Nine speakers say the vowel pair /ae/; each utterance is 7..29 frames of 12 LPC cepstrum
coefficients (270 training, 370 test utterances). The batches are padded to 29 frames and carry
a (N, T) mask, so every utterance is read up to its own last frame and its final state is the
summary the Dense(9) head classifies. Baselines: 1-nearest-neighbour, with the Euclidean distance
between utterances resampled to 20 frames, and with dynamic time warping (DTW).

    python demos/vowels.py OUTPUT_DIR [--epochs 100] [--seeds 3]

Prints test accuracy against the baselines and writes learning_curves.png, layer_states.png
(each layer's final state for the test utterances, projected on its two principal axes, one
colour per speaker) and results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.layers import Dense
from minirnn.losses import softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, plot_learning_curves, pyplot, save
from minirnn.train import EarlyStopping, accuracy, evaluate, fit

SPEAKERS, HIDDEN = 9, [32, 32]


def load(seed=0):
    """Standardised, padded sequences with masks: train / val (20% of train) / test."""
    v = data.load_japanese_vowels()
    masks = {s: np.arange(29)[None, :] < v[f"lengths_{s}"][:, None] for s in ("train", "test")}
    frames = v["X_train"][masks["train"]]  # (frames, 12): the real frames only
    mean, std = frames.mean(axis=0), frames.std(axis=0)
    x = {s: np.where(masks[s][..., None], (v[f"X_{s}"] - mean) / std, 0.0) for s in ("train", "test")}
    fit_idx, val_idx = data.shuffled_split(len(x["train"]), 0.2, seed=seed)
    return {"train": (x["train"][fit_idx], v["y_train"][fit_idx], masks["train"][fit_idx]),
            "val": (x["train"][val_idx], v["y_train"][val_idx], masks["train"][val_idx]),
            "test": (x["test"], v["y_test"], masks["test"]),
            "all_train": (x["train"], v["y_train"], masks["train"])}


def resample(x, length, frames=20):
    """The first `length` frames of x (T, D) linearly interpolated to `frames` frames."""
    positions = np.linspace(0, length - 1, frames)
    return np.stack([np.interp(positions, np.arange(length), x[:length, d])
                     for d in range(x.shape[1])], axis=1)


def dtw_distances(a, train_x, train_lengths):
    """DTW distance from one utterance a (Ta, D) to every training utterance, at once:
    D[i, j] = |a_i - b_j| + min(D[i-1, j], D[i, j-1], D[i-1, j-1]); the answer is D at both ends."""
    cost = np.linalg.norm(a[:, None, None, :] - train_x[None, :, :, :], axis=-1)  # (Ta, M, T)
    Ta, M, T = cost.shape
    D = np.full((Ta + 1, M, T + 1), np.inf)
    D[0, :, 0] = 0.0
    for i in range(1, Ta + 1):
        for j in range(1, T + 1):
            D[i, :, j] = cost[i - 1, :, j - 1] + np.minimum(np.minimum(D[i - 1, :, j], D[i, :, j - 1]),
                                                            D[i - 1, :, j - 1])
    return D[Ta, np.arange(M), train_lengths]


def nearest_neighbour_baselines(split):
    """Test accuracy of 1-NN with the resampled Euclidean distance and with DTW."""
    (xtr, ytr, mtr), (xte, yte, mte) = split["all_train"], split["test"]
    ltr, lte = mtr.sum(axis=1), mte.sum(axis=1)
    flat_tr = np.stack([resample(x, l).ravel() for x, l in zip(xtr, ltr)])
    flat_te = np.stack([resample(x, l).ravel() for x, l in zip(xte, lte)])
    distances = ((flat_te[:, None, :] - flat_tr[None, :, :]) ** 2).sum(axis=-1)
    euclid = float(np.mean(ytr[np.argmin(distances, axis=1)] == yte))
    dtw = [ytr[np.argmin(dtw_distances(x[:l], xtr, ltr))] for x, l in zip(xte, lte)]
    return euclid, float(np.mean(np.array(dtw) == yte))


def build(cell, seed):
    net = StackedRNN(cell, 12, HIDDEN, return_sequences=False, dropout=0.2, seed=seed)
    return Sequential([(cell, Recurrent(net)), ("dense", Dense(HIDDEN[-1], SPEAKERS, seed=seed))])


def describe_model(models):
    """What the models of a figure share, for its note."""
    nets = [model.layers[cell].net for cell, model in models.items()]
    return (f"Model: recurrent layers ({describe_networks(nets)}, dropout 0.2 between them) "
            f"$\\to$ Dense({SPEAKERS}) on the state after each utterance's last frame.   Training: "
            "batches of 32, Adam lr 0.005, gradient norm clipped at 5, early stopping on the "
            "validation loss")


def plot(results, models, split, out_dir):
    plot_learning_curves({name: r["history"] for name, r in results.items()},
                         out_dir / "learning_curves.png", metric_name="accuracy",
                         about=describe_model(models))
    plt = pyplot()
    x, y, mask = split["test"]
    fig, axes = plt.subplots(len(models), len(HIDDEN), figsize=(4.2 * len(HIDDEN), 4 * len(models)),
                             layout="constrained")
    for row, (name, model) in enumerate(models.items()):
        _, cache = model.forward(x, mask)
        for l, states in enumerate(cache.final_states[name], start=1):
            h = states["h"][0]  # (N, H): the state after each utterance's last real frame
            centred = h - h.mean(axis=0)
            _, _, axes_t = np.linalg.svd(centred, full_matrices=False)
            projected = centred @ axes_t[:2].T
            ax = axes[row, l - 1]
            points = ax.scatter(projected[:, 0], projected[:, 1], c=y, cmap="tab10", s=8)
            ax.set(title=f"{name} layer {l}: final state $h$", xlabel="principal axis 1",
                   ylabel="principal axis 2")
    fig.legend(*points.legend_elements(), title="speaker", loc="outside right center")
    add_note(fig, f"Each point: one of the {len(y)} test utterances, its layer's state after the "
                  "last real frame, on the two principal axes of that layer's states (seed 0).",
             describe_model(models))
    save(fig, out_dir / "layer_states.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    split = load()
    euclid, dtw = nearest_neighbour_baselines(split)
    print(f"1-NN baselines: Euclidean (resampled to 20 frames) {euclid:.3f}, DTW {dtw:.3f} "
          f"({time.time() - start:.0f} s)")
    results, models = {}, {}
    for cell in ("gru", "lstm"):
        for seed in range(args.seeds):
            model = build(cell, seed)
            history = fit(model, softmax_cross_entropy, split["train"], split["val"],
                          Adam(lr=0.005), epochs=args.epochs, batch_size=32, metric=accuracy,
                          clip_norm=5.0, early_stopping=EarlyStopping(20), seed=seed,
                          progress=False)
            test = evaluate(model, softmax_cross_entropy, split["test"], accuracy)
            results[f"{cell} seed {seed}"] = {"test_accuracy": test["metric"], "history": history}
            models.setdefault(cell, model)  # the first seed's model, for the figure
            print(f"{cell} {HIDDEN} seed {seed}: test accuracy {test['metric']:.3f} after "
                  f"{len(history['train_loss'])} epochs (best {history['best_epoch'] + 1}; "
                  f"{time.time() - start:.0f} s)")
    print(f"\ntest accuracy on {len(split['test'][0])} utterances")
    print(f"{'1-NN Euclidean (resampled)':<30}{euclid:.3f}\n{'1-NN DTW':<30}{dtw:.3f}")
    for cell in models:
        accs = [r["test_accuracy"] for name, r in results.items() if name.startswith(cell)]
        print(f"{'stacked ' + cell.upper() + ' ' + str(HIDDEN):<30}{np.mean(accs):.3f} +- "
              f"{np.std(accs):.3f} (mean +- sd over {len(accs)} seeds; "
              f"min {min(accs):.3f}, max {max(accs):.3f})")
    plot(results, models, split, args.output_dir)
    summary = {"baseline_1nn_euclidean": euclid, "baseline_1nn_dtw": dtw,
               "seconds": time.time() - start,
               "test_accuracy": {k: v["test_accuracy"] for k, v in results.items()},
               "histories": {k: v["history"] for k, v in results.items()}}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
