"""Gradient checking by centered finite differences: a tool for learners and for our own tests.

The idea: to check dLoss/dp for a function out = f(p) with a hand-written backward, pick a random
upstream gradient dout and the scalar loss = sum(dout * f(p)). Its exact gradient is what backward
returns for that dout; its numerical gradient, coordinate by coordinate, is

    (loss(p + h e_i) - loss(p - h e_i)) / (2 h)          error O(h^2)

and the two are compared with the relative error max|a - n| / max(max|a| + max|n|, floor), taken
over the whole array. (An element-by-element ratio would be dominated by entries whose true
gradient is ~1e-5 or smaller, where the ~1e-11 round-off of the differences alone exceeds 1e-6;
the floor keeps an all-zero gradient from dividing by zero.) In float64 with h = 1e-5 a correct
backward gives errors around 1e-9 or smaller; a wrong one, 1e-2 or larger.

Example (your own function):

    W = rng.standard_normal((3, 4)); x = rng.standard_normal((5, 3))
    dout = rng.standard_normal((5, 4))
    numeric = numerical_gradient(lambda: np.tanh(x @ W), W, dout)
    analytic = x.T @ (dout * (1 - np.tanh(x @ W) ** 2))
    relative_error(analytic, numeric)   # ~1e-10
"""
import numpy as np


def relative_error(analytic, numeric, floor=1e-8):
    """max|a - n| / max(max|a| + max|n|, floor) over the whole array."""
    analytic, numeric = np.asarray(analytic, dtype=np.float64), np.asarray(numeric, dtype=np.float64)
    if analytic.shape != numeric.shape:
        raise ValueError(f"analytic and numeric gradients differ in shape: "
                         f"{analytic.shape} vs {numeric.shape}")
    if analytic.size == 0:
        return 0.0
    scale = max(np.max(np.abs(analytic)) + np.max(np.abs(numeric)), floor)
    return float(np.max(np.abs(analytic - numeric)) / scale)


def contract(out, dout):
    """sum(dout * out), where out and dout are arrays or matching tuples/lists of arrays
    (None in dout means no gradient on that output)."""
    if isinstance(out, (tuple, list)):
        return sum(contract(o, d) for o, d in zip(out, dout) if d is not None)
    return float(np.sum(np.asarray(dout, dtype=np.float64) * out))


def random_indices(shape, count, rng):
    """`count` distinct random multi-indices into an array of `shape` (all of them if fewer)."""
    size = int(np.prod(shape))
    flat = rng.choice(size, size=min(count, size), replace=False)
    return [np.unravel_index(i, shape) for i in np.sort(flat)]


def numerical_gradient(f, p, dout, h=1e-5, indices=None):
    """Centered-difference gradient of sum(dout * f()) with respect to the array p.

    f: a function of no arguments that reads p (p is perturbed in place and restored).
    dout: upstream gradient(s) matching f's output(s).
    indices: None for every coordinate (returns an array shaped like p), or a list of
             multi-indices (the sparse mode; returns a 1-D array of those coordinates).
    """
    coords = list(np.ndindex(p.shape)) if indices is None else indices
    grad = np.zeros(len(coords))
    for k, i in enumerate(coords):
        saved = p[i]
        p[i] = saved + h
        loss_plus = contract(f(), dout)
        p[i] = saved - h
        loss_minus = contract(f(), dout)
        p[i] = saved
        grad[k] = (loss_plus - loss_minus) / (2 * h)
    return grad.reshape(p.shape) if indices is None else grad


def check_gradients(f, inputs, analytic, dout, h=1e-5, num_coords=None, seed=0, floor=1e-8):
    """Compare analytic gradients with centered differences for several inputs at once.

    f: function of no arguments returning the output(s); it must read the arrays in `inputs`.
    inputs: {name: array} perturbed in place; analytic: {name: dLoss/d array} for the same names.
    num_coords: None checks every coordinate; an int checks that many random ones per input.
    Returns {name: max relative error}.
    """
    rng = np.random.default_rng(seed)
    errors = {}
    for name, p in inputs.items():
        if analytic[name].shape != p.shape:
            raise ValueError(f"analytic gradient for {name!r} has shape {analytic[name].shape}; "
                             f"expected {p.shape}")
        indices = None if num_coords is None else random_indices(p.shape, num_coords, rng)
        numeric = numerical_gradient(f, p, dout, h=h, indices=indices)
        picked = analytic[name] if indices is None else np.array([analytic[name][i] for i in indices])
        errors[name] = relative_error(picked, numeric, floor=floor)
    return errors


class GradientReport(dict):
    """{name: max relative error}, printed as a table with the worst entry marked."""

    def worst(self):
        """(name, error) of the largest relative error."""
        name = max(self, key=self.get)
        return name, self[name]

    def __str__(self):
        width = max(len(k) for k in self)
        lines = [f"{'gradient of':<{width}}  max rel. error"]
        lines += [f"{k:<{width}}  {v:.2e}" for k, v in self.items()]
        name, error = self.worst()
        lines.append(f"worst: {name} {error:.2e}")
        return "\n".join(lines)


class BackendReports(dict):
    """{backend: GradientReport} from checking one model on several backends, printed side by
    side."""

    def worst(self):
        """(backend, name, error) of the largest relative error on any backend."""
        backend = max(self, key=lambda b: self[b].worst()[1])
        return (backend, *self[backend].worst())

    def __str__(self):
        names = list(next(iter(self.values())))
        width = max(len(k) for k in names)
        lines = [f"{'gradient of':<{width}}  " + "  ".join(f"{b:>9}" for b in self)]
        lines += [f"{k:<{width}}  " + "  ".join(f"{r[k]:9.2e}" for r in self.values())
                  for k in names]
        backend, name, error = self.worst()
        lines.append(f"worst: {name} {error:.2e} ({backend})")
        return "\n".join(lines)


def check_model(net, x, initial_states=None, dlayers=True, h=1e-5, num_coords=None, seed=0,
                backend="numpy"):
    """Gradient-check a whole `StackedRNN`: every parameter, the input and the initial states.

    The loss is sum(dy * y) + sum over layers of sum(dstate * final state) (+ with dlayers=True a
    random gradient injected at every intermediate layer's output), with random dy, dstates and
    dlayers. Runs in float64 (a float32 net is checked through a float64 copy). initial_states
    defaults to random nonzero states so their gradients are checked too.

    backend: "numpy" (default: the reference you read, so an edit to a cell's step backward shows
    here), "numba" (the kernels), or a tuple of both to check each. Returns a GradientReport
    {name: max relative error}, or for a tuple a BackendReports {backend: GradientReport}.
    """
    if isinstance(backend, (tuple, list)):
        return BackendReports({b: check_model(net, x, initial_states, dlayers, h, num_coords,
                                              seed, b) for b in backend})
    if net.dtype != np.float64:
        net = net.astype(np.float64)
    x = np.array(x, dtype=np.float64)
    rng = np.random.default_rng(seed)
    if initial_states is None:
        initial_states = net.random_states(x.shape[0], rng)
    initial_states = [{k: np.array(v, dtype=np.float64) for k, v in s.items()}
                      for s in initial_states]
    y, states, cache = net.forward(x, initial_states, backend=backend)
    dy = rng.standard_normal(y.shape)
    dstates = [{k: rng.standard_normal(v.shape) for k, v in s.items()} for s in states]
    widths = net.output_widths()
    injected = {l: rng.standard_normal(x.shape[:2] + (widths[l - 1],))
                for l in range(1, net.num_layers)} if dlayers else None
    dx, grads, dinitial = net.backward(dy, cache, dstates, injected, return_dinitial=True)

    def f():
        y, states, cache = net.forward(x, initial_states, backend=backend)
        outputs = [y] + [s[k] for s in states for k in sorted(s)]
        outputs += [cache.outputs[l] for l in injected] if injected else []
        return outputs

    dout = [dy] + [s[k] for s in dstates for k in sorted(s)]
    dout += list(injected.values()) if injected else []
    inputs = dict(net.params, x=x)
    analytic = dict(grads, x=dx)
    for l, state in enumerate(initial_states, start=1):
        for k in state:
            inputs[f"initial_states.{l}.{k}"] = state[k]
            analytic[f"initial_states.{l}.{k}"] = dinitial[l - 1][k]
    return GradientReport(check_gradients(f, inputs, analytic, dout, h=h,
                                          num_coords=num_coords, seed=seed))
