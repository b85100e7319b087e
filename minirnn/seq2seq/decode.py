"""Inference: greedy decoding and beam search, and the exact-match score of a decoding.

Shape legend: N sources, S source steps, T' decoded steps (at most max_length), k beam width,
V output vocabulary.

Both decoders feed the model's own previous token back in (the start token first), one
`EncoderDecoder.step` at a time, and stop a sequence at its end token; after it, the sequence
holds the padding id 0. Variable-length sources come with their (N, S) mask, as in training.

    greedy   y_t = argmax_v p(v | y_<t, source)
    beam     keep the k prefixes of highest log p(y_<=t | source) = sum_i log p(y_i | y_<i, source);
             a finished prefix is carried unchanged (it continues only with padding, at log 1 = 0)
             and the answer is the highest-scoring prefix after max_length steps or once all k
             have finished. With k = 1 it is greedy decoding.
"""
import numpy as np

from ..validation import check_int
from .model import Encoding

PAD = 0


def decoder_inputs(model, tokens):
    """The target embedding of tokens (M,) as the (M, 1, Dt) input of one decoder step."""
    if model.target_embedding is None:
        raise ValueError("decoding feeds the decoded tokens back in: the model needs a "
                         "target_embedding")
    return model.target_embedding.forward(tokens[:, None])[0]


def first_context(model, encoding):
    """The context the first step reads: zeros (N, 1, K) with input feeding, else None."""
    N, _, K = encoding.memory.shape
    return np.zeros((N, 1, K), model.decoder.dtype) if model.input_feeding else None


def greedy_decode(model, source, max_length, source_mask=None, start_id=1, end_id=2,
                  backend=None):
    """Decode each source by taking the most likely token at every step.

    source: (N, S) ids or (N, S, Ds); max_length: the most steps to decode.
    Returns {"tokens": (N, T') int64, "lengths": (N,) (through the end token; T' if none came),
    "weights": (N, T', S) the attention weights of every step, or None without attention}.
    """
    max_length = check_int("max_length", max_length)
    encoding = model.encode(source, source_mask, backend)
    N = encoding.memory.shape[0]
    token, done = np.full(N, start_id), np.zeros(N, bool)
    states, context = encoding.initial_states, first_context(model, encoding)
    tokens, weights = [], []
    for _ in range(max_length):
        logits, states, context, a, _ = model.step(decoder_inputs(model, token), states, context,
                                                   encoding, backend)
        token = np.where(done, PAD, np.argmax(logits[:, 0], axis=-1))
        done |= token == end_id
        tokens.append(token)
        weights.append(a)
        if done.all():
            break
    return decoded(np.stack(tokens, axis=1), end_id,
                   None if weights[0] is None else np.concatenate(weights, axis=1))


def beam_search(model, source, max_length, beam_width=3, source_mask=None, start_id=1, end_id=2,
                backend=None):
    """Decode each source by beam search with `beam_width` prefixes (module docstring).

    Returns the dict of `greedy_decode` for the best prefix of each source, and "scores": (N,)
    its log-probability.
    """
    max_length, k = check_int("max_length", max_length), check_int("beam_width", beam_width)
    encoding = model.encode(source, source_mask, backend)
    beams = repeat_encoding(encoding, k)  # row n * k + j holds prefix j of source n
    N = encoding.memory.shape[0]
    scores = np.full((N, k), -np.inf)
    scores[:, 0] = 0.0  # one live prefix, the start token, until the first step branches out
    token, finished = np.full(N * k, start_id), np.zeros((N, k), bool)
    states, context = beams.initial_states, first_context(model, beams)
    tokens = np.zeros((N, k, 0), np.int64)
    weights = None if model.attention is None else np.zeros((N, k, 0, beams.memory.shape[1]))
    for _ in range(max_length):
        logits, states, context, a, _ = model.step(decoder_inputs(model, token), states, context,
                                                   beams, backend)
        logp = log_softmax(logits[:, 0]).reshape(N, k, -1)  # (N, k, V)
        logp[finished] = -np.inf
        logp[finished, PAD] = 0.0
        V = logp.shape[-1]
        total = (scores[..., None] + logp).reshape(N, k * V)
        best = np.argsort(-total, axis=1, kind="stable")[:, :k]  # the k best (prefix, token)
        parent, token = np.divmod(best, V)
        scores = np.take_along_axis(total, best, axis=1)
        rows = (np.arange(N)[:, None] * k + parent).reshape(-1)  # where each new prefix came from
        states = [{name: s[:, rows] for name, s in layer.items()} for layer in states]
        context = None if context is None else context[rows]
        tokens = np.concatenate([np.take_along_axis(tokens, parent[..., None], axis=1),
                                 token[..., None]], axis=2)
        if weights is not None:
            weights = np.concatenate([np.take_along_axis(weights, parent[..., None, None], 1),
                                      a[rows].reshape(N, k, 1, -1)], axis=2)
        finished = np.take_along_axis(finished, parent, axis=1) | (token == end_id)
        token = token.reshape(-1)
        if finished.all():
            break
    winner = np.argmax(scores, axis=1)
    pick = np.arange(N), winner
    result = decoded(tokens[pick], end_id, None if weights is None else weights[pick])
    return dict(result, scores=scores[pick])


def repeat_encoding(encoding, k):
    """The Encoding with every source repeated k times in a row (N -> N * k)."""
    states = [{name: np.repeat(s, k, axis=1) for name, s in layer.items()}
              for layer in encoding.initial_states]
    mask = None if encoding.mask is None else np.repeat(encoding.mask, k, axis=0)
    return Encoding(np.repeat(encoding.memory, k, axis=0), mask, states, {})


def log_softmax(logits):
    """log softmax over the last axis, stably."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def decoded(tokens, end_id, weights):
    """The result dict of a decoding: tokens (N, T'), the lengths through the end token."""
    ends = tokens == end_id
    lengths = np.where(ends.any(axis=1), ends.argmax(axis=1) + 1, tokens.shape[1])
    return {"tokens": tokens.astype(np.int64), "lengths": lengths, "weights": weights}


def exact_match(tokens, target):
    """The fraction of rows of tokens (N, T') that equal target (N, T) exactly, both padded with 0
    after their end token (a decoding that never ended does not match)."""
    width = max(tokens.shape[1], target.shape[1])
    padded = [np.pad(a, ((0, 0), (0, width - a.shape[1]))) for a in (tokens, target)]
    return float(np.mean(np.all(padded[0] == padded[1], axis=1)))
