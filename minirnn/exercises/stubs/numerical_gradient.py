"""Exercise 1, numerical_gradient: the centered difference.

What it teaches: the numerical gradient every other check stands on, and why it needs float64.
Its round-off is about eps / h, so h = 1e-5 leaves 1e-11 in float64 but 1e-2 in float32.

To check a hand-written backward of out = f(p), take a random upstream gradient dout and the
scalar loss = sum(dout * f()). Its gradient with respect to p, coordinate by coordinate, is

    dloss/dp[i] ~ (loss(p[i] + h) - loss(p[i] - h)) / (2 h)            error O(h^2)

    python -m minirnn exercises check numerical_gradient
    python -m minirnn exercises hint numerical_gradient
"""
import numpy as np


def numerical_gradient(f, p, dout, h=1e-5):
    """Centered-difference gradient of sum(dout * f()) with respect to the array p.

    f: a function of no arguments that reads p (change p in place, then put it back).
    p: the array, any shape. dout: the upstream gradient, shaped like f()'s output.
    Returns grad, shaped like p. p must be exactly as it was when the function returns.
    """
    grad = np.zeros(p.shape)
    # TODO: your code here (about 8 lines)
    raise NotImplementedError("numerical_gradient")
    return grad
