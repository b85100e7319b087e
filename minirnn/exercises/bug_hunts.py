"""Exercise 15, the bug hunts: three shipped backwards, each with one planted bug. The learner
finds it with the gradient checker and the Jacobian tools and fixes it; the checker confirms the
fix and names the bug it sees.

Shape legend: N batch, T time steps, D input features, H hidden units.

Each stub is a working function with one line wrong (`planted=True`: the untouched stub is "not
started"); the solution is the library's function, and the catalogue holds the planted bug and
the other mistakes a fix can leave behind. Hunts 1 and 2 are exercises 8 and 7's task (the same
run, outputs and opinions) with a catalogue of their own.
"""
from dataclasses import replace

import numpy as np

from ..cells import RNN, gru_step_backward, rnn_step_backward, rnn_step_forward
from .exercise import Bug, Exercise, Output, Task, gradients_of
from .gated import ALL_GATES_OFF, GRU_STEP, LSTM_BPTT, SIZES, cell_carry_dropped, cell_inputs

HOW = ("Run the check to see what is wrong and where; gradcheck.check_gradients and the "
       "Jacobian tools (docs/derivations.md) take you to the line.")


# ---- bug_hunt_1: a GRU step ---------------------------------------------------------------------
def negate_block(a, k, gates):
    """a with its gate block k (along the last axis) negated."""
    blocks = np.split(a, gates, axis=-1)
    blocks[k] = -blocks[k]
    return np.concatenate(blocks, axis=-1)


def update_gradient_negated(dnext_h, cache):
    """dz = dnext_h * (n - prev_h): the z block of every gradient built from it negated (dx and
    dprev_h read it through the z columns of Wx and Wh)."""
    flipped = dict(cache, Wx=negate_block(cache["Wx"], 1, 3), Wh=negate_block(cache["Wh"], 1, 3))
    dx, dprev_h, dWx, dWh, db, dbhn = gru_step_backward(dnext_h, flipped)
    return (dx, dprev_h, *(negate_block(g, 1, 3) for g in (dWx, dWh, db)), dbhn)


BUG_HUNT_1 = Exercise(
    name="bug_hunt_1",
    title="Bug hunt 1: a GRU step backward",
    teaches="Read a gate's gradient off its block: a check that says which of r, z, n is off "
            "points at two or three lines.\n" + HOW,
    stub="bug_hunt_1.py",
    reference=GRU_STEP.reference,
    tasks=(replace(GRU_STEP.tasks[0], bugs=(
        Bug("dz with its sign flipped", "next_h = (1 - z) n + z prev_h, so d next_h / dz = "
            "prev_h - n.", update_gradient_negated, ("dx", "dprev_h", "dWx", "dWh", "db"),
            at="gate blocks off: z (right: r, n)"),
        GRU_STEP.tasks[0].bugs[0])),),
    make_inputs=GRU_STEP.make_inputs,
    sizes=SIZES,
    hints=("The check says which gate block of dWx, dWh and db is off; only a few lines of the "
           "backward touch that gate.",
           "The z block is off and dbhn is right: the error is upstream of dz * z(1-z). Write "
           "d next_h / dz from next_h = (1 - z) n + z prev_h.",
           "dz = dnext_h * (prev_h - n)."),
    planted=True)


# ---- bug_hunt_2: an LSTM sequence backward ------------------------------------------------------
BUG_HUNT_2 = Exercise(
    name="bug_hunt_2",
    title="Bug hunt 2: an LSTM sequence backward",
    teaches="A sequence backward that passes at T = 1 and fails at T = 2 drops a carry: the "
            "first diverging step says which.\n" + HOW,
    stub="bug_hunt_2.py",
    reference=LSTM_BPTT.reference,
    tasks=(replace(LSTM_BPTT.tasks[0], bugs=(
        Bug("the cell-state carry dropped", "the step's dprev_c must become the next iteration's "
            "dnext_c; check what each name in the unpacking is bound to.", cell_carry_dropped,
            ("dx", "dh0", "dc0", "dWx", "dWh", "db"), at=("t = 3", ALL_GATES_OFF)),
        LSTM_BPTT.tasks[0].bugs[2])),),
    make_inputs=LSTM_BPTT.make_inputs,
    sizes=SIZES,
    hints=("The last step is right and step T-2 is wrong: look at what flows from one iteration "
           "to the next.",
           "Two gradients flow back from step t to t-1; follow each name from the unpacking of "
           "lstm_step_backward's results to its next use.",
           "The unpacking binds dprev_c, but the next iteration reads dnext_c: write "
           "`dx[:, t], dnext_h, dnext_c, dWx_t, dWh_t, db_t = ...`."),
    planted=True)


# ---- bug_hunt_3: a tanh step with recurrent dropout ---------------------------------------------
def dropout_inputs(rng, saturated):
    """rnn_step's inputs plus a recurrent-dropout mask (inverted dropout, rate 0.4)."""
    inputs = cell_inputs(RNN, rng, saturated)
    keep = rng.random(inputs["prev_h"].shape) > 0.4
    return dict(inputs, recurrent_mask=keep / 0.6)


def dropout_step_output(fns, inputs):
    return fns["rnn_step_forward"](inputs["x"], inputs["prev_h"], inputs["Wx"], inputs["Wh"],
                                   inputs["b"], inputs["recurrent_mask"])[0]


def run_dropout_step(fns, inputs):
    _, cache = fns["rnn_step_forward"](inputs["x"], inputs["prev_h"], inputs["Wx"], inputs["Wh"],
                                       inputs["b"], inputs["recurrent_mask"])
    return tuple(fns["rnn_step_backward"](inputs["dnext_h"], cache))


def mask_forgotten_in(*outputs):
    """The reference, with the outputs at these positions taken from a run without the mask."""
    def bug(dnext_h, cache):
        right = rnn_step_backward(dnext_h, cache)
        unmasked = rnn_step_backward(dnext_h, dict(cache, recurrent_mask=None))
        return tuple(u if k in outputs else r for k, (r, u) in enumerate(zip(right, unmasked)))
    return bug


BUG_HUNT_3 = Exercise(
    name="bug_hunt_3",
    title="Bug hunt 3: a tanh step with recurrent dropout",
    teaches="With recurrent dropout the step reads prev_h * m: every gradient that crosses that "
            "product carries the mask.\n" + HOW,
    stub="bug_hunt_3.py",
    reference={"rnn_step_forward": rnn_step_forward, "rnn_step_backward": rnn_step_backward},
    tasks=(Task("rnn_step_backward", run_dropout_step,
                (Output("dx", "(N, D)"), Output("dprev_h", "(N, H)"), Output("dWx", "(D, H)"),
                 Output("dWh", "(H, H)"), Output("db", "(H,)")),
                gradient_of=gradients_of(dropout_step_output, "dnext_h", dx="x",
                                         dprev_h="prev_h", dWx="Wx", dWh="Wh", db="b"),
                bugs=(Bug("the recurrent-dropout mask forgotten in dWh", "a = x @ Wx + (prev_h "
                          "* m) @ Wh + b: Wh multiplies the masked state, so dWh = (prev_h * "
                          "m).T @ da.", mask_forgotten_in(3), ("dWh",)),
                      Bug("the recurrent-dropout mask forgotten in dprev_h", "prev_h enters as "
                          "prev_h * m: dprev_h = (da @ Wh.T) * m.", mask_forgotten_in(1),
                          ("dprev_h",)))),),
    make_inputs=dropout_inputs,
    sizes=SIZES,
    hints=("Only one output is wrong; which product of the forward made it?",
           "dWh is wrong and dprev_h is right: the weight gradient reads the wrong state.",
           "dWh = (cache['prev_h'] * cache['recurrent_mask']).T @ da."),
    planted=True)
