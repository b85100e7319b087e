"""A predictive-coding stack: each layer predicts its own next input, only the prediction error is
passed up, and the upper layer's state is fed back down as an expectation.

Shape legend: N batch, T time steps, D input features (also the width of every layer's input
and error), L layers (numbered 1..L), H_l hidden units of layer l, G the cell's gate blocks.

Forward, row-vector layout as in the code, at every step t = 0 .. T-1 in three passes:

    errors, bottom-up      u^1_t = x_t;   e^l_t = u^l_t - p^l_{t-1};   u^{l+1}_t = e^l_t    (N, D)
    states, top-down       s^L_t = cell_L(u^L_t, s^L_{t-1})
                           s^l_t = cell_l([u^l_t, h^{l+1}_t], s^l_{t-1})        l < L     (N, H_l)
    predictions            p^l_t = h^l_t @ V_l + c_l           V_l: (H_l, D)   c_l: (D,)

cell_l is any registered cell (minirnn/cells; its states s are h, or h and c) and runs through
its own step functions. p^l_t is layer l's prediction of its next input u^l_{t+1}; before the
first step p^l_{-1} = h^l_{-1} @ V_l + c_l, read from the initial state. So layer 1 forecasts the
data (p^1_t is the stack's forecast of x_{t+1}, e^1_{t+1} its error), and layer l >= 2 hears only
the news from below, e^{l-1}, and predicts what is still predictable in it. The expectation from
above, h^{l+1}_t, enters layer l's gates beside its input: the last H_{l+1} rows of
Wx_l: (D + H_{l+1}, G*H_l) are the learned top-down map. Layer l+1 runs first at step t, so layer
l hears what layer l+1 made of this step's news. Every quantity at t depends on x_0 .. x_t only.

Losses: loss_l = mean of (e^l_t)^2 over N, t and D (`prediction_error_loss`).
  end to end   every parameter gets d(sum_l w_l loss_l)/d(parameter) by BPTT through the whole
               stack (w = 1 for all layers, or w = (1, 0, ..., 0): the data loss alone).
  local        layer l's parameters get d loss_l / d(parameter) with its input from below u^l and
               the expectation from above h^{l+1} held fixed (stop-gradient): BPTT inside the
               layer only, no gradient crossing layers. `backward(..., local=True)`.

Backward, the forward in reverse at each t = T-1 .. 0, from dp^l_t (made at t+1):

    states, bottom-up      dh^l_t = (from step t+1) + dp^l_t @ V_l.T + (from cell_{l-1}'s input)
                           du^l_t, dh^{l+1}_t, ds^l_{t-1}, dparams_l = cell_l backward
    errors, top-down       de^l_t = dLoss/de^l_t + du^{l+1}_t          (e^l_t is u^{l+1}_t)
                           du^l_t += de^l_t;   dp^l_{t-1} = -de^l_t;   dx_t = du^1_t
local=True cuts the two routes between layers: du^{l+1}_t into de^l_t, and dh^{l+1}_t from
layer l's input.

Not built on StackedRNN: there each layer runs over the whole sequence before the next starts;
here layer l at step t needs layer l+1 at step t, so the stack steps through time as one.
"""
from dataclasses import dataclass

import numpy as np

from .cells import get_cell
from .initializers import init_cell_params
from .losses import mean_squared_error
from .model import ModelCache
from .validation import (check_dtype, check_float_array, check_gradient, check_int, check_sequence,
                         check_shape, check_sizes)

RULES = ("end_to_end", "local")


@dataclass
class PredictiveCodingCache:
    """What `PredictiveCodingStack.forward` keeps for `backward`, and for a reader.

    x               (N, T, D) the input
    initial_states  [{state name: (N, H_l)}] per layer, as the run started
    hidden          [(N, T, H_l)] per layer: h^l_t
    steps           [[step cache of cell_l at t for t in 0..T-1]] per layer (cells/spec.py)
    errors          (N, T, L, D): e^l_t, what forward returned
    predictions     (N, T, L, D): p^l_t, layer l's prediction of u^l_{t+1}
    final_states    [{state name: (N, H_l)}] per layer, after the last step
    params          {key: array}: the parameters this run used (the arrays, not copies)
    """
    x: np.ndarray
    initial_states: list
    hidden: list
    steps: list
    errors: np.ndarray
    predictions: np.ndarray
    final_states: list
    params: dict


class PredictiveCodingStack:
    """L layers of one cell type ('rnn', 'lstm', 'gru' or a registered cell), wired as in the
    module docstring.

    input_size: D.   hidden_sizes: [H_1, ..., H_L].   dtype: np.float64 or np.float32.
    seed: for the initial parameters. init, forget_bias: as in StackedRNN (initializers.py).
    Parameters: "layers.<l>.cell.<name>" (the cell's, Wx: (D + H_{l+1}, G*H_l), D for the top
    layer) and "layers.<l>.readout.V" (H_l, D), "layers.<l>.readout.c" (D,), both drawn from
    U(-1/sqrt(H_l), 1/sqrt(H_l)).
    """

    def __init__(self, cell, input_size, hidden_sizes, dtype=np.float64, seed=0, init="uniform",
                 forget_bias=0.0):
        self.spec = get_cell(cell)
        self.input_size, self.hidden_sizes = check_sizes(input_size, hidden_sizes)
        self.dtype = check_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params = {}
        for l, H in enumerate(self.hidden_sizes, start=1):
            cell_params = init_cell_params(self.spec, self.cell_input_size(l), H, rng, self.dtype,
                                           init=init, forget_bias=forget_bias)
            self.params.update(zip(self.cell_keys(l), cell_params.values()))
            bound = 1.0 / np.sqrt(H)
            for name, shape in (("V", (H, self.input_size)), ("c", (self.input_size,))):
                self.params[f"layers.{l}.readout.{name}"] = rng.uniform(
                    -bound, bound, shape).astype(self.dtype)

    # ---- sizes, parameters and states ---------------------------------------------------------
    @property
    def num_layers(self):
        return len(self.hidden_sizes)

    def cell_input_size(self, l):
        """The width of cell l's input: D, plus H_{l+1} for the expectation from above."""
        return self.input_size + (self.hidden_sizes[l] if l < self.num_layers else 0)

    def cell_keys(self, l):
        """The names of layer l's cell parameters, in the cell's order."""
        return [f"layers.{l}.cell.{name}" for name in self.spec.param_names]

    def layer_keys(self, l):
        """All of layer l's parameter names: its cell's and its readout's."""
        return self.cell_keys(l) + [f"layers.{l}.readout.V", f"layers.{l}.readout.c"]

    def zero_states(self, N):
        """Initial states of zeros: a list over layers of {state name: (N, H_l)}."""
        return [{name: np.zeros((N, H), self.dtype) for name in self.spec.state_names}
                for H in self.hidden_sizes]

    def random_states(self, N, rng, scale=0.5):
        """Random nonzero initial states, the layout of `zero_states` (for gradient checks)."""
        return [{name: (scale * rng.standard_normal(s.shape)).astype(self.dtype)
                 for name, s in layer.items()} for layer in self.zero_states(N)]

    def check_states(self, states, N):
        """None (zeros) or a list over layers of {state name: (N, H_l)}, cast to the dtype."""
        if states is None:
            return self.zero_states(N)
        names = self.spec.state_names
        if (not isinstance(states, (list, tuple)) or len(states) != self.num_layers
                or not all(isinstance(s, dict) and set(s) == set(names) for s in states)):
            raise ValueError(f"initial_states must be None or a list of {self.num_layers} dicts "
                             f"(one per layer) with keys {names}; got {states!r:.100}")
        for l, (layer, H) in enumerate(zip(states, self.hidden_sizes), start=1):
            for name, value in layer.items():
                check_float_array(f"initial_states[{l - 1}][{name!r}]", value)
                check_shape(f"initial_states[{l - 1}][{name!r}] (layer {l})", value, (N, H))
        return [{k: v.astype(self.dtype, copy=False) for k, v in layer.items()} for layer in states]

    # ---- forward and backward -----------------------------------------------------------------
    def forward(self, x, initial_states=None):
        """x: (N, T, D); initial_states: None (zeros) or the layout of `zero_states`.

        Returns errors (N, T, L, D), e^l_t with layer l at errors[:, :, l - 1], and the
        PredictiveCodingCache (its predictions[:, t, 0] is the forecast of x_{t+1}).
        """
        check_sequence("x", x, self.input_size)
        x = x.astype(self.dtype, copy=False)
        N, T, D = x.shape
        L, spec = self.num_layers, self.spec
        initial = self.check_states(initial_states, N)
        params = dict(self.params)
        cells = [[params[k] for k in self.cell_keys(l)] for l in range(1, L + 1)]
        readouts = [(params[f"layers.{l}.readout.V"], params[f"layers.{l}.readout.c"])
                    for l in range(1, L + 1)]
        errors, predictions = np.empty((N, T, L, D), self.dtype), np.empty((N, T, L, D), self.dtype)
        hidden = [np.empty((N, T, H), self.dtype) for H in self.hidden_sizes]
        steps = [[None] * T for _ in range(L)]
        states = [[layer[name] for name in spec.state_names] for layer in initial]
        prediction = [readout(s[0], *V_c) for s, V_c in zip(states, readouts)]  # p^l_{-1}
        for t in range(T):
            u = x[:, t]
            for k in range(L):  # errors, bottom-up (k = l - 1)
                errors[:, t, k] = u - prediction[k]
                u = errors[:, t, k]
            for k in reversed(range(L)):  # states, top-down: layer l+1 is already at step t
                u = x[:, t] if k == 0 else errors[:, t, k - 1]
                z = u if k == L - 1 else np.concatenate([u, states[k + 1][0]], axis=1)
                *states[k], steps[k][t] = spec.step_forward(z, *states[k], *cells[k], None)
                hidden[k][:, t] = states[k][0]
                prediction[k] = predictions[:, t, k] = readout(states[k][0], *readouts[k])
        final = [dict(zip(spec.state_names, s)) for s in states]
        cache = PredictiveCodingCache(x, initial, hidden, steps, errors, predictions, final, params)
        return errors.copy(), cache

    def backward(self, derrors, cache, local=False, return_dinitial=False):
        """derrors: (N, T, L, D) = dLoss/de^l_t. local: cut every route between layers (the local
        rule: layer l's gradients are then those of the loss on e^l alone, its input from below
        and the expectation from above held fixed).

        Returns dx: (N, T, D) and grads (the keys of params); with return_dinitial=True also the
        gradients on the initial states (their layout).
        """
        if not isinstance(cache, PredictiveCodingCache):
            raise TypeError(f"cache must be the PredictiveCodingCache that forward returned; "
                            f"got {type(cache).__name__}")
        check_gradient("derrors", derrors, cache.errors.shape)
        N, T, L, D = derrors.shape
        spec, num_states = self.spec, len(self.spec.state_names)
        grads = {key: np.zeros_like(value) for key, value in cache.params.items()}
        layer_grads = [[grads[k] for k in self.layer_keys(l)] for l in range(1, L + 1)]
        dx = np.zeros_like(cache.x)
        dstates = [[np.zeros_like(layer[name]) for name in spec.state_names]
                   for layer in cache.initial_states]  # dLoss/ds^l_t, from step t+1
        dprediction = [np.zeros((N, D), self.dtype) for _ in range(L)]  # dLoss/dp^l_t, from t+1
        for t in reversed(range(T)):
            # forward: states top-down, s^l_t = cell_l([u^l_t, h^{l+1}_t], s^l_{t-1});
            #          p^l_t = h^l_t @ V_l + c_l
            dinput, dabove = [None] * L, None  # dabove: dLoss/dh^{l+1}_t via cell l's input
            for k in range(L):
                *dcell, dV, dc = layer_grads[k]
                dh = dstates[k][0] + readout_backward(dprediction[k], cache.hidden[k][:, t],
                                                      cache.params[f"layers.{k + 1}.readout.V"],
                                                      dV, dc)
                if dabove is not None:
                    dh += dabove
                dz, *rest = spec.step_backward(dh, *dstates[k][1:], cache.steps[k][t])
                dstates[k] = rest[:num_states]
                for g, part in zip(dcell, rest[num_states:]):
                    g += part
                dinput[k] = dz[:, :D]
                dabove = dz[:, D:] if k < L - 1 and not local else None
            # forward: errors bottom-up, e^l_t = u^l_t - p^l_{t-1}; u^{l+1}_t = e^l_t; u^1_t = x_t
            dinput_above = None  # dLoss/du^{l+1}_t
            for k in reversed(range(L)):
                de = derrors[:, t, k] if dinput_above is None else derrors[:, t, k] + dinput_above
                dprediction[k] = -de
                dinput_above = None if local else dinput[k] + de
                if k == 0:
                    dx[:, t] = dinput[0] + de
        # forward: p^l_{-1} = h^l_{-1} @ V_l + c_l
        for k in range(L):
            *_, dV, dc = layer_grads[k]
            dstates[k][0] += readout_backward(dprediction[k], cache.initial_states[k]["h"],
                                              cache.params[f"layers.{k + 1}.readout.V"], dV, dc)
        results = (dx, {key: grads[key] for key in self.params})
        dinitial = [dict(zip(spec.state_names, d)) for d in dstates]
        return results + ((dinitial,) if return_dinitial else ())

    def __repr__(self):
        return (f"PredictiveCodingStack({self.spec.name!r}, input_size={self.input_size}, "
                f"hidden_sizes={self.hidden_sizes}, dtype={self.dtype.name})")


def forecast_jacobian(stack, x, t, initial_states=None):
    """The Jacobian of the stack's forecast of x_{t+1}, p^1_t, with respect to every input step
    it depends on: J (N, D, t + 1, D), J[n, i, s, j] = d p^1_t[n, i] / d x_s[n, j] for s <= t
    (every later input step has no influence: the stack is causal). x: (N, T, D) with t < T.

    p^1_t = x_{t+1} - e^1_{t+1}, so the forecast's gradient is minus the gradient of the error
    e^1_{t+1}: the stack runs on x_0 .. x_t and one more step (zeros: its value does not matter),
    and `backward` is called once per forecast dimension i with derrors = -1 on e^1_{t+1}[:, i].
    The rows of a batch are independent, so one pass serves every n. Norms over (i, j) per s show
    how far back the forecast looks.
    """
    check_sequence("x", x, stack.input_size)
    N, T, D = x.shape
    t = check_int("t", t, minimum=0)
    if t >= T:
        raise ValueError(f"t must be a step of x, 0 <= t < T = {T}; got {t}")
    padded = np.concatenate([x[:, :t + 1], np.zeros((N, 1, D), x.dtype)], axis=1)  # (N, t+2, D)
    _, cache = stack.forward(padded, initial_states)
    J = np.empty((N, D, t + 1, D), stack.dtype)
    for i in range(D):
        derrors = np.zeros_like(cache.errors)
        derrors[:, t + 1, 0, i] = -1.0  # p^1_t = x_{t+1} - e^1_{t+1}
        dx, _ = stack.backward(derrors, cache)
        J[:, i] = dx[:, :t + 1]
    return J


def readout(h, V, c):
    """A layer's prediction of its next input: p = h @ V + c. h: (N, H) -> (N, D)."""
    return h @ V + c


def readout_backward(dp, h, V, dV, dc):
    """Backward of `readout` for one step: adds into dV (H, D) and dc (D,), returns dh (N, H)."""
    # forward: p = h @ V + c
    dV += h.T @ dp
    dc += dp.sum(axis=0)
    return dp @ V.T


# ---- training -----------------------------------------------------------------------------------
def prediction_error_loss(layer_weights=None, warmup=0):
    """The loss sum_l w_l loss_l, loss_l = mean of (e^l_t - target^l_t)^2 over N, D and the steps
    t >= warmup (the first steps of a window start from zero states), as a loss function
    (errors, target, mask=None) -> (loss, derrors) for `train.fit`. The target of every error is
    zero: pass np.zeros_like(errors). layer_weights: None (1 for every layer: the sum of the layer
    losses) or one weight per layer ((1, 0, ..., 0): the data loss alone)."""
    warmup = check_int("warmup", warmup, minimum=0)

    def loss(errors, target, mask=None):
        N, T, L, _ = errors.shape
        weights = np.ones(L) if layer_weights is None else np.asarray(layer_weights, float)
        if weights.shape != (L,):
            raise ValueError(f"layer_weights must hold one weight per layer ({L}); "
                             f"got {layer_weights!r}")
        if warmup >= T:
            raise ValueError(f"warmup ({warmup}) must be shorter than the windows (T = {T})")
        steps = np.broadcast_to(np.arange(T) >= warmup, (N, T))
        steps = steps if mask is None else steps & np.asarray(mask, bool)
        total, derrors = 0.0, np.zeros_like(errors)
        for k in np.flatnonzero(weights):
            value, derrors[:, :, k] = mean_squared_error(errors[:, :, k], target[:, :, k], steps)
            total += weights[k] * value
            derrors[:, :, k] *= weights[k]
        return total, derrors

    return loss


class Learner:
    """A PredictiveCodingStack with its learning rule, in the protocol `train.fit` trains
    (`model.Recurrent` is the same adapter for a StackedRNN):

        errors, cache = learner.forward(x)          # errors: (N, T, L, D)
        dx, grads = learner.backward(derrors, cache)

    rule: "end_to_end" (BPTT through the whole stack) or "local" (no gradient crosses layers).
    `params` is the stack's own dict, so optimizer updates reach the stack. Train with
    fit(learner, prediction_error_loss(...), (x, np.zeros(errors' shape)), ...).
    """

    def __init__(self, stack, rule="end_to_end"):
        if not isinstance(stack, PredictiveCodingStack):
            raise TypeError(f"stack must be a PredictiveCodingStack; got {type(stack).__name__}")
        if rule not in RULES:
            raise ValueError(f"rule must be one of {RULES}; got {rule!r}")
        self.stack, self.rule = stack, rule

    @property
    def params(self):
        return self.stack.params

    def forward(self, x, mask=None, initial_states=None, train=False, rng=None):
        """x: (N, T, D). mask must be None (the stack runs every step); train and rng are part
        of fit's protocol and change nothing (the stack has no dropout). Returns the errors and a
        model.ModelCache whose final_states let fit carry states between windows."""
        if mask is not None:
            raise ValueError("mask must be None: the predictive-coding stack runs every step")
        errors, cache = self.stack.forward(x, initial_states)
        return errors, ModelCache({"stack": cache}, cache.final_states, None)

    def backward(self, derrors, cache, dlayers=None, dgates=None):
        """derrors: (N, T, L, D). Returns dx and grads by this learner's rule. dlayers, dgates:
        where fit hands a StackedRNN its regularisers' gradients (regularisers.py); none of them
        reads this stack, so they must be empty."""
        if dlayers or dgates:
            raise ValueError("dlayers and dgates must be empty: no regulariser reads a "
                             "predictive-coding stack")
        return self.stack.backward(derrors, cache.layers["stack"], local=self.rule == "local")

    def __repr__(self):
        return f"Learner({self.stack!r}, rule={self.rule!r})"
