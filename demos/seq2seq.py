"""Encoder-decoder with and without attention, forward and backward by hand, on two transductions
whose alignment is known.

    python demos/seq2seq.py OUTPUT_DIR [--epochs-scale 1.0]

Tasks (minirnn.data.tasks):
  numbers    "three thousand four hundred and twelve" -> "3412", 0..9999 in British English. Trained
             on sources of at most 5 words; tested on held-out sources of at most 5 words and on
             every longer source (6 and 7 words: a thousands part and a hundreds part together).
  reversal   a_1 ... a_L -> a_L ... a_1 over 12 symbols. Trained on L = 3..12; tested on held-out
             strings of those lengths and on L = 13..16.
Both models of a task share everything but the attention: embeddings of width 16, a bidirectional
LSTM encoder (32 units each way), an LSTM decoder (64 units, started from the encoder's final
states through the bridge, a copy here), the Dense head, and the training budget (the same epochs,
batches of 32, Adam lr 0.01, gradient norm clipped at 5). "attention": additive attention
(width 32) with input feeding, the head reads [h_t, context_t]. "no attention": the decoder sees
the source only through its initial states.

Prints exact match (greedy and beam search of width 3) in range and on longer sources, how often
the attention's largest weight falls on a word the known alignment names, and the norm of the
training gradient reaching each source position of 40-step reversal sources, at initialisation
and after training, through attention and through the bridge. Writes attention_numbers.png and
attention_reversal.png (heatmaps next to the known alignment), gradient_norms.png and
results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN
from minirnn.data import tasks
from minirnn.layers import Embedding
from minirnn.optim import Adam
from minirnn.plot import add_note, pyplot, save
from minirnn.seq2seq import (EncoderDecoder, beam_search, exact_match, fit,
                             gradient_norms_by_position, greedy_decode)
from minirnn.threads import set_num_threads

EMBED, UNITS, ATTENTION = 16, 32, 32
RECIPE = dict(batch_size=32, lr=0.01, clip_norm=5.0)
EPOCHS = {"numbers": 10, "reversal": 8}
SYMBOLS = 12                     # reversal alphabet: a..l
LONG = 40                        # the source length of the gradient-norm measurement
MODELS = ("attention", "no attention")


# ---- the tasks ----------------------------------------------------------------------------------
def numbers_task(seed=0):
    """Splits of spelled_numbers by source length: train / held out (<= 5 words) / longer."""
    short = [n for n in range(10000) if len(tasks.number_words(n)[0]) <= 5]
    longer = [n for n in range(10000) if len(tasks.number_words(n)[0]) > 5]
    order = np.random.default_rng(seed).permutation(len(short))
    cut = int(0.8 * len(short))
    return {"train": tasks.spelled_numbers(np.array(short)[order[:cut]]),
            "in range": tasks.spelled_numbers(np.array(short)[order[cut:]]),
            "longer": tasks.spelled_numbers(longer),
            "source_words": tasks.NUMBER_WORDS, "target_words": tasks.DIGITS,
            "about": "sources of <= 5 words in training; 'longer': all 6- and 7-word sources"}


def reversal_task(seed=0):
    letters = tuple("abcdefghijklmnopqrstuvwxyz"[:SYMBOLS])
    return {"train": tasks.reversal(2000, (3, 12), SYMBOLS, seed=seed),
            "in range": tasks.reversal(500, (3, 12), SYMBOLS, seed=seed + 1),
            "longer": tasks.reversal(500, (13, 16), SYMBOLS, seed=seed + 2),
            "source_words": ("<pad>",) + letters, "target_words": tasks.TARGET_SPECIALS + letters,
            "about": "lengths 3-12 in training; 'longer': lengths 13-16"}


def build(task, attention, seed=0):
    """The shared architecture, with additive attention and input feeding or without attention."""
    source_vocab, target_vocab = len(task["source_words"]), len(task["target_words"])
    encoder = StackedRNN("lstm", EMBED, [UNITS], bidirectional=True, seed=seed)
    feeding = 2 * UNITS if attention else 0  # the context's width, fed to the decoder's input
    decoder = StackedRNN("lstm", EMBED + feeding, [2 * UNITS], seed=seed + 1)
    return EncoderDecoder(encoder, decoder, target_vocab,
                          attention="additive" if attention else None,
                          attention_size=ATTENTION, input_feeding=attention,
                          source_embedding=Embedding(source_vocab, EMBED, padding_idx=0,
                                                     seed=seed + 2),
                          target_embedding=Embedding(target_vocab, EMBED, padding_idx=0,
                                                     seed=seed + 3), seed=seed)


# ---- measurements -------------------------------------------------------------------------------
def alignment_hits(model, split):
    """(hits, count): of the count real target symbols (end excluded), how many have their
    largest attention weight, under teacher forcing, on a source position the known alignment
    names."""
    _, cache = model.forward(split["source"], split["decoder_input"], split["source_mask"])
    top = cache.weights.argmax(axis=-1)  # (N, T)
    hit = np.take_along_axis(split["alignment"], top[..., None], axis=-1)[..., 0]
    named = split["alignment"].any(axis=-1)
    return int(hit[named].sum()), int(named.sum())


def scores(model, split, chunk=1000):
    """Exact match of greedy decoding and beam search (width 3), and with attention the share of
    alignment hits, over chunks of the split (all 8019 longer numbers at once would take a
    gigabyte)."""
    N, max_length = len(split["source"]), split["target"].shape[1] + 2
    matched, hits = {"greedy": 0.0, "beam3": 0.0}, np.zeros(2, int)
    for start in range(0, N, chunk):
        part = {key: value[start:start + chunk] for key, value in split.items()}
        greedy = greedy_decode(model, part["source"], max_length, part["source_mask"])
        beam = beam_search(model, part["source"], max_length, 3, part["source_mask"])
        for name, decoded in (("greedy", greedy), ("beam3", beam)):
            matched[name] += exact_match(decoded["tokens"], part["target"]) * len(part["source"])
        if model.attention is not None:
            hits += alignment_hits(model, part)
    result = {name: total / N for name, total in matched.items()}
    return result if model.attention is None else dict(result, alignment_hits=hits[0] / hits[1])


def long_sources(seed=3):
    return tasks.reversal(64, (LONG, LONG), SYMBOLS, seed=seed)


# ---- figures ------------------------------------------------------------------------------------
def plot_attention(model, task, rows, path, about):
    """For a few sources: the learned attention (greedy decoding) next to the known alignment."""
    plt = pyplot()
    fig, axes = plt.subplots(2, len(rows), figsize=(3.6 * len(rows), 6.4), layout="constrained",
                             squeeze=False)
    for col, (split_name, n) in enumerate(rows):
        split = task[split_name]
        L = split["source_lengths"][n]
        source = split["source"][n:n + 1, :L]
        decoded = greedy_decode(model, source, split["target"].shape[1] + 2)
        T = decoded["lengths"][0]
        words = [task["source_words"][i] for i in source[0]]
        answer = [task["target_words"][i] for i in decoded["tokens"][0, :T]]
        truth = [task["target_words"][i] for i in split["target"][n, :split["target_lengths"][n]]]
        for row, (grid, labels, title) in enumerate((
                (decoded["weights"][0, :T], answer, f"{split_name}: learned attention"),
                (split["alignment"][n, :len(truth), :L], truth, "known alignment"))):
            ax = axes[row, col]
            ax.imshow(grid, cmap="Greys", vmin=0, vmax=1, aspect="auto")
            ax.set_xticks(range(L), words, rotation=60, ha="right", fontsize=8)
            ax.set_yticks(range(len(labels)), labels, fontsize=8)
            ax.set_title(title, fontsize=9)
    add_note(fig, "Rows: target symbols (top: the model's greedy answer; bottom: the reference "
                  "answer); columns: source words. Top: the weight $a_{ts}$ of source word $s$ "
                  "when emitting symbol $t$ (black = 1). Bottom: the words that name each "
                  "symbol (the end symbol </s> names none).", about)
    return save(fig, path)


def plot_gradient_norms(norms, path, about):
    """||dLoss/dx_s|| against source position s, at initialisation and after training."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), layout="constrained", sharey=True)
    styles = {("attention", "total"): ("C0", "-", "attention model: total"),
              ("attention", "attention"): ("C0", ":", "attention model: via attention"),
              ("attention", "bridge"): ("C0", "--", "attention model: via the bridge"),
              ("no attention", "total"): ("C3", "-", "no attention (bridge only)")}
    for ax, when in zip(axes, ("initialisation", "trained")):
        for (model, part), (color, style, label) in styles.items():
            ax.semilogy(norms[when][model][part], style, color=color, label=label)
        ax.set(title=f"reversal, {LONG}-step sources: {when}", xlabel="source position $s$",
               ylabel=r"$\|\partial\mathcal{L}/\partial x_s\|$ (mean over sources)")
    axes[0].legend(fontsize=8)
    add_note(fig, r"$x_s$: the embedded source symbol at position $s$; $\mathcal{L}$: the masked "
                  r"cross-entropy of the reference answer under teacher forcing. The gradients of "
                  r"the two paths add, as vectors, to the total (the backward pass is linear in "
                  r"what it is handed); each curve is the norm of one of them. Trained: after "
                  r"training on lengths 3-12, so 40 steps lie beyond the lengths it saw.",
             about)
    return save(fig, path)


# ---- main ---------------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--epochs-scale", type=float, default=1.0,
                        help="multiply every training budget (1.0: the numbers in the README)")
    args = parser.parse_args()
    # One BLAS thread: the decoder alternates NumPy products (attention, head) with the Numba
    # kernels' BLAS calls on tiny matrices, and the spinning threads of one BLAS slowed the
    # other's calls 30x on 2 cores (an epoch of the attention model: 6.5 s -> 0.8 s).
    set_num_threads(1)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    about = (f"Models: embeddings {EMBED}, bidirectional LSTM encoder {UNITS}+{UNITS}, LSTM "
             f"decoder {2 * UNITS}; 'attention': additive (width {ATTENTION}) with input "
             f"feeding. Training: batches of 32, Adam lr 0.01, clip 5")
    results = {"tasks": {}, "gradient_norms": {}}
    norms = {"initialisation": {}, "trained": {}}
    for name, make in (("numbers", numbers_task), ("reversal", reversal_task)):
        task = make()
        epochs = max(1, round(EPOCHS[name] * args.epochs_scale))
        results["tasks"][name] = {"epochs": epochs, "about": task["about"]}
        for label in MODELS:
            model = build(task, label == "attention")
            if name == "reversal":
                norms["initialisation"][label] = gradient_norms_by_position(model, long_sources())
            history = fit(model, task["train"], optimizer=Adam(lr=RECIPE["lr"]), epochs=epochs,
                          batch_size=RECIPE["batch_size"], clip_norm=RECIPE["clip_norm"])
            measured = {split: scores(model, task[split]) for split in ("in range", "longer")}
            results["tasks"][name][label] = dict(measured, train_loss=history["train_loss"])
            print(f"{name:>8} {label:>12}: trained {epochs} epochs, final loss "
                  f"{history['train_loss'][-1]:.4f} ({time.time() - start:.0f} s)", flush=True)
            if name == "reversal":
                norms["trained"][label] = gradient_norms_by_position(model, long_sources())
            if label == "attention":
                rows = [("in range", 0), ("in range", 1), ("longer", 0)]
                plot_attention(model, task, rows, args.output_dir / f"attention_{name}.png",
                               f"Task '{name}': {task['about']}. {about}")
    print_tables(results, norms)
    plot_gradient_norms(norms, args.output_dir / "gradient_norms.png", about)
    results["gradient_norms"] = {when: {model: {part: v.tolist() for part, v in parts.items()}
                                        for model, parts in by_model.items()}
                                 for when, by_model in norms.items()}
    results["seconds"] = time.time() - start
    (args.output_dir / "results.json").write_text(json.dumps(results, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {results['seconds']:.0f} s")


def print_tables(results, norms):
    print(f"\nexact match (greedy / beam 3); attention: share of symbols whose largest weight "
          f"is on an aligned word")
    print(f"{'task':<10}{'model':<14}{'in range':>16}{'longer':>16}{'aligned (in/longer)':>22}")
    for name, result in results["tasks"].items():
        for label in MODELS:
            r = result[label]
            cells = [f"{r[s]['greedy']:.3f} / {r[s]['beam3']:.3f}" for s in ("in range", "longer")]
            hits = [r[s].get("alignment_hits") for s in ("in range", "longer")]
            aligned = "" if hits[0] is None else f"{hits[0]:.3f} / {hits[1]:.3f}"
            print(f"{name:<10}{label:<14}{cells[0]:>16}{cells[1]:>16}{aligned:>22}")
    positions = list(range(0, LONG, 5)) + [LONG - 1]
    print(f"\ngradient norm ||dLoss/dx_s|| at source position s, reversal, {LONG}-step sources "
          f"(mean over 64)")
    print(f"{'':<42}" + "".join(f"{f's={s}':>9}" for s in positions))
    for when, by_model in norms.items():
        for model, part in (("attention", "total"), ("attention", "attention"),
                            ("attention", "bridge"), ("no attention", "total")):
            label = f"{when}, {model}: {'total' if part == 'total' else 'via ' + part}"
            print(f"{label:<42}" + "".join(f"{by_model[model][part][s]:9.1e}" for s in positions))


if __name__ == "__main__":
    main()
