"""Sentiment of movie-review sentences with the classic Keras tutorial architecture.

    word Embedding(32) -> SimpleRNN(5) -> SimpleRNN(5) -> Dense(1) + sigmoid (in the loss)

trained on the VADER movie-review snippets (10,605 Rotten Tomatoes sentences, label = mean
human rating > 0), then the same with LSTM and GRU cells and 1, 2 and 3 recurrent layers of 5
units. Padded batches carry a (N, T) mask, so each sentence is read up to its own last word.
Baseline: bag-of-words logistic regression written here with numpy.

    python demos/sentiment.py OUTPUT_DIR [--epochs 12]

Prints a table of test accuracy by cell and depth and writes learning_curves_<cell>.png,
layer_gradients.png (the gradient norm of every recurrent layer during training: how much
signal reaches the lower layers) and results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.layers import Dense, Embedding
from minirnn.losses import binary_cross_entropy_with_logits
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, plot_learning_curves, pyplot, save
from minirnn.train import EarlyStopping, binary_accuracy, evaluate, fit

MAX_WORDS, MAX_LEN, EMBED, UNITS = 10000, 40, 32, 5
CELLS, DEPTHS = ("rnn", "lstm", "gru"), (1, 2, 3)


def load(seed=0):
    """Token ids, masks and labels for train / val / test splits (64% / 16% / 20%)."""
    texts, scores = data.load_movie_reviews()
    labels = data.sentiment_labels(scores).astype(np.float64)
    train_idx, test_idx = data.shuffled_split(len(texts), 0.2, seed=seed)
    fit_idx, val_idx = (train_idx[k] for k in data.shuffled_split(len(train_idx), 0.2, seed=seed + 1))
    vocab = data.Vocabulary.fit([texts[i] for i in fit_idx], max_words=MAX_WORDS)
    ids, lengths = vocab.encode(texts, max_len=MAX_LEN)
    ids[lengths == 0, 0] = data.OOV_ID  # a sentence without words: one unknown token
    lengths = np.maximum(lengths, 1)
    mask = np.arange(MAX_LEN)[None, :] < lengths[:, None]
    split = {name: (ids[idx], labels[idx], mask[idx])
             for name, idx in (("train", fit_idx), ("val", val_idx), ("test", test_idx))}
    return split, len(vocab)


def bag_of_words_baseline(split, vocab_size, steps=300):
    """Logistic regression on binary bag-of-words features, by full-batch Adam with early stopping
    on the validation loss: logit = b + sum over the distinct words w of the text of beta[w]."""
    def features(ids, mask):
        present = np.zeros((len(ids), vocab_size), bool)
        np.put_along_axis(present, np.where(mask, ids, 0), True, axis=1)
        present[:, data.PAD_ID] = False
        return [np.flatnonzero(row) for row in present]

    bags = {name: features(ids, mask) for name, (ids, _, mask) in split.items()}
    rows = {name: np.repeat(np.arange(len(b)), [len(w) for w in b]) for name, b in bags.items()}
    cols = {name: np.concatenate(b) for name, b in bags.items()}
    params = {"beta": np.zeros(vocab_size), "b": np.zeros(1)}
    optimizer, l2 = Adam(lr=0.05), 1e-4

    def logits(name):
        return np.bincount(rows[name], params["beta"][cols[name]], len(bags[name]))[:, None] + params["b"]

    best = (np.inf, None)
    for _ in range(steps):
        loss, dlogits = binary_cross_entropy_with_logits(logits("train"), split["train"][1])
        dbeta = np.bincount(cols["train"], dlogits[rows["train"], 0], vocab_size) + 2 * l2 * params["beta"]
        optimizer.step(params, {"beta": dbeta, "b": dlogits.sum(axis=0)})
        val_loss = binary_cross_entropy_with_logits(logits("val"), split["val"][1])[0]
        if val_loss < best[0]:
            best = (val_loss, {k: v.copy() for k, v in params.items()})
    params.update(best[1])
    return binary_accuracy(logits("test"), split["test"][1])


def build(cell, depth, vocab_size, seed):
    net = StackedRNN(cell, EMBED, [UNITS] * depth, return_sequences=False, seed=seed)
    return Sequential([("embedding", Embedding(vocab_size, EMBED, padding_idx=data.PAD_ID, seed=seed)),
                       (cell, Recurrent(net)), ("dense", Dense(UNITS, 1, seed=seed))])


def describe_model(nets):
    """What the models of a figure share, for its note."""
    return (f"Model: Embedding({EMBED}) $\\to$ recurrent layers ({describe_networks(nets)}) $\\to$ "
            "Dense(1) and a sigmoid.   Training: batches of 64 sentences, Adam lr 0.003, gradient "
            "norm clipped at 5, early stopping on the validation accuracy")


def plot(results, out_dir):
    for cell in CELLS:
        plot_learning_curves({f"{depth} layer(s)": results[f"{cell}-{depth}"]["history"]
                              for depth in DEPTHS},
                             out_dir / f"learning_curves_{cell}.png", metric_name="accuracy",
                             about=describe_model([results[f"{cell}-{d}"]["net"] for d in DEPTHS]))
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8), sharey=True, layout="constrained")
    for k, cell in enumerate(CELLS):
        norms = results[f"{cell}-3"]["history"]["grad_norm"]
        for layer in (1, 2, 3):
            series = norms[f"{cell}.layers.{layer}"]
            axes[k].semilogy(np.arange(1, len(series) + 1), series, marker="o", label=f"layer {layer}")
        axes[k].set_title(f"3-layer {cell}")
        axes[k].set_xlabel("epoch")
        axes[k].legend()
    axes[0].set_ylabel(r"$\|\partial\mathcal{L}/\partial\theta_l\|$, mean over the batches")
    fig.suptitle("the gradient reaching each recurrent layer's parameters during training")
    add_note(fig, r"$\theta_l$: all the parameters of recurrent layer $l$ ($W_x$, $W_h$, $b$), "
                  r"one Euclidean norm before clipping; $\mathcal{L}$: the batch's binary "
                  r"cross-entropy.",
             describe_model([results[f"{cell}-3"]["net"] for cell in CELLS]))
    save(fig, out_dir / "layer_gradients.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    split, vocab_size = load(args.seed)
    print(f"train {len(split['train'][0])}, val {len(split['val'][0])}, test {len(split['test'][0])} "
          f"sentences; vocabulary {vocab_size} ids; positive fraction of test "
          f"{split['test'][1].mean():.3f}")
    baseline = bag_of_words_baseline(split, vocab_size)
    print(f"bag-of-words logistic regression: test accuracy {baseline:.3f}")
    results = {}
    for cell in CELLS:
        for depth in DEPTHS:
            model = build(cell, depth, vocab_size, args.seed)
            history = fit(model, binary_cross_entropy_with_logits, split["train"], split["val"],
                          Adam(lr=0.003), epochs=args.epochs, batch_size=64,
                          metric=binary_accuracy, clip_norm=5.0, seed=args.seed,
                          early_stopping=EarlyStopping(3, monitor="val_metric", mode="max"),
                          progress=False)
            test = evaluate(model, binary_cross_entropy_with_logits, split["test"], binary_accuracy)
            results[f"{cell}-{depth}"] = {"test_accuracy": test["metric"], "history": history,
                                          "net": model.layers[cell].net}
            print(f"{cell:>4} x {depth}: test accuracy {test['metric']:.3f} "
                  f"(best epoch {history['best_epoch'] + 1}, {time.time() - start:.0f} s so far)")
    names = {"rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
    print(f"\ntest accuracy ({len(split['test'][0])} sentences); bag-of-words logistic "
          f"regression baseline: {baseline:.3f}")
    print("cell        " + "".join(f"{d} layer{'s' if d > 1 else ' '}   " for d in DEPTHS))
    for cell in CELLS:
        print(f"{names[cell]:<12}" + "".join(f"{results[f'{cell}-{d}']['test_accuracy']:<11.3f}"
                                              for d in DEPTHS))
    plot(results, args.output_dir)
    summary = {"baseline_bag_of_words": baseline, "seconds": time.time() - start,
               "test_accuracy": {k: v["test_accuracy"] for k, v in results.items()},
               "histories": {k: v["history"] for k, v in results.items()}}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
