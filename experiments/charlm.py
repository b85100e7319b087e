"""The character-level language model the issue-15 experiments share: the corpus (Python
standard-library source read at run time), the model, truncated-BPTT training and bits per char.

Shape legend: N streams, S characters per stream, T steps per window, V = len(ALPHABET) symbols,
E embedding width, H_l width of layer l, L layers.

    corpus      Python source read from the standard library's own directory (the directory of
                the `os` module): TRAIN_FILES for training, HELD_OUT_FILES held out (split by
                file). Characters outside printable ASCII + newline map to one '?'. The Python
                version, the files' sizes and a SHA-256 of the text go into the results, as the
                files differ between Python versions.
    model       Embedding(V, E) -> StackedRNN(cell, E, widths) -> Dense(., V) logits, reading
                either every layer's output concatenated (readout="all", Hermans & Schrauwen's
                DRNN; each layer's slice of the gradient enters through `dlayers`) or the top
                layer only (readout="top", the usual stacked LM as in Karpathy et al.).
    training    the text cut into N contiguous streams, windows of T steps, the state carried
                from window to window (truncated BPTT: no gradient between windows);
                softmax_cross_entropy, Adam, gradient-norm clip.
    bits/char   text run the same way (carried state); mean cross-entropy / ln 2.
"""
import hashlib
import os
import platform

import numpy as np

from minirnn import StackedRNN
from minirnn.layers import Dense, Embedding
from minirnn.losses import softmax_cross_entropy
from minirnn.optim import Adam, clip_grad_norm

TRAIN_FILES = ("os.py", "textwrap.py", "argparse.py", "functools.py", "pathlib.py",
               "dataclasses.py", "enum.py")                       # ~380 kB in Python 3.11
HELD_OUT_FILES = ("subprocess.py",)                               # ~90 kB in Python 3.11
ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))         # '?' stands in for the rest


# ---- the text ---------------------------------------------------------------------------------
def read_sources(names):
    """The named files of the standard library's directory, concatenated, and their sizes."""
    folder = os.path.dirname(os.__file__)
    texts, sizes = [], {}
    for name in names:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            texts.append(f.read())
        sizes[name] = len(texts[-1])
    return "".join(texts), sizes


def encode(text):
    """Character ids (len(text),) over ALPHABET; any other character becomes '?'."""
    index = {ch: i for i, ch in enumerate(ALPHABET)}
    unknown = index["?"]
    return np.array([index.get(ch, unknown) for ch in text], dtype=np.int64)


def as_streams(ids, streams):
    """(streams, S): the text cut into `streams` contiguous pieces of equal length S."""
    S = len(ids) // streams
    return ids[:streams * S].reshape(streams, S)


def load_corpus(max_chars=None):
    """({"train": ids, "held_out": ids, "held_out_text": str}, data_info). max_chars keeps the
    first max_chars training characters and max_chars // 2 held-out ones (quick runs)."""
    train_text, train_sizes = read_sources(TRAIN_FILES)
    held_text, held_sizes = read_sources(HELD_OUT_FILES)
    if max_chars:
        train_text, held_text = train_text[:max_chars], held_text[:max_chars // 2]
    data = {"train": encode(train_text), "held_out": encode(held_text),
            "held_out_text": held_text}
    info = {"python": platform.python_version(), "stdlib_dir": os.path.dirname(os.__file__),
            "train_files": train_sizes, "held_out_files": held_sizes,
            "train_chars": len(train_text), "held_out_chars": len(held_text),
            "unknown_share": float(np.mean(data["train"] == ALPHABET.index("?"))),
            "sha256": hashlib.sha256((train_text + held_text).encode()).hexdigest()}
    return data, info


# ---- the network: Embedding -> stack -> Dense -------------------------------------------------
class CharModel:
    """logits_t = r_t @ W + b, r_t = [h_1(t), ..., h_L(t)] (readout "all") or h_L(t) ("top"),
    over the stack of an embedded character stream."""

    def __init__(self, cell, widths, embed, seed, readout="all"):
        if readout not in ("all", "top"):
            raise ValueError(f"readout must be 'all' or 'top'; got {readout!r}")
        V = len(ALPHABET)
        self.embed = Embedding(V, embed, seed=seed)
        self.net = StackedRNN(cell, embed, list(widths), seed=seed + 1,
                              forget_bias=1.0 if cell == "lstm" else 0.0)
        self.widths, self.readout = list(widths), readout
        self.read = list(range(1, len(widths) + 1)) if readout == "all" else [len(widths)]
        self.head = Dense(sum(self.widths[l - 1] for l in self.read), V, seed=seed + 2)
        self.layers = len(widths)
        self.params = {**{f"embed.{k}": v for k, v in self.embed.params.items()},
                       **{f"net.{k}": v for k, v in self.net.params.items()},
                       **{f"head.{k}": v for k, v in self.head.params.items()}}

    @property
    def num_params(self):
        return int(sum(p.size for p in self.params.values()))

    def forward(self, ids, initial_states=None):
        """ids: (N, T) -> logits (N, T, V), final states, caches."""
        x, embed_cache = self.embed.forward(ids)
        _, states, net_cache = self.net.forward(x, initial_states)
        read = np.concatenate([net_cache.outputs[l] for l in self.read], axis=-1)
        logits, head_cache = self.head.forward(read)
        return logits, states, (embed_cache, net_cache, head_cache)

    def backward(self, dlogits, caches):
        embed_cache, net_cache, head_cache = caches
        # forward: read = [h_l for l in self.read], logits = read @ W + b
        dread, head_grads = self.head.backward(dlogits, head_cache)
        edges = np.cumsum([0] + [self.widths[l - 1] for l in self.read])
        dlayers = {l: np.ascontiguousarray(dread[..., edges[k]:edges[k + 1]])
                   for k, l in enumerate(self.read)}
        dx, net_grads = self.net.backward(None, net_cache, dlayers=dlayers)
        _, embed_grads = self.embed.backward(dx, embed_cache)
        return {**{f"embed.{k}": g for k, g in embed_grads.items()},
                **{f"net.{k}": g for k, g in net_grads.items()},
                **{f"head.{k}": g for k, g in head_grads.items()}}


def windows(streams, window):
    """(start, ids (N, <= window + 1)) over (N, S) streams: inputs ids[:, :-1], targets
    ids[:, 1:]."""
    for start in range(0, streams.shape[1] - 1, window):
        ids = streams[:, start:start + window + 1]
        if ids.shape[1] >= 2:
            yield start, ids


def bits_per_char(model, streams, window):
    """Mean cross-entropy in bits over every next-character prediction in streams (N, S)."""
    states, total, count = None, 0.0, 0
    for _, ids in windows(streams, window):
        logits, states, _ = model.forward(ids[:, :-1], states)
        loss, _ = softmax_cross_entropy(logits, ids[:, 1:])
        total += loss * ids[:, 1:].size
        count += ids[:, 1:].size
    return total / count / np.log(2)


def train(model, streams, epochs, window, lr=3e-3, clip_norm=1.0):
    """Truncated BPTT over (N, S) streams, carrying the state between windows. Returns the
    mean training loss (nats) of each epoch."""
    opt, history = Adam(lr=lr), []
    for _ in range(epochs):
        states, losses = None, []
        for start in range(0, streams.shape[1] - window - 1, window):
            ids = streams[:, start:start + window + 1]
            logits, states, caches = model.forward(ids[:, :-1], states)
            loss, dlogits = softmax_cross_entropy(logits, ids[:, 1:])
            grads, _ = clip_grad_norm(model.backward(dlogits, caches), clip_norm)
            opt.step(model.params, grads)
            losses.append(loss)
        history.append(float(np.mean(losses)))
    return history
