"""Exercises 6-8: the gated cells. The LSTM step and its cell-state path through time, the GRU
step in PyTorch's reset-after form.

Shape legend: N batch, T time steps, D input features, H hidden units; the LSTM's gate blocks
i, f, g, o along a 4H axis, the GRU's r, z, n along a 3H axis.

The solutions are the library's own functions; every bug is that function with one mistake made
(see exercise.py). The backward passes are linear in their upstream gradients, so a bug in one
path is the reference minus that path's share, computed by the reference itself.
"""
import numpy as np

from ..cells import (GRU, LSTM, gru_step_backward, gru_step_forward, lstm_backward,
                     lstm_forward, lstm_step_backward, lstm_step_forward)
from ..cells.lstm import lstm_total_gradients
from .basics import bptt_variant
from .exercise import Bug, Exercise, Output, Task, gradients_of
from .witness import cell_witness

SIZES = {"N": 3, "T": 5, "D": 4, "H": 5}
LSTM_GATES, GRU_GATES = ("i", "f", "g", "o"), ("r", "z", "n")
ALL_GATES_OFF = "gate blocks off: i, f, g, o\n"  # the end of the line: no block is right


def cell_inputs(spec, rng, saturated, sequence=False):
    """Random nonzero inputs, states, parameters and upstream gradients for one cell."""
    N, T, D, H = SIZES.values()
    scale = 1.5 if saturated else 0.4
    steps = (N, T) if sequence else (N,)
    inputs = {"x": rng.standard_normal(steps + (D,))}
    for name in spec.state_names:
        inputs[("" if sequence else "prev_") + name + ("0" if sequence else "")] = (
            0.5 * rng.standard_normal((N, H)))
    for name, shape in spec.param_shapes(D, H).items():
        inputs[name] = scale * rng.standard_normal(shape)
    upstream = ["dh"] if sequence else ["dnext_" + name for name in spec.state_names]
    for name in upstream:
        inputs[name] = rng.standard_normal(steps + (H,))
    inputs["dnext"] = np.concatenate([inputs[name] for name in upstream], axis=-1)
    return inputs


def arguments(spec, inputs, sequence=False):
    states = [inputs[name + "0"] if sequence else inputs["prev_" + name]
              for name in spec.state_names]
    return [inputs["x"], *states, *(inputs[name] for name in spec.param_names)]


def step_output(spec, forward_name):
    """forward(fns, inputs) -> the step's new states side by side, for the third opinion."""
    def forward(fns, inputs):
        *states, _ = fns[forward_name](*arguments(spec, inputs))
        return np.concatenate(states, axis=-1)
    return forward


def run_step_backward(spec, forward_name, backward_name):
    def run(fns, inputs):
        *_, cache = fns[forward_name](*arguments(spec, inputs))
        upstream = [inputs["dnext_" + name] for name in spec.state_names]
        return tuple(fns[backward_name](*upstream, cache))
    return run


def swap_blocks(a, j, k, gates):
    """a with its gate blocks j and k (along the last axis) swapped."""
    blocks = np.split(a, gates, axis=-1)
    blocks[j], blocks[k] = blocks[k], blocks[j]
    return np.concatenate(blocks, axis=-1)


# ---- 6. lstm_step -------------------------------------------------------------------------------
def cell_path_dropped(dnext_h, dnext_c, cache):
    return lstm_step_backward(dnext_h, np.zeros_like(dnext_c), cache)


def input_and_forget_swapped(dnext_h, dnext_c, cache):
    """da assembled as [df, di, dg, do]: the i and f columns of every gradient built from da
    trade places (so do dx and dprev_h, which read Wx and Wh through them)."""
    swapped = dict(cache, **{name: swap_blocks(cache[name], 0, 1, 4) for name in ("Wx", "Wh")})
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, swapped)
    return (dx, dprev_h, dprev_c, *(swap_blocks(g, 0, 1, 4) for g in (dWx, dWh, db)))


def h_path_into_c_dropped(dnext_h, dnext_c, cache):
    """dc = dnext_c only: c_t's path into this step's own h_t = o tanh(c_t) left out."""
    _, through_h = lstm_total_gradients(dnext_h, np.zeros_like(dnext_c), cache)
    full = lstm_step_backward(dnext_h, dnext_c, cache)
    share = lstm_step_backward(np.zeros_like(dnext_h), through_h, cache)
    return tuple(g - s for g, s in zip(full, share))


def prev_c_from_dnext_c(dnext_h, dnext_c, cache):
    """dprev_c = dnext_c * f: the rest right, but the carry built from the part of dc that came
    from t+1 only."""
    dx, dprev_h, _, dWx, dWh, db = lstm_step_backward(dnext_h, dnext_c, cache)
    f = np.split(cache["ifgo"], 4, axis=1)[1]
    return dx, dprev_h, dnext_c * f, dWx, dWh, db


LSTM_STEP = Exercise(
    name="lstm_step",
    title="One LSTM step backward",
    teaches="Two states leave the step, so two gradients arrive; c_t also feeds h_t = o tanh(c_t), "
            "so the total dc adds that path.\nOne matrix product per weight, on da = the four "
            "gates' local gradients side by side in i, f, g, o order.",
    stub="lstm_step.py",
    reference={"lstm_step_forward": lstm_step_forward, "lstm_step_backward": lstm_step_backward},
    tasks=(Task("lstm_step_backward",
                run_step_backward(LSTM, "lstm_step_forward", "lstm_step_backward"),
                (Output("dx", "(N, D)"), Output("dprev_h", "(N, H)"), Output("dprev_c", "(N, H)"),
                 Output("dWx", "(D, 4H)", gates=LSTM_GATES),
                 Output("dWh", "(H, 4H)", gates=LSTM_GATES),
                 Output("db", "(4H,)", gates=LSTM_GATES)),
                gradient_of=gradients_of(step_output(LSTM, "lstm_step_forward"), "dnext",
                                         dx="x", dprev_h="prev_h", dprev_c="prev_c", dWx="Wx",
                                         dWh="Wh", db="b"),
                torch=cell_witness(LSTM, sequence=False),
                bugs=(Bug("the cell-state path dropped", "dnext_c, the gradient step t+1 sends "
                          "back to c_t, is part of dc: dc = dnext_c + dnext_h * o * (1 - "
                          "tanh(c)^2).", cell_path_dropped,
                          ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
                          at="gate blocks off: i, f, g (right: o)"),
                      Bug("gate slices swapped (i and f)", "da must hold the gates in the "
                          "forward's order, i, f, g, o: da[:, :H] is the input gate's.",
                          input_and_forget_swapped, ("dx", "dprev_h", "dWx", "dWh", "db"),
                          at="gate blocks off: i, f (right: g, o)"),
                      Bug("c's path into h_t left out of dc", "h_t = o * tanh(c_t) reads c_t "
                          "too: dc = dnext_c + dnext_h * o * (1 - tanh_c^2), not dnext_c alone.",
                          h_path_into_c_dropped, ("dx", "dprev_h", "dprev_c", "dWx", "dWh", "db"),
                          at="gate blocks off: i, f, g (right: o)"),
                      Bug("dprev_c from dnext_c instead of dc", "c_{t-1} reaches the loss through "
                          "c_t by every path, so dprev_c = dc * f with the total dc.",
                          prev_c_from_dnext_c, ("dprev_c",)))),),
    make_inputs=lambda rng, saturated: cell_inputs(LSTM, rng, saturated),
    sizes=SIZES,
    hints=("Go through the forward in reverse: next_h = o * tanh_c, next_c = f * prev_c + i * g, "
           "the four gates, then a = x @ Wx + prev_h @ Wh + b.",
           "dc = dnext_c + dnext_h * o * (1 - tanh_c**2); do = dnext_h * tanh_c; di = dc * g; "
           "df = dc * prev_c; dg = dc * i; dprev_c = dc * f.",
           "da = concatenate([di * i*(1-i), df * f*(1-f), dg * (1-g**2), do * o*(1-o)], axis=1); "
           "then dx = da @ Wx.T, dprev_h = da @ Wh.T, dWx = x.T @ da, dWh = prev_h.T @ da, "
           "db = da.sum(0)."))


# ---- 7. lstm_bptt -------------------------------------------------------------------------------
def lstm_sequence_output(fns, inputs):
    return fns["lstm_forward"](*arguments(LSTM, inputs, sequence=True))[0]


def run_lstm_bptt(fns, inputs):
    _, cache = fns["lstm_forward"](*arguments(LSTM, inputs, sequence=True))
    return tuple(fns["lstm_backward"](inputs["dh"], cache))


def cell_carry_dropped(dh, cache):
    return bptt_variant(LSTM, dh, cache, carried=("h",))


def hidden_carry_dropped(dh, cache):
    return bptt_variant(LSTM, dh, cache, carried=("c",))


def lstm_weights_overwritten(dh, cache):
    return bptt_variant(LSTM, dh, cache, accumulate=False)


LSTM_BPTT = Exercise(
    name="lstm_bptt",
    title="The LSTM through time: two carries",
    teaches="Both h and c carry gradient back: dprev_h into step t-1's dnext_h (added to dh[:, "
            "t-1]) and dprev_c into its dnext_c.\nThe cell state's carry, dc * f, is the path "
            "along which an LSTM's gradient survives many steps.",
    stub="lstm_bptt.py",
    reference={"lstm_forward": lstm_forward, "lstm_backward": lstm_backward},
    tasks=(Task("lstm_backward", run_lstm_bptt,
                (Output("dx", "(N, T, D)", time_axis=True), Output("dh0", "(N, H)"),
                 Output("dc0", "(N, H)"), Output("dWx", "(D, 4H)", gates=LSTM_GATES),
                 Output("dWh", "(H, 4H)", gates=LSTM_GATES),
                 Output("db", "(4H,)", gates=LSTM_GATES)),
                gradient_of=gradients_of(lstm_sequence_output, "dh", dx="x", dh0="h0", dc0="c0",
                                         dWx="Wx", dWh="Wh", db="b"),
                torch=cell_witness(LSTM, sequence=True),
                bugs=(Bug("the cell-state carry dropped", "dprev_c of step t is dnext_c of step "
                          "t-1: carry it as you carry dprev_h.", cell_carry_dropped,
                          ("dx", "dh0", "dc0", "dWx", "dWh", "db"),
                          at=("t = 3", ALL_GATES_OFF)),
                      Bug("the carry into h_{t-1} forgotten", "step t's dprev_h is part of the "
                          "gradient on h_{t-1}: add it to dh[:, t-1].", hidden_carry_dropped,
                          ("dx", "dh0", "dc0", "dWx", "dWh", "db"),
                          at=("t = 3", ALL_GATES_OFF)),
                      Bug("= instead of += on the shared weights", "every step uses the same Wx, "
                          "Wh and b: add each step's gradient into dWx, dWh, db.",
                          lstm_weights_overwritten, ("dWx", "dWh", "db"), at=ALL_GATES_OFF))),),
    make_inputs=lambda rng, saturated: cell_inputs(LSTM, rng, saturated, sequence=True),
    sizes=SIZES,
    hints=("It is rnn_bptt's loop with a second state: keep two carries, dnext_h and dnext_c.",
           "At step t: dx[:, t], dnext_h, dnext_c, dWx_t, dWh_t, db_t = lstm_step_backward("
           "dh[:, t] + dnext_h, dnext_c, step_cache(LSTM, cache, t)).",
           "Start both carries at zeros (N, H), add the weights' parts with +=, and return dx, "
           "dnext_h, dnext_c (now dh0 and dc0), dWx, dWh, db."))


# ---- 8. gru_step --------------------------------------------------------------------------------
def bhn_outside_reset(dnext_h, cache):
    """The candidate taken as tanh(ax_n + r * (prev_h @ Wh_n) + bhn): bhn outside the reset
    product, so dr misses bhn's part and dbhn misses the factor r."""
    H = cache["prev_h"].shape[1]
    bhn = cache["hn"] - cache["prev_h"] @ cache["Wh"][:, 2 * H:]
    dx, dprev_h, dWx, dWh, db, _ = gru_step_backward(dnext_h, dict(cache, hn=cache["hn"] - bhn))
    return dx, dprev_h, dWx, dWh, db, db[2 * H:].copy()  # dbhn = sum of dan, as b_n's


def update_gate_roles_swapped(dnext_h, cache):
    """dn = dnext_h * z and dprev_h's direct part dnext_h * (1 - z): z and 1 - z swapped."""
    r, z, n = np.split(cache["rzn"], 3, axis=1)
    return gru_step_backward(dnext_h, dict(cache, rzn=np.concatenate([r, 1 - z, n], axis=1)))


def direct_path_dropped(dnext_h, cache):
    """dprev_h only through the gates: next_h = ... + z * prev_h's direct path left out."""
    dx, dprev_h, *rest = gru_step_backward(dnext_h, cache)
    z = np.split(cache["rzn"], 3, axis=1)[1]
    return (dx, dprev_h - dnext_h * z, *rest)


GRU_STEP = Exercise(
    name="gru_step",
    title="One GRU step backward, PyTorch's reset-after form",
    teaches="prev_h reaches next_h directly (z * prev_h) and through all three gates; the reset "
            "gate multiplies the recurrent\ncandidate hn = prev_h @ Wh_n + bhn, so bhn sits inside "
            "the reset product and gets dbhn = sum of dan * r.",
    stub="gru_step.py",
    reference={"gru_step_forward": gru_step_forward, "gru_step_backward": gru_step_backward},
    tasks=(Task("gru_step_backward", run_step_backward(GRU, "gru_step_forward",
                                                       "gru_step_backward"),
                (Output("dx", "(N, D)"), Output("dprev_h", "(N, H)"),
                 Output("dWx", "(D, 3H)", gates=GRU_GATES),
                 Output("dWh", "(H, 3H)", gates=GRU_GATES),
                 Output("db", "(3H,)", gates=GRU_GATES), Output("dbhn", "(H,)")),
                gradient_of=gradients_of(step_output(GRU, "gru_step_forward"), "dnext", dx="x",
                                         dprev_h="prev_h", dWx="Wx", dWh="Wh", db="b",
                                         dbhn="bhn"),
                torch=cell_witness(GRU, sequence=False),
                bugs=(Bug("bhn outside the reset product", "in the reset-after form n = tanh(ax_n "
                          "+ r * (prev_h @ Wh_n + bhn)): dr = dan * hn with hn including bhn, "
                          "and dbhn = sum of dan * r.", bhn_outside_reset,
                          ("dx", "dprev_h", "dWx", "dWh", "db", "dbhn"),
                          at="gate blocks off: r (right: z, n)"),
                      Bug("z and 1 - z swapped", "next_h = (1 - z) * n + z * prev_h: dn = dnext_h "
                          "* (1 - z) and the direct part of dprev_h is dnext_h * z.",
                          update_gate_roles_swapped, ("dx", "dprev_h", "dWx", "dWh", "db",
                                                      "dbhn"),
                          at="gate blocks off: r, n (right: z)"),
                      Bug("prev_h's direct path dropped", "next_h = ... + z * prev_h reads prev_h "
                          "directly: dprev_h = dnext_h * z + dah @ Wh.T.", direct_path_dropped,
                          ("dprev_h",)))),),
    make_inputs=lambda rng, saturated: cell_inputs(GRU, rng, saturated),
    sizes=SIZES,
    hints=("Reverse the forward: next_h = (1 - z) n + z prev_h, then n = tanh(ax_n + r * hn), "
           "then r, z = sigmoid(...), then the two matrix products.",
           "dn = dnext_h (1 - z); dz = dnext_h (prev_h - n); dan = dn (1 - n^2); dr = dan * hn; "
           "dhn = dan * r.",
           "dax = [dr r(1-r), dz z(1-z), dan]; dah = [dr r(1-r), dz z(1-z), dhn]; dx = dax @ "
           "Wx.T; dprev_h = dnext_h z + dah @ Wh.T; dWx = x.T @ dax; dWh = prev_h.T @ dah; db = "
           "dax.sum(0); dbhn = dhn.sum(0)."))
