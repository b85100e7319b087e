"""Exercises 1-5: the centered difference, the tanh RNN's step and BPTT, truncation, the loss.

Shape legend: N batch, T time steps, D input features, H hidden units, C classes.

The solutions are the library's own functions (`reference`); every bug is that function with one
mistake made, written with the learner's signature (see exercise.py).
"""
import numpy as np

from ..cells import (RNN, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                     sequence_backward, step_cache)
from ..gradcheck import numerical_gradient
from ..losses import softmax_cross_entropy
from .exercise import Bug, Exercise, Output, Task, gradients_of
from .witness import cell_witness, loss_witness


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
                gradient_of=STEP_GRADIENTS, torch=cell_witness(RNN, sequence=False),
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


def bptt_variant(spec, dh, cache, carried=None, accumulate=True, every_output=True,
                 cut=lambda t: False):
    """The reference's loop around the reference step of the cell `spec`, with a mistake switched
    on: a state's gradient not carried into s_{t-1} (carried: the names that are), `=` where `+=`
    belongs, only the last step's output gradient, or the carry cut after the steps t where
    cut(t) (truncation)."""
    names = spec.state_names
    carried = names if carried is None else carried
    T = dh.shape[1]
    dx = np.zeros_like(cache["x"])
    dparams = [np.zeros_like(cache[name]) for name in spec.param_names]
    dnext = [np.zeros_like(cache[name + "0"]) for name in names]
    for t in reversed(range(T)):
        if every_output or t == T - 1:
            dnext[0] = dnext[0] + dh[:, t]
        dx[:, t], *rest = spec.step_backward(*dnext, step_cache(spec, cache, t))
        for total, g in zip(dparams, rest[len(names):]):
            total[...] = total + g if accumulate else g
        dprev = rest[:len(names)]
        dnext = [d if name in carried and not cut(t) else np.zeros_like(d)
                 for name, d in zip(names, dprev)]
    return (dx, *dprev, *dparams)


def carry_forgotten(dh, cache):
    return bptt_variant(RNN, dh, cache, carried=())


def weights_overwritten(dh, cache):
    return bptt_variant(RNN, dh, cache, accumulate=False)


def only_last_output(dh, cache):
    return bptt_variant(RNN, dh, cache, every_output=False)


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
                gradient_of=BPTT_GRADIENTS, torch=cell_witness(RNN, sequence=True),
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



# ---- 4. truncated_bptt --------------------------------------------------------------------------
TRUNCATED_SIZES = {"N": 3, "T": 7, "D": 4, "H": 5, "k": 3}


def truncated_inputs(rng, saturated):
    inputs = rnn_bptt_inputs(rng, saturated)
    N, T, D, H, k = TRUNCATED_SIZES.values()
    return dict(inputs, x=rng.standard_normal((N, T, D)), dh=rng.standard_normal((N, T, H)), k=k)


def rnn_truncated_backward(dh, cache, k):
    """The solution: the library's BPTT loop with windows of k steps."""
    return sequence_backward(RNN, dh, cache, truncate=k)


def run_truncated(fns, inputs):
    _, cache = fns["rnn_forward"](inputs["x"], inputs["h0"], inputs["Wx"], inputs["Wh"],
                                  inputs["b"])
    return tuple(fns["rnn_truncated_backward"](inputs["dh"], cache, inputs["k"]))


def not_truncated(dh, cache, k):
    return rnn_backward(dh, cache)


def cut_at_every_step(dh, cache, k):
    return sequence_backward(RNN, dh, cache, truncate=1)


def windows_from_the_end(dh, cache, k):
    T = dh.shape[1]
    return bptt_variant(RNN, dh, cache, cut=lambda t: t > 0 and (T - t) % k == 0)


TRUNCATED_BPTT = Exercise(
    name="truncated_bptt",
    title="Truncated BPTT in windows of k steps",
    teaches="Cut the sequence into windows [0, k), [k, 2k), ...: the forward still sees the whole "
            "history, but no gradient\ncrosses a window boundary, so dependencies longer than k "
            "steps get no learning signal (what fit(truncate_bptt=k) does).",
    stub="truncated_bptt.py",
    reference={"rnn_forward": rnn_forward, "rnn_truncated_backward": rnn_truncated_backward},
    tasks=(Task("rnn_truncated_backward", run_truncated,
                (Output("dx", "(N, T, D)", time_axis=True), Output("dh0", "(N, H)"),
                 Output("dWx", "(D, H)"), Output("dWh", "(H, H)"), Output("db", "(H,)")),
                bugs=(Bug("no truncation at all", "after step t with t a multiple of k (t > 0), "
                          "the gradient into h_{t-1} crosses into the previous window: drop it.",
                          not_truncated, ("dx", "dh0", "dWx", "dWh", "db"), at="t = 5"),
                      Bug("the carry cut at every step", "inside a window the carry flows as in "
                          "full BPTT; only the step at a window's start (t % k == 0) sends "
                          "nothing back.", cut_at_every_step, ("dx", "dh0", "dWx", "dWh", "db"),
                          at="t = 4"),
                      Bug("windows counted from the end", "fit cuts the sequence from its "
                          "start, [0, k), [k, 2k), ..., so the last window may be short: cut "
                          "where t % k == 0, not where (T - t) % k == 0.", windows_from_the_end,
                          ("dx", "dh0", "dWx", "dWh", "db"), at="t = 5"))),),
    make_inputs=truncated_inputs,
    sizes=TRUNCATED_SIZES,
    hints=("It is rnn_bptt's loop with one change: at some steps the gradient sent back to "
           "h_{t-1} is thrown away.",
           "Windows start at t = 0, k, 2k, ...; the step at a window's start (t % k == 0, t > 0) "
           "must not pass its dprev_h on.",
           "After `dx[:, t], dprev, ... = rnn_step_backward(dh[:, t] + dnext, step)`, set "
           "dnext = 0 * dprev if t > 0 and t % k == 0 else dprev; return dprev of step 0 as dh0."))


# ---- 5. sequence_loss ---------------------------------------------------------------------------
LOSS_SIZES = {"N": 3, "T": 5, "C": 4}


def sequence_loss_inputs(rng, saturated):
    N, T, C = LOSS_SIZES.values()
    lengths = np.array([5, 3, 4])  # padding at the end of sequences 1 and 2
    return {"logits": (5.0 if saturated else 1.0) * rng.standard_normal((N, T, C)),
            "labels": rng.integers(0, C, (N, T)),
            "mask": np.arange(T)[None, :] < lengths[:, None], "dloss": np.array(1.0)}


def loss_output(fns, inputs):
    return np.asarray(fns["softmax_cross_entropy"](inputs["logits"], inputs["labels"],
                                                   inputs["mask"])[0], float)


def run_sequence_loss(fns, inputs):
    loss, dlogits = fns["softmax_cross_entropy"](inputs["logits"], inputs["labels"],
                                                 inputs["mask"])
    return np.asarray(loss, float), dlogits


def mask_forgotten(logits, labels, mask):
    return softmax_cross_entropy(logits, labels)


def mean_over_every_step(logits, labels, mask):
    loss, dlogits = softmax_cross_entropy(logits, labels, mask)
    share = mask.sum() / mask.size  # the mask kept, but divided by N T, not the real steps
    return loss * share, dlogits * share


def label_not_subtracted(logits, labels, mask):
    loss, dlogits = softmax_cross_entropy(logits, labels, mask)
    onehot = np.eye(logits.shape[-1])[labels] * mask[..., None] / mask.sum()
    return loss, dlogits + onehot


SEQUENCE_LOSS = Exercise(
    name="sequence_loss",
    title="Softmax cross-entropy over time, with a padding mask",
    teaches="The loss is the mean over the real steps only: padded steps get no gradient and do "
            "not count in the mean;\nd loss / d logits = (softmax - onehot(label)) / (number of "
            "real steps), the gradient every sequence model starts from.",
    stub="sequence_loss.py",
    reference={"softmax_cross_entropy": softmax_cross_entropy},
    tasks=(Task("softmax_cross_entropy", run_sequence_loss,
                (Output("loss", "() a float"), Output("dlogits", "(N, T, C)", time_axis=True)),
                gradient_of=gradients_of(loss_output, "dloss", dlogits="logits"),
                torch=loss_witness,
                bugs=(Bug("the padding mask forgotten", "padded steps (mask False) are not part "
                          "of the data: leave them out of the sum and of the count, and give them "
                          "a zero gradient.", mask_forgotten, ("loss", "dlogits"), at="t = 4"),
                      Bug("the mean taken over every step, padded ones included", "divide by "
                          "the number of real steps, mask.sum(), not by N * T.",
                          mean_over_every_step, ("loss", "dlogits"), at="t = 4"),
                      Bug("the one-hot not subtracted", "d(-log softmax(a)[y]) / da = softmax(a) "
                          "- onehot(y): subtract 1 at the label.", label_not_subtracted,
                          ("dlogits",), at="t = 4"))),),
    make_inputs=sequence_loss_inputs,
    sizes=LOSS_SIZES,
    hints=("Work per item (sequence n, step t): -log p[label], then average over the items whose "
           "mask is True.",
           "Subtract the row maximum before exp (it cancels in the softmax and keeps exp from "
           "overflowing); count = mask.sum().",
           "loss = -sum(log_p[label] * mask) / count; dlogits = (p - onehot) * mask[..., None] "
           "/ count."))
