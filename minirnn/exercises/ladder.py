"""The ladder: each exercise's tasks, inputs, catalogued bugs and hints, in the order to do them.

Shape legend: N batch, T time steps, D input features, H hidden units.

The solutions are the library's own functions (`reference`); every bug is that function with one
mistake made, written with the learner's signature (see exercise.py).
"""
import numpy as np

from ..cells import (RNN, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                     step_cache)
from ..gradcheck import numerical_gradient
from .exercise import Bug, Exercise, Output, Task


def gradients_of(forward, upstream, **inputs):
    """A task's `gradient_of`: output d<input> is dLoss/d inputs[input] for the loss
    sum(upstream * forward(fns, inputs))."""
    return {output: (name, upstream, forward) for output, name in inputs.items()}


# ---- 1. numerical_gradient ----------------------------------------------------------------------
def tanh_layer(inputs):
    """The function whose gradient the learner's numerical_gradient takes: tanh(x @ W)."""
    return np.tanh(inputs["x"] @ inputs["W"])


def run_numerical_gradient(fns, inputs):
    grad = fns["numerical_gradient"](lambda: tanh_layer(inputs), inputs["W"], inputs["dout"])
    return grad, inputs["W"].copy()  # W must come back as it went in


def difference_quotients(f, p, dout, h, one_sided=False, restore=True, denominator=2.0):
    """The bugs of exercise 1, one switch each: a one-sided difference, p left perturbed, the
    wrong denominator."""
    grad = np.zeros(p.shape)
    for i in np.ndindex(p.shape):
        saved = p[i]
        p[i] = saved + h
        plus = np.sum(dout * f())
        p[i] = saved if one_sided else saved - h
        minus = np.sum(dout * f())
        grad[i] = (plus - minus) / (h if one_sided else denominator * h)
        if restore:
            p[i] = saved
    return grad


def one_sided_difference(f, p, dout, h=1e-5):
    return difference_quotients(f, p, dout, h, one_sided=True)


def divided_by_h(f, p, dout, h=1e-5):
    return difference_quotients(f, p, dout, h, denominator=1.0)


def p_not_restored(f, p, dout, h=1e-5):
    return difference_quotients(f, p, dout, h, restore=False)


def numerical_gradient_inputs(rng, saturated):
    scale = 2.0 if saturated else 0.5
    return {"x": rng.standard_normal((5, 3)), "W": scale * rng.standard_normal((3, 4)),
            "dout": rng.standard_normal((5, 4))}


NUMERICAL_GRADIENT = Exercise(
    name="numerical_gradient",
    title="The centered difference",
    teaches="The numerical gradient every other check stands on, and why it needs float64: its "
            "round-off is about eps / h,\nso h = 1e-5 gives 1e-11 in float64 but 1e-2 in float32.",
    stub="numerical_gradient.py",
    reference={"numerical_gradient": numerical_gradient},
    tasks=(Task("numerical_gradient", run_numerical_gradient,
                (Output("grad", "the shape of p, here (3, 4)"),
                 Output("W after the call", "(3, 4)")),
                bugs=(Bug("a one-sided difference", "(f(p + h) - f(p)) / h is only first-order "
                          "accurate: its error is O(h), about 1e-5 here. Evaluate f at p + h and "
                          "p - h and divide by 2h.", one_sided_difference, ("grad",)),
                      Bug("the centered difference divided by h", "f(p + h) - f(p - h) spans 2h, "
                          "so divide by 2h.", divided_by_h, ("grad",)),
                      Bug("p left perturbed", "put p[i] back after the two evaluations: every "
                          "later coordinate is measured at the wrong point, and the caller's "
                          "array comes back changed.", p_not_restored,
                          ("grad", "W after the call")))),),
    make_inputs=numerical_gradient_inputs,
    sizes={"p": "(3, 4)"},
    hints=("The loss is sum(dout * f()); the gradient with respect to p[i] is the slope of that "
           "number as p[i] moves.",
           "Nudge one coordinate at a time: evaluate the loss at p[i] + h and at p[i] - h, then "
           "restore p[i].",
           "grad[i] = (loss(p[i] + h) - loss(p[i] - h)) / (2 h), looping over "
           "np.ndindex(p.shape)."))


# ---- 2. rnn_step --------------------------------------------------------------------------------
STEP_SIZES = {"N": 3, "D": 4, "H": 5}


def rnn_step_inputs(rng, saturated):
    N, D, H = STEP_SIZES.values()
    scale = 1.5 if saturated else 0.4
    return {"x": rng.standard_normal((N, D)), "prev_h": 0.5 * rng.standard_normal((N, H)),
            "Wx": scale * rng.standard_normal((D, H)), "Wh": scale * rng.standard_normal((H, H)),
            "b": scale * rng.standard_normal(H), "dnext_h": rng.standard_normal((N, H))}


def step_forward_output(fns, inputs):
    return fns["rnn_step_forward"](inputs["x"], inputs["prev_h"], inputs["Wx"], inputs["Wh"],
                                   inputs["b"])[0]


def run_step_forward(fns, inputs):
    return (step_forward_output(fns, inputs),)


def run_step_backward(fns, inputs):
    _, cache = fns["rnn_step_forward"](inputs["x"], inputs["prev_h"], inputs["Wx"],
                                       inputs["Wh"], inputs["b"])
    return tuple(fns["rnn_step_backward"](inputs["dnext_h"], cache))


def recurrence_left_out(x, prev_h, Wx, Wh, b):
    return rnn_step_forward(x, np.zeros_like(prev_h), Wx, Wh, b)


def derivative_of_pre_activation(dnext_h, cache):
    """dtanh fed the pre-activation a instead of the output tanh(a)."""
    return rnn_step_backward(dnext_h, dict(cache, next_h=np.arctanh(cache["next_h"])))


def tanh_applied_twice(dnext_h, cache):
    """1 - tanh(h)^2 instead of 1 - h^2: tanh applied again to the forward's output."""
    return rnn_step_backward(dnext_h, dict(cache, next_h=np.tanh(cache["next_h"])))


def weight_gradient_from_new_state(dnext_h, cache):
    """dWh built from next_h instead of prev_h."""
    return rnn_step_backward(dnext_h, dict(cache, prev_h=cache["next_h"]))


STEP_GRADIENTS = gradients_of(step_forward_output, "dnext_h", dx="x", dprev_h="prev_h",
                              dWx="Wx", dWh="Wh", db="b")

RNN_STEP = Exercise(
    name="rnn_step",
    title="One tanh RNN step, forward and backward",
    teaches="The local derivative of tanh, taken from the forward's output (1 - h^2), and the "
            "four products\nthat carry a step's gradient to x, prev_h and the weights.",
    stub="rnn_step.py",
    reference={"rnn_step_forward": rnn_step_forward, "rnn_step_backward": rnn_step_backward},
    tasks=(Task("rnn_step_forward", run_step_forward, (Output("next_h", "(N, H)"),),
                bugs=(Bug("the recurrent term left out", "next_h = tanh(x @ Wx + prev_h @ Wh + "
                          "b): the state carries the past only through prev_h @ Wh.",
                          recurrence_left_out, ("next_h",)),)),
           Task("rnn_step_backward", run_step_backward,
                (Output("dx", "(N, D)"), Output("dprev_h", "(N, H)"), Output("dWx", "(D, H)"),
                 Output("dWh", "(H, H)"), Output("db", "(H,)")),
                gradient_of=STEP_GRADIENTS,
                bugs=(Bug("the derivative taken on the pre-activation", "d tanh(a)/da = 1 - "
                          "tanh(a)^2 = 1 - next_h^2: use the output you cached, not a.",
                          derivative_of_pre_activation, ("dx", "dprev_h", "dWx", "dWh", "db")),
                      Bug("tanh applied again before its derivative", "next_h is already "
                          "tanh(a): the derivative is 1 - next_h^2, not 1 - tanh(next_h)^2.",
                          tanh_applied_twice, ("dx", "dprev_h", "dWx", "dWh", "db")),
                      Bug("dWh built from the new state", "a = x @ Wx + prev_h @ Wh + b, so "
                          "dWh = prev_h.T @ da: the state that went in, not next_h.",
                          weight_gradient_from_new_state, ("dWh",))))),
    make_inputs=rnn_step_inputs,
    sizes=STEP_SIZES,
    hints=("Backward reads the forward in reverse: first undo next_h = tanh(a), then "
           "a = x @ Wx + prev_h @ Wh + b.",
           "da = dnext_h * (1 - next_h**2), from the cached output. Then each of x, prev_h, Wx, "
           "Wh gets one matrix product with da.",
           "dx = da @ Wx.T, dprev_h = da @ Wh.T, dWx = x.T @ da, dWh = prev_h.T @ da, "
           "db = da.sum(axis=0)."))


# ---- 3. rnn_bptt --------------------------------------------------------------------------------
BPTT_SIZES = {"N": 3, "T": 5, "D": 4, "H": 5}


def rnn_bptt_inputs(rng, saturated):
    N, T, D, H = BPTT_SIZES.values()
    scale = 1.2 if saturated else 0.4
    return {"x": rng.standard_normal((N, T, D)), "h0": 0.5 * rng.standard_normal((N, H)),
            "Wx": scale * rng.standard_normal((D, H)), "Wh": scale * rng.standard_normal((H, H)),
            "b": scale * rng.standard_normal(H), "dh": rng.standard_normal((N, T, H))}


def sequence_output(fns, inputs):
    return fns["rnn_forward"](inputs["x"], inputs["h0"], inputs["Wx"], inputs["Wh"],
                              inputs["b"])[0]


def run_bptt(fns, inputs):
    _, cache = fns["rnn_forward"](inputs["x"], inputs["h0"], inputs["Wx"], inputs["Wh"],
                                  inputs["b"])
    return tuple(fns["rnn_backward"](inputs["dh"], cache))


def bptt_variant(dh, cache, carry=True, accumulate=True, every_output=True):
    """The reference's loop around the reference step, with one mistake switched on: no carry
    into h_{t-1}, `=` where `+=` belongs, or only the last step's output gradient."""
    T = dh.shape[1]
    dx = np.zeros_like(cache["x"])
    dparams = [np.zeros_like(cache[name]) for name in RNN.param_names]
    dnext = dh[:, -1].copy() if not every_output else np.zeros_like(cache["h0"])
    for t in reversed(range(T)):
        dstep = (dnext + dh[:, t]) if every_output else dnext
        dstep = dstep if carry else dh[:, t]
        dx[:, t], dnext, *grads = rnn_step_backward(dstep, step_cache(RNN, cache, t))
        for total, g in zip(dparams, grads):
            total[...] = total + g if accumulate else g
    return (dx, dnext, *dparams)


def carry_forgotten(dh, cache):
    return bptt_variant(dh, cache, carry=False)


def weights_overwritten(dh, cache):
    return bptt_variant(dh, cache, accumulate=False)


def only_last_output(dh, cache):
    return bptt_variant(dh, cache, every_output=False)


BPTT_GRADIENTS = gradients_of(sequence_output, "dh", dx="x", dh0="h0", dWx="Wx", dWh="Wh",
                              db="b")

RNN_BPTT = Exercise(
    name="rnn_bptt",
    title="Backpropagation through time",
    teaches="h_t feeds the output at t and step t+1, so its gradient is the sum of both; the "
            "weights are shared\nby every step, so their gradients add up (+=) over time.",
    stub="rnn_bptt.py",
    reference={"rnn_forward": rnn_forward, "rnn_backward": rnn_backward},
    tasks=(Task("rnn_backward", run_bptt,
                (Output("dx", "(N, T, D)", time_axis=True), Output("dh0", "(N, H)"),
                 Output("dWx", "(D, H)"), Output("dWh", "(H, H)"), Output("db", "(H,)")),
                gradient_of=BPTT_GRADIENTS,
                bugs=(Bug("the carry into h_{t-1} forgotten", "step t's dprev_h is part of the "
                          "gradient on h_{t-1}: add it to dh[:, t-1] before step t-1's backward.",
                          carry_forgotten, ("dx", "dh0", "dWx", "dWh", "db"), at="t = 3"),
                      Bug("= instead of += on the shared weights", "every step uses the same Wx, "
                          "Wh and b: add each step's gradient into dWx, dWh, db.",
                          weights_overwritten, ("dWx", "dWh", "db")),
                      Bug("only the last step's output gradient", "dh[:, t] is the loss's "
                          "gradient on h_t at every t, not only at T-1: add it at each step.",
                          only_last_output, ("dx", "dh0", "dWx", "dWh", "db"), at="t = 3"))),),
    make_inputs=rnn_bptt_inputs,
    sizes=BPTT_SIZES,
    hints=("Walk t from T-1 down to 0 and call rnn_step_backward once per step, on "
           "step_cache(RNN, cache, t).",
           "Keep dnext, the gradient on h_t arriving from step t+1 (zeros at the start); the "
           "step's dnext_h is dh[:, t] + dnext.",
           "dx[:, t], dnext, dWx_t, dWh_t, db_t = rnn_step_backward(dh[:, t] + dnext, step); then "
           "dWx += dWx_t (and the others); return dx, dnext, dWx, dWh, db."))


LADDER = (NUMERICAL_GRADIENT, RNN_STEP, RNN_BPTT)
