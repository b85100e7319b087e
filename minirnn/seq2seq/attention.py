"""Attention over an encoder's outputs: additive (Bahdanau) and multiplicative (Luong, "general")
scores, a softmax masked to the real source steps, and the context vector.

Shape legend: N batch, Q queries per sequence (decoder steps; 1 when the decoder runs one step at
a time), S source steps, U query width (the decoder's top hidden size), K key width (the
encoder's top-layer output), A attention width (additive score only).

Forward, row-vector layout as in the code, for every query q and source step s:

    additive (Bahdanau et al. 2015)   u_qs = tanh(query_q @ Wq + keys_s @ Wk + b)    (A,)
                                      e_qs = u_qs @ v          Wq: (U, A)  Wk: (K, A)  b, v: (A,)
    general (Luong et al. 2015)       e_qs = (query_q @ W) . keys_s              W: (U, K)

    a_qs = m_s exp(e_qs) / sum_s' m_s' exp(e_qs')     masked softmax, m_s = 0 on padded steps
    context_q = sum_s a_qs keys_s                     (K,): the keys are also the values

Backward, the forward in reverse (dweights: a gradient injected on a_qs, or none):

    da_qs = dcontext_q . keys_s + dweights_qs;      dkeys_s += sum_q a_qs dcontext_q
    de_qs = a_qs (da_qs - sum_s' a_qs' da_qs')      zero on padded steps, where a_qs = 0
    general:   dquery_q = (sum_s de_qs keys_s) @ W.T;   dkeys_s += sum_q de_qs (query_q @ W)
               dW = sum over n, q of query_q^T (sum_s de_qs keys_s)
    additive:  dv = sum de_qs u_qs;   dpre_qs = de_qs v (1 - u_qs^2)
               dquery_q = (sum_s dpre_qs) @ Wq.T;   dkeys_s += (sum_q dpre_qs) @ Wk.T
               dWq, dWk: the same sums against query and keys;   db = sum dpre_qs
"""
import numpy as np

from ..cells.activations import dtanh
from ..validation import check_dtype, check_float_array, check_shape, shape_str


# ---- the two scores -----------------------------------------------------------------------------
def additive_scores(query, keys, Wq, Wk, b, v):
    """Bahdanau's score. query: (N, Q, U), keys: (N, S, K). Returns e: (N, Q, S) and the cache."""
    u = np.tanh((query @ Wq)[:, :, None] + (keys @ Wk)[:, None] + b)  # (N, Q, S, A)
    cache = {"query": query, "keys": keys, "Wq": Wq, "Wk": Wk, "v": v, "u": u}
    return u @ v, cache


def additive_scores_backward(de, cache):
    """de: (N, Q, S). Returns dquery: (N, Q, U), dkeys: (N, S, K) and (dWq, dWk, db, dv)."""
    query, keys, u = cache["query"], cache["keys"], cache["u"]
    # forward: e = u @ v
    dv = np.einsum("nqs,nqsa->a", de, u)
    # forward: u = tanh(pre)
    dpre = de[..., None] * cache["v"] * dtanh(u)  # (N, Q, S, A)
    # forward: pre = (query @ Wq) broadcast over s + (keys @ Wk) broadcast over q + b
    dquery_part, dkeys_part = dpre.sum(axis=2), dpre.sum(axis=1)  # (N, Q, A), (N, S, A)
    dWq = flat(query).T @ flat(dquery_part)
    dWk = flat(keys).T @ flat(dkeys_part)
    db = dpre.sum(axis=(0, 1, 2))
    return dquery_part @ cache["Wq"].T, dkeys_part @ cache["Wk"].T, (dWq, dWk, db, dv)


def general_scores(query, keys, W):
    """Luong's "general" score. query: (N, Q, U), keys: (N, S, K). Returns e: (N, Q, S), cache."""
    projected = query @ W  # (N, Q, K)
    cache = {"query": query, "keys": keys, "W": W, "projected": projected}
    return projected @ keys.transpose(0, 2, 1), cache


def general_scores_backward(de, cache):
    """de: (N, Q, S). Returns dquery: (N, Q, U), dkeys: (N, S, K) and (dW,)."""
    # forward: e = projected @ keys^T
    dprojected = de @ cache["keys"]  # (N, Q, K)
    dkeys = de.transpose(0, 2, 1) @ cache["projected"]
    # forward: projected = query @ W
    dW = flat(cache["query"]).T @ flat(dprojected)
    return dprojected @ cache["W"].T, dkeys, (dW,)


# name: (forward, backward, parameter names in the order both take and return them)
SCORES = {"additive": (additive_scores, additive_scores_backward, ("Wq", "Wk", "b", "v")),
          "general": (general_scores, general_scores_backward, ("W",))}


# ---- masked softmax and the context -------------------------------------------------------------
def masked_softmax(e, mask=None):
    """Softmax over the last axis of e: (N, Q, S), only over the steps where mask: (N, S) is True:
    masked steps get weight exactly 0."""
    if mask is not None:
        e = np.where(mask[:, None, :], e, -np.inf)
    w = np.exp(e - e.max(axis=-1, keepdims=True))
    return w / w.sum(axis=-1, keepdims=True)


def masked_softmax_backward(da, a):
    """de = a (da - sum_s a da): the softmax backward, from the weights a it produced."""
    return a * (da - np.sum(da * a, axis=-1, keepdims=True))


def attention_forward(query, keys, mask, score, params):
    """query: (N, Q, U), keys: (N, S, K), mask: None or (N, S) bool; score: "additive" or
    "general"; params: the score's parameters by name.

    Returns context: (N, Q, K), weights: (N, Q, S) and the cache `attention_backward` reads.
    """
    score_forward, _, names = SCORES[score]
    e, score_cache = score_forward(query, keys, *(params[name] for name in names))
    a = masked_softmax(e, mask)
    return a @ keys, a, {"score": score, "scores": score_cache, "weights": a}


def attention_backward(dcontext, cache, dweights=None):
    """dcontext: (N, Q, K); dweights: None or (N, Q, S), a gradient injected on the weights.

    Returns dquery: (N, Q, U), dkeys: (N, S, K) and {parameter name: gradient}.
    """
    a, keys = cache["weights"], cache["scores"]["keys"]
    _, score_backward, names = SCORES[cache["score"]]
    # forward: context = a @ keys
    da = dcontext @ keys.transpose(0, 2, 1)  # (N, Q, S)
    if dweights is not None:
        da += dweights
    dkeys = a.transpose(0, 2, 1) @ dcontext
    # forward: a = masked_softmax(e)
    de = masked_softmax_backward(da, a)
    # forward: e = score(query, keys)
    dquery, dkeys_score, dparams = score_backward(de, cache["scores"])
    dkeys += dkeys_score
    return dquery, dkeys, dict(zip(names, dparams))


def flat(a):
    """(..., F) -> (M, F): every leading axis as rows, for the sums in a weight gradient."""
    return a.reshape(-1, a.shape[-1])


# ---- the layer ----------------------------------------------------------------------------------
class Attention:
    """A thin layer over `attention_forward` / `attention_backward` holding the parameters.

    score: "additive" (attention_size A needed) or "general". Initial weights and biases:
    U(-1/sqrt(fan_in), 1/sqrt(fan_in)), like Dense (fan_in A for v).

        context, weights, cache = att.forward(query, keys, mask)
        dquery, dkeys, grads = att.backward(dcontext, cache, dweights=None)
    """

    def __init__(self, score, query_size, key_size, attention_size=None, seed=0,
                 dtype=np.float64):
        if score not in SCORES:
            raise ValueError(f"score must be one of {sorted(SCORES)}; got {score!r}")
        if score == "additive" and (attention_size is None or int(attention_size) < 1):
            raise ValueError(f"the additive score needs attention_size, a positive int; "
                             f"got {attention_size!r}")
        self.score, self.query_size, self.key_size = score, int(query_size), int(key_size)
        self.dtype = check_dtype(dtype)
        U, K = self.query_size, self.key_size
        if score == "additive":
            A = int(attention_size)
            shapes = {"Wq": ((U, A), U), "Wk": ((K, A), K), "b": ((A,), U), "v": ((A,), A)}
        else:
            shapes = {"W": ((U, K), U)}
        rng = np.random.default_rng(seed)
        self.params = {name: rng.uniform(-1, 1, shape).astype(self.dtype) / np.sqrt(fan_in)
                       for name, (shape, fan_in) in shapes.items()}

    def forward(self, query, keys, mask=None):
        """query: (N, Q, U), keys: (N, S, K), mask: None or (N, S) bool with at least one True
        per row. Returns context: (N, Q, K), weights: (N, Q, S) and the cache."""
        check_float_array("query", query)
        check_float_array("keys", keys)
        check_shape("query", query, ("N", "Q", self.query_size))
        check_shape("keys", keys, (query.shape[0], "S", self.key_size))
        if mask is not None:
            check_shape("mask", mask, keys.shape[:2])
            if mask.dtype != bool or not mask.any(axis=1).all():
                raise ValueError(f"mask must be a bool array {shape_str(keys.shape[:2])} with at "
                                 f"least one True (a real source step) in every row")
        return attention_forward(query, keys, mask, self.score, self.params)

    def backward(self, dcontext, cache, dweights=None):
        """dcontext: (N, Q, K); dweights: None or (N, Q, S). Returns dquery, dkeys, grads."""
        check_float_array("dcontext", dcontext)
        check_shape("dcontext", dcontext, cache["weights"].shape[:2] + (self.key_size,))
        if dweights is not None:
            check_float_array("dweights", dweights)
            check_shape("dweights", dweights, cache["weights"].shape)
        return attention_backward(dcontext, cache, dweights)

    def __repr__(self):
        return f"Attention({self.score!r}, {self.query_size}, {self.key_size})"
