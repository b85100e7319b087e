"""Optimizers over a params dict, gradient-norm clipping and learning-rate schedules.

The training loop owns these steps; backward never clips or updates (see STYLE.md):

    out, cache = model.forward(x)
    loss, dout = loss_fn(out, y)
    _, grads = model.backward(dout, cache)          # exact gradients
    grads, norm = clip_grad_norm(grads, max_norm=5.0)
    optimizer.step(model.params, grads)             # updates the arrays in place

`fit` folds the clipping into the step instead, `optimizer.step(params, grads, scale=
clip_scale(norm, max_norm))`: the same numbers, without a clipped copy of every gradient.

`params` and `grads` are dicts with the same keys. An optimizer keeps its per-parameter state
(momentum buffers, moment estimates) in `optimizer.state[name]` and counts its updates in
`optimizer.steps`. The learning rate of update t (t = 0, 1, ...) is `schedule(t)` when a
schedule is given, else the constant `lr`.

Adam, the default of `fit`, has a compiled update (kernels/optimizers.py, backend="numba", the
default): one pass over each parameter, the same bits as the NumPy code below, which runs with
backend="numpy" and is the one to read.
"""
import math

import numpy as np

from .backends import resolve_backend
from .validation import DTYPES


def squared_norms(grads):
    """{name: sum(g^2)} in float64. The training loop computes them once per step and derives
    every norm it records from them. A compiled pass (kernels/optimizers.py), not np.dot: that
    would wake NumPy's own BLAS threads, whose spinning slows the Numba kernels' BLAS down by 2x
    on a small machine (kernels/products.py)."""
    from .kernels.optimizers import sum_of_squares
    return {name: float(sum_of_squares(np.reshape(g, -1))) for name, g in grads.items()}


def global_norm(grads):
    """sqrt(sum over every array of sum(g^2)): the norm of all gradients as one vector."""
    return math.sqrt(sum(squared_norms(grads).values()))


def clip_scale(norm, max_norm):
    """The factor clipping multiplies every gradient by: max_norm / norm if norm > max_norm,
    else 1."""
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive; got {max_norm!r}")
    return max_norm / norm if norm > max_norm else 1.0


def clip_grad_norm(grads, max_norm, norm=None):
    """Rescale the gradients so that their global norm is at most max_norm (Pascanu et al. 2013):

        g <- g * max_norm / norm      if norm > max_norm,  else unchanged

    norm: the global norm if the caller has it already. Returns (a new dict of the clipped
    gradients: the same arrays when nothing is clipped, new ones otherwise; the norm before
    clipping). The direction of the whole gradient vector is kept, unlike clipping each entry.
    """
    norm = global_norm(grads) if norm is None else norm
    scale = clip_scale(norm, max_norm)
    return {name: scaled(g, scale) for name, g in grads.items()}, norm


def scaled(g, scale):
    """g * scale in g's dtype; g itself when scale is 1."""
    return g if scale == 1.0 else g * g.dtype.type(scale)


class Optimizer:
    """Shared bookkeeping: learning rate or schedule, state per parameter, the update count."""

    def __init__(self, lr, schedule=None):
        if not lr > 0:
            raise ValueError(f"lr must be positive; got {lr!r}")
        self.lr, self.schedule = float(lr), schedule
        self.state, self.steps = {}, 0

    def current_lr(self):
        """The learning rate the next update uses: schedule(steps), or lr without a schedule."""
        return float(self.schedule(self.steps)) if self.schedule is not None else self.lr

    def step(self, params, grads, scale=1.0):
        """Update every array of params in place from scale * grads (same keys; scale: the
        clipping factor, `clip_scale`)."""
        if set(params) != set(grads):
            raise ValueError(f"params and grads must have the same keys; missing in grads: "
                             f"{sorted(set(params) - set(grads))}, extra in grads: "
                             f"{sorted(set(grads) - set(params))}")
        lr = self.current_lr()
        for name, p in params.items():
            if grads[name].shape != p.shape:
                raise ValueError(f"grads[{name!r}] has shape {grads[name].shape}; "
                                 f"the parameter has {p.shape}")
            self.apply(name, p, grads[name], scale, lr)
        self.steps += 1

    def apply(self, name, p, g, scale, lr):
        """p -= the update of parameter `name` from the gradient scale * g, computed in float64."""
        update = self.update(name, scaled(g, scale).astype(np.float64, copy=False), lr)
        p -= update.astype(p.dtype, copy=False)

    def scratch(self, name, like):
        """A float64 array shaped like `like`, reused by every update of parameter `name` (the
        update a step returns lives there until the next step)."""
        return self.slot(name, "scratch", like)

    def slot(self, name, key, like):
        """The state array state[name][key], created as zeros shaped like `like`."""
        state = self.state.setdefault(name, {})
        if key not in state:
            state[key] = np.zeros(like.shape, np.float64)
        return state[key]


class SGD(Optimizer):
    """Stochastic gradient descent with optional momentum mu (PyTorch's form):

        v <- mu v + g;     p <- p - lr v          (mu = 0: p <- p - lr g)
    """

    def __init__(self, lr=0.01, momentum=0.0, schedule=None):
        super().__init__(lr, schedule)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
        self.momentum = float(momentum)

    def update(self, name, g, lr):
        if self.momentum == 0.0:
            return lr * g
        v = self.slot(name, "velocity", g)
        v *= self.momentum
        v += g
        return lr * v


class RMSprop(Optimizer):
    """RMSprop (Hinton's lecture 6e; PyTorch's form): a running mean of squared gradients scales
    each coordinate's step,

        s <- rho s + (1 - rho) g^2;     p <- p - lr g / (sqrt(s) + eps)
    """

    def __init__(self, lr=0.001, rho=0.9, eps=1e-8, schedule=None):
        super().__init__(lr, schedule)
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"rho must be in [0, 1); got {rho!r}")
        self.rho, self.eps = float(rho), float(eps)

    def update(self, name, g, lr):
        s = self.slot(name, "square_avg", g)
        s *= self.rho
        s += (1.0 - self.rho) * g * g
        return lr * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015) with bias correction; t counts this parameter's updates from 1:

        m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
        m_hat = m / (1 - b1^t);   v_hat = v / (1 - b2^t)
        p <- p - lr m_hat / (sqrt(v_hat) + eps)

    The first update is lr * g / (|g| + eps), about lr * sign(g) in every coordinate.
    backend: "numba" (default, or MINIRNN_BACKEND) makes each update in one compiled pass
    (`kernels.optimizers.adam_update`), "numpy" runs `update` below; both give the same bits.
    """

    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8, schedule=None, backend=None):
        super().__init__(lr, schedule)
        if not (0.0 <= beta1 < 1.0 and 0.0 <= beta2 < 1.0):
            raise ValueError(f"beta1 and beta2 must be in [0, 1); got {beta1!r}, {beta2!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.backend = resolve_backend(backend)

    def apply(self, name, p, g, scale, lr):
        """The compiled update where it can write into p through a flat view (C-contiguous p and
        g of one dtype, float32 or float64); else the NumPy reference."""
        if not (self.backend == "numba" and p.flags.c_contiguous and g.flags.c_contiguous
                and p.dtype == g.dtype and p.dtype in DTYPES):
            return super().apply(name, p, g, scale, lr)
        from .kernels.optimizers import adam_update
        m, v, t = self.moments(name, g)
        adam_update(p.reshape(-1), g.reshape(-1), g.dtype.type(scale), m.reshape(-1),
                    v.reshape(-1), self.beta1, self.beta2, self.eps,
                    1.0 / math.sqrt(1.0 - self.beta2 ** t), lr / (1.0 - self.beta1 ** t))

    def moments(self, name, g):
        """The moment estimates m, v of parameter `name` and the count t of its updates, this one
        included."""
        state = self.state.setdefault(name, {})
        state["t"] = state.get("t", 0) + 1
        return self.slot(name, "m", g), self.slot(name, "v", g), state["t"]

    def update(self, name, g, lr):
        m, v, t = self.moments(name, g)
        work = self.scratch(name, g)
        m *= self.beta1
        np.multiply(g, 1.0 - self.beta1, out=work)
        m += work
        v *= self.beta2
        np.multiply(g, g, out=work)
        work *= 1.0 - self.beta2
        v += work
        # lr * m_hat / (sqrt(v_hat) + eps), in place: m_hat = m / (1 - b1^t), v_hat likewise
        np.sqrt(v, out=work)
        work *= 1.0 / math.sqrt(1.0 - self.beta2 ** t)
        work += self.eps
        np.divide(m, work, out=work)
        work *= lr / (1.0 - self.beta1 ** t)
        return work


# ---- learning-rate schedules: functions of the update count t -> lr ------------------------------
def step_decay(lr, factor, every):
    """lr * factor ** (t // every): multiply by `factor` every `every` updates."""
    if not (lr > 0 and factor > 0 and int(every) >= 1):
        raise ValueError(f"step_decay needs lr > 0, factor > 0, every >= 1; "
                         f"got {lr!r}, {factor!r}, {every!r}")
    return lambda t: lr * factor ** (t // int(every))


def cosine_decay(lr, total_steps, final_lr=0.0):
    """final_lr + (lr - final_lr) (1 + cos(pi min(t, T) / T)) / 2 for T = total_steps."""
    if not (lr > 0 and int(total_steps) >= 1):
        raise ValueError(f"cosine_decay needs lr > 0 and total_steps >= 1; "
                         f"got {lr!r}, {total_steps!r}")
    T = int(total_steps)
    return lambda t: final_lr + (lr - final_lr) * (1.0 + math.cos(math.pi * min(t, T) / T)) / 2.0
