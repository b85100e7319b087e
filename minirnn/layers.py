"""Embedding and Dense: the layers that sit before and after a recurrent stack.

Shape legend: N batch, T time steps, V vocabulary size, E embedding width, D input features,
K output features. A leading "..." means any number of leading axes, e.g. (N,) or (N, T).

Every layer follows the same protocol as `StackedRNN`, so `Sequential` can chain them:

    out, cache = layer.forward(x)
    dx, grads = layer.backward(dout, cache)     # grads has exactly the keys of layer.params

`layer.params` is a dict of arrays that optimizers update in place; `layer.config` is a
JSON-able dict that rebuilds the layer (`type(layer)(**layer.config)`), used by `minirnn.io`.
"""
import numpy as np

from .cells.activations import dsigmoid, dtanh, sigmoid
from .validation import check_dtype, check_float_array, check_shape, shape_str

class Embedding:
    """A lookup table: token ids (...) -> vectors (..., E).

        out[...] = W[ids[...]]                    W: (V, E)
        dW[v]   += sum of dout[...] over the positions where ids == v

    padding_idx: None, or an id whose row is zero at initialisation and never receives gradient
    (PyTorch semantics), so padded positions feed zeros to the next layer and stay zero while
    training. Initial weights: N(0, 1), as in PyTorch's nn.Embedding.
    """

    def __init__(self, vocab_size, dim, padding_idx=None, seed=0, dtype=np.float64):
        if int(vocab_size) < 1 or int(dim) < 1:
            raise ValueError(f"vocab_size and dim must be positive ints; got {vocab_size!r}, {dim!r}")
        if padding_idx is not None and not 0 <= int(padding_idx) < int(vocab_size):
            raise ValueError(f"padding_idx must be None or in [0, {int(vocab_size)}); "
                             f"got {padding_idx!r}")
        self.vocab_size, self.dim = int(vocab_size), int(dim)
        self.padding_idx = None if padding_idx is None else int(padding_idx)
        self.dtype = check_dtype(dtype)
        W = np.random.default_rng(seed).standard_normal((self.vocab_size, self.dim))
        if self.padding_idx is not None:
            W[self.padding_idx] = 0.0
        self.params = {"W": W.astype(self.dtype)}
        self.config = {"vocab_size": self.vocab_size, "dim": self.dim,
                       "padding_idx": self.padding_idx, "dtype": self.dtype.name}

    def forward(self, ids):
        """ids: integer array (...) with values in [0, V). Returns out: (..., E) and the cache."""
        ids = np.asarray(ids)
        if not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be an integer array of token ids; got dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must lie in [0, {self.vocab_size}) (vocab_size); "
                             f"got values in [{ids.min()}, {ids.max()}]")
        return self.params["W"][ids], {"ids": ids}

    def backward(self, dout, cache):
        """dout: (..., E). Returns (None, {"W": dW}): integer ids have no gradient."""
        ids = cache["ids"]
        check_float_array("dout", dout)
        check_shape("dout", dout, ids.shape + (self.dim,))
        dW = np.zeros_like(self.params["W"])
        # np.add.at(dW, ids, dout) (repeated ids add up), on the flat arrays: entry (v, e) of dW
        # is entry v * E + e of dW.reshape(-1). Same sums in the same order, and 4x faster:
        # NumPy's add.at has a fast path for 1-D operands only.
        flat_ids = (ids.reshape(-1, 1) * self.dim + np.arange(self.dim)).reshape(-1)
        np.add.at(dW.reshape(-1), flat_ids, dout.reshape(-1))
        if self.padding_idx is not None:
            dW[self.padding_idx] = 0.0
        return None, {"W": dW}

    def __repr__(self):
        return f"Embedding({self.vocab_size}, {self.dim}, padding_idx={self.padding_idx})"


ACTIVATIONS = {
    # name: (forward f(a), local derivative given the output y = f(a))
    None: (lambda a: a, lambda y: np.ones_like(y)),
    "tanh": (np.tanh, dtanh),
    "sigmoid": (sigmoid, dsigmoid),
    "relu": (lambda a: np.maximum(a, 0.0), lambda y: (y > 0).astype(y.dtype)),
}


class Dense:
    """An affine map on the last axis, with an optional activation:

        a   = x @ W + b            x: (..., D)  W: (D, K)  b: (K,)
        out = activation(a)        None (identity), 'tanh', 'sigmoid' or 'relu'

    Losses take logits, so a classifier head is Dense(..., activation=None) followed by a
    `*_with_logits` / softmax loss (sigmoid or softmax inside the loss is stable; outside, not).
    Applied to (N, T, D) it acts on every time step. Initial weights and bias: PyTorch's
    nn.Linear, U(-1/sqrt(D), 1/sqrt(D)).
    """

    def __init__(self, in_features, out_features, activation=None, seed=0, dtype=np.float64):
        if int(in_features) < 1 or int(out_features) < 1:
            raise ValueError(f"in_features and out_features must be positive ints; "
                             f"got {in_features!r}, {out_features!r}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {list(ACTIVATIONS)}; got {activation!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        self.activation = activation
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(seed)
        bound = 1.0 / np.sqrt(self.in_features)
        self.params = {
            "W": rng.uniform(-bound, bound, (self.in_features, self.out_features)).astype(self.dtype),
            "b": rng.uniform(-bound, bound, self.out_features).astype(self.dtype)}
        self.config = {"in_features": self.in_features, "out_features": self.out_features,
                       "activation": activation, "dtype": self.dtype.name}

    def forward(self, x):
        """x: (..., D). Returns out: (..., K) and the cache."""
        check_float_array("x", x)
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"x must have shape (..., {self.in_features}) (in_features last); "
                             f"got shape {shape_str(x.shape)}")
        x = x.astype(self.dtype, copy=False)
        a = x @ self.params["W"] + self.params["b"]  # (..., K)
        out = ACTIVATIONS[self.activation][0](a)
        return out, {"x": x, "out": out}

    def backward(self, dout, cache):
        """dout: (..., K). Returns dx: (..., D) and {"W": dW, "b": db}."""
        x, out = cache["x"], cache["out"]
        check_float_array("dout", dout)
        check_shape("dout", dout, out.shape)
        # forward: out = activation(a)
        da = dout * ACTIVATIONS[self.activation][1](out)
        # forward: a = x @ W + b, summed over every leading axis
        x2d, da2d = x.reshape(-1, self.in_features), da.reshape(-1, self.out_features)
        grads = {"W": x2d.T @ da2d, "b": da2d.sum(axis=0)}
        dx = da @ self.params["W"].T
        return dx, grads

    def __repr__(self):
        return f"Dense({self.in_features}, {self.out_features}, activation={self.activation!r})"
