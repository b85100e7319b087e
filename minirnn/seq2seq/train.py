"""Teacher-forced training of an EncoderDecoder, from the pieces of minirnn.train and minirnn.optim.

Shape legend: N pairs, S source steps, T target steps.

`minirnn.train.fit` trains a Sequential on (x, y, mask), one input sequence with one mask. An
encoder-decoder reads two sequences, the source and the target shifted right, each with its own
mask, so it has this loop, making the same update in the same order:

    logits, cache = model.forward(source, decoder_input, source_mask)
    loss, dlogits = softmax_cross_entropy(logits, target, target_mask)   # masked sequence loss
    _, _, grads   = model.backward(dlogits, cache)
    norm          = sqrt(sum of squared_norms(grads))
    optimizer.step(model.params, grads, scale=clip_scale(norm, clip_norm))  # 1 without clip_norm

A data set is a dict of "source" (N, S) and "decoder_input" (N, T) (ids, or vectors with a
trailing axis), "source_mask" (N, S), "target" (N, T) and "target_mask" (N, T): the keys that
`minirnn.data.tasks.transduction` returns. Each batch is cut to its longest source and target.
"""
import math

import numpy as np

from ..allocator import keep_freed_memory
from ..losses import softmax_cross_entropy
from ..optim import Adam, clip_scale, squared_norms
from ..threads import resolve_num_threads, thread_limit
from ..train import batches
from ..validation import check_int

KEYS = ("source", "source_mask", "decoder_input", "target", "target_mask")


def check_data(name, data):
    """A dict holding KEYS with one N, masks of the sequences' (N, S) and (N, T) shapes."""
    if not isinstance(data, dict) or set(KEYS) - set(data):
        raise ValueError(f"{name} must be a dict with keys {KEYS}; got "
                         f"{sorted(data) if isinstance(data, dict) else type(data).__name__}")
    shapes = {key: np.shape(data[key]) for key in KEYS}
    N, S, T = shapes["source"][0], shapes["source"][1], shapes["target"][1]
    expected = {"source_mask": (N, S), "decoder_input": (N, T), "target": (N, T),
                "target_mask": (N, T)}
    for key, shape in expected.items():
        if shapes[key][:2] != shape:
            raise ValueError(f"{name}[{key!r}] must have shape {shape} (N, S from source, T from "
                             f"target); got {shapes[key]}")


def batch_of(data, idx):
    """The rows idx of every array in data, cut to the longest source and target among them."""
    S = int(data["source_mask"][idx].any(axis=0).nonzero()[0].max()) + 1
    T = int(data["target_mask"][idx].any(axis=0).nonzero()[0].max()) + 1
    cut = {"source": S, "source_mask": S, "decoder_input": T, "target": T, "target_mask": T}
    return {key: data[key][idx][:, :length] for key, length in cut.items()}


def loss_and_gradients(model, batch, backend=None):
    """The masked cross-entropy of one batch and its exact gradients (the keys of model.params)."""
    logits, cache = model.forward(batch["source"], batch["decoder_input"], batch["source_mask"],
                                  backend)
    loss, dlogits = softmax_cross_entropy(logits, batch["target"], batch["target_mask"])
    _, _, grads = model.backward(dlogits, cache)
    return loss, grads


def evaluate_loss(model, data, batch_size=256, backend=None):
    """The masked cross-entropy per real target step over a whole data set."""
    check_data("data", data)
    total, count = 0.0, 0
    for idx in batches(len(data["source"]), batch_size):
        batch = batch_of(data, idx)
        logits, _ = model.forward(batch["source"], batch["decoder_input"], batch["source_mask"],
                                  backend)
        steps = int(batch["target_mask"].sum())
        total += softmax_cross_entropy(logits, batch["target"], batch["target_mask"])[0] * steps
        count += steps
    return total / count


def fit(model, train, val=None, optimizer=None, epochs=10, batch_size=32, clip_norm=None, seed=0,
        backend=None, num_threads=None):
    """Train the EncoderDecoder `model` in place with teacher forcing.

    train, val: data dicts (module docstring).  optimizer: default Adam(lr=1e-3).
    clip_norm: None or the max global gradient norm.  seed: the order of the pairs each epoch.
    num_threads: at most this many threads while fit runs, as in minirnn.train.fit.
    Returns the history {"train_loss", "val_loss" (empty without val), "grad_norm_total"}: per
    epoch, the loss per real target step and the mean gradient norm before clipping.
    """
    check_data("train", train)
    if val is not None:
        check_data("val", val)
    epochs, batch_size = check_int("epochs", epochs, minimum=0), check_int("batch_size", batch_size)
    threads = resolve_num_threads(num_threads)
    keep_freed_memory()  # reuse freed blocks: no page faults per step (allocator.py)
    optimizer = optimizer or Adam(lr=1e-3)
    rng = np.random.default_rng(seed)
    history = {"train_loss": [], "val_loss": [], "grad_norm_total": []}
    with thread_limit(threads):  # the thread counts for this run only (threads.py)
        train_epochs(model, train, val, optimizer, epochs, batch_size, clip_norm, rng, backend,
                     history)
    return history


def train_epochs(model, train, val, optimizer, epochs, batch_size, clip_norm, rng, backend,
                 history):
    """fit's loop: the epochs, appending to history."""
    for _ in range(epochs):
        total, count, norms = 0.0, 0, []
        for idx in batches(len(train["source"]), batch_size, rng):
            batch = batch_of(train, idx)
            loss, grads = loss_and_gradients(model, batch, backend)
            norms.append(math.sqrt(sum(squared_norms(grads).values())))
            scale = 1.0 if clip_norm is None else clip_scale(norms[-1], clip_norm)
            optimizer.step(model.params, grads, scale=scale)  # clipping folded into the step
            steps = int(batch["target_mask"].sum())
            total, count = total + loss * steps, count + steps
        history["train_loss"].append(total / count)
        history["grad_norm_total"].append(float(np.mean(norms)))
        if val is not None:
            history["val_loss"].append(evaluate_loss(model, val, backend=backend))
