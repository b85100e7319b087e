"""Nonlinearities and their local derivatives, written in terms of the forward output.

`dtanh(y)` and `dsigmoid(y)` take the *output* y of the forward function, because that is what
the caches hold: d tanh(a)/da = 1 - tanh(a)^2 = 1 - y^2 and d sigma(a)/da = y (1 - y).
"""
import numpy as np


def sigmoid(a):
    """Numerically stable logistic function 1 / (1 + exp(-a)); never overflows."""
    # exp of a non-positive number cannot overflow: use exp(-|a|) on both branches.
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


def dsigmoid(y):
    """d sigmoid / d a, given y = sigmoid(a)."""
    return y * (1.0 - y)


def dtanh(y):
    """d tanh / d a, given y = tanh(a)."""
    return 1.0 - y * y
