"""Where an encoder-decoder looks and how its gradient reaches the source, from its own passes.

Shape legend: N batch, S source steps, T target steps, Ds the vectors the encoder reads (the
source embedding's output when the source is ids), V the output vocabulary.

A decoder output reaches source step s along two paths (model.py):

    attention   logits_t <- context_t (and, with input feeding, every later step) <- memory_s'
                <- the encoder's backward from its output sequence to x_s
    bridge      logits_t <- decoder states <- s_0 <- the encoder's final states <- ... <- x_s,
                back through every encoder step between s and the sequence's end

The backward pass is linear in the gradients it is handed, so the gradient on x_s is the sum of
the two: `source_gradients` runs the model's decoder backward once and the encoder's backward once
per path. Without attention the first path is zero. Nothing here retypes the model's maths: every
number is a forward or backward pass of the model itself.
"""
import numpy as np

from ..losses import softmax_cross_entropy
from ..validation import check_int

PATHS = ("attention", "bridge")


def attention_weights(cache):
    """The attention weights of every decoder step of a forward pass: (N, T, S), rows summing to 1
    over the real source steps (0 on padding)."""
    if cache.weights is None:
        raise ValueError("the model has no attention, so no attention weights")
    return cache.weights.copy()


def source_gradients(model, source, decoder_input, dlogits, source_mask=None, backend=None):
    """The gradient of sum(dlogits * logits) on every encoder input step, per path.

    source, decoder_input, source_mask: as `model.forward` takes them; dlogits: (N, T, V).
    Returns {"attention": (N, S, Ds), "bridge": (N, S, Ds), "total": their sum}.
    """
    _, cache = model.forward(source, decoder_input, source_mask, backend)
    return path_gradients(model, cache, dlogits)


def path_gradients(model, cache, dlogits):
    """`source_gradients` for the forward pass that made `cache`."""
    _, dmemory, dinitial = model.backward_decoder(dlogits, cache, model.zero_grads())
    paths = {"attention": model.backward_encoder(dmemory, None, cache.encoding,
                                                 model.zero_grads()),
             "bridge": model.backward_encoder(None, dinitial, cache.encoding, model.zero_grads())}
    return dict(paths, total=paths["attention"] + paths["bridge"])


def source_jacobian(model, source, decoder_input, step, source_mask=None, backend=None):
    """The Jacobian of decoder step `step`'s logits with respect to every encoder input step,
    one backward pass per logit: J[n, v, s] = d logits[n, step, v] / d x[n, s], (N, V, S, Ds),
    per path, {"attention", "bridge", "total"}."""
    logits, cache = model.forward(source, decoder_input, source_mask, backend)
    N, T, V = logits.shape
    step = check_int("step", step, minimum=0)
    if step >= T:
        raise ValueError(f"step must be a decoder step in [0, {T}); got {step}")
    rows = []
    for v in range(V):
        dlogits = np.zeros_like(logits)
        dlogits[:, step, v] = 1.0
        rows.append(path_gradients(model, cache, dlogits))
    return {key: np.stack([row[key] for row in rows], axis=1) for key in (*PATHS, "total")}


def gradient_norms_by_position(model, data, backend=None):
    """How much training gradient reaches each source position: the mean over sequences of
    ||dLoss/dx_s||, Loss the masked cross-entropy of the reference targets.

    data: a dict with "source", "source_mask", "decoder_input", "target", "target_mask" (one
    length of source is the clearest: position s is then the same distance from the end in
    every row). Returns {"attention": (S,), "bridge": (S,), "total": (S,)}, the norms of each
    path's part and of their sum.
    """
    logits, cache = model.forward(data["source"], data["decoder_input"], data["source_mask"],
                                  backend)
    _, dlogits = softmax_cross_entropy(logits, data["target"], data["target_mask"])
    grads = path_gradients(model, cache, dlogits)
    return {key: np.linalg.norm(g, axis=-1).mean(axis=0) for key, g in grads.items()}
