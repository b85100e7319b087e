"""Exercises 12-14: the Jacobians behind the gradients. One step's temporal Jacobian, products over
a span and their decay, gradient paths through a stack with skip edges.

Shape legend: N batch, T time steps, H hidden units, S the state size (H; 2H for the LSTM's
(h, c)), L layers, K spans. Column convention: J[n, i, j] = d out[n, i] / d in[n, j].

The solutions are the library's jacobians package; each bug is its result with one mistake made.
"""
import numpy as np

from ..cells import LSTM, RNN, lstm_step_forward, rnn_step_forward
from ..jacobians import (count_gradient_paths, decay_rate, numerical_step_jacobians,
                         path_decomposition, span_product, step_jacobians)
from ..jacobians.steps import state_jacobians
from .exercise import Bug, Exercise, Output, Task
from .gated import SIZES, arguments, cell_inputs
from .stacks import stack_forward, stack_inputs, stack_net


# ---- 12. temporal_jacobian ----------------------------------------------------------------------
def rnn_step_jacobian(cache):
    """The solution: dnext_h/dprev_h from the cell's exact step Jacobians."""
    return state_jacobians("rnn", RNN.step_jacobians(cache))[0]


def lstm_step_jacobian(cache):
    """The solution: the 2H x 2H Jacobian of (next_h, next_c) on (prev_h, prev_c)."""
    return state_jacobians("lstm", LSTM.step_jacobians(cache))[0]


STEP_FORWARDS = {"rnn": (RNN, rnn_step_forward), "lstm": (LSTM, lstm_step_forward)}


def run_jacobian(cell):
    spec, forward = STEP_FORWARDS[cell]

    def run(fns, inputs):
        *_, cache = forward(*arguments(spec, inputs[cell]))
        return (fns[f"{cell}_step_jacobian"](cache),)
    return run


def numeric_jacobian(cell):
    """The third opinion: the state Jacobian by centered differences of the step forward."""
    spec, forward = STEP_FORWARDS[cell]

    def numeric(inputs):
        *_, cache = forward(*arguments(spec, inputs[cell]))
        params = {name: inputs[cell][name] for name in spec.param_names}  # b is not cached
        blocks = numerical_step_jacobians(spec, dict(cache, **params))
        return {"J": state_jacobians(cell, blocks)[0]}
    return numeric


def rnn_transposed(cache):
    return rnn_step_jacobian(cache).swapaxes(-1, -2)


def rnn_tanh_derivative_left_out(cache):
    return rnn_step_jacobian(dict(cache, next_h=np.zeros_like(cache["next_h"])))


def lstm_blocks_changed(cache, **changes):
    blocks = LSTM.step_jacobians(cache)
    for name, change in changes.items():
        blocks[name] = change(blocks[name])
    return state_jacobians("lstm", blocks)[0]


def lstm_c_from_h_block_zero(cache):
    return lstm_blocks_changed(cache, **{"dnext_c/dprev_h": np.zeros_like})


def lstm_h_from_c_without_f(cache):
    f = np.split(cache["ifgo"], 4, axis=1)[1]
    return lstm_blocks_changed(cache, **{"dnext_h/dprev_c": lambda J: J / f[:, :, None]})


TEMPORAL_JACOBIAN = Exercise(
    name="temporal_jacobian",
    title="One step's temporal Jacobian: dh_t/dh_{t-1}, and the LSTM's 2H x 2H (h, c) block",
    teaches="A backward step is g_in = g_out @ J: dprev_h = dnext_h @ (diag(1 - h^2) Wh^T). The "
            "LSTM's state is (h, c), so its\nJacobian has four H x H blocks; dnext_c/dprev_h is "
            "not zero: prev_h moves every gate, and the gates move c.",
    stub="temporal_jacobian.py",
    reference={"rnn_step_jacobian": rnn_step_jacobian, "lstm_step_jacobian": lstm_step_jacobian},
    tasks=(Task("rnn_step_jacobian", run_jacobian("rnn"),
                (Output("J", "(N, H, H)", states="rnn"),), numeric=numeric_jacobian("rnn"),
                bugs=(Bug("the Jacobian transposed", "J[n, i, j] = d next_h[n, i] / d prev_h[n, "
                          "j]: row i is output unit i, so J = diag(1 - h^2) @ Wh.T (the "
                          "backward's `@ Wh.T` is this J from the right).", rnn_transposed,
                          ("J",), at="state blocks off: dnext_h/dprev_h"),
                      Bug("the tanh derivative left out", "next_h = tanh(a): scale row i by "
                          "1 - next_h[i]^2, the derivative taken from the cached output.",
                          rnn_tanh_derivative_left_out, ("J",),
                          at="state blocks off: dnext_h/dprev_h"))),
           Task("lstm_step_jacobian", run_jacobian("lstm"),
                (Output("J", "(N, 2H, 2H)", states="lstm"),), numeric=numeric_jacobian("lstm"),
                bugs=(Bug("the dnext_c/dprev_h block left zero", "c_t = f c_{t-1} + i g, and f, i, "
                          "g all read prev_h through Wh: dnext_c/dprev_h = diag(g i(1-i)) W_i^T + "
                          "diag(prev_c f(1-f)) W_f^T + diag(i (1-g^2)) W_g^T.",
                          lstm_c_from_h_block_zero, ("J",),
                          at="state blocks off: dnext_c/dprev_h ("),
                      Bug("dnext_h/dprev_c without the forget gate", "prev_c reaches h_t only "
                          "through c_t = f * prev_c + ...: dnext_h/dprev_c = diag(o (1 - "
                          "tanh(c)^2) f).", lstm_h_from_c_without_f, ("J",),
                          at="state blocks off: dnext_h/dprev_c ("))),),
    make_inputs=lambda rng, saturated: {cell: cell_inputs(spec, rng, saturated)
                                        for cell, (spec, _) in STEP_FORWARDS.items()},
    sizes=dict(SIZES, S="2H for the LSTM"),
    hints=("Differentiate the step forward with respect to prev_h (and prev_c) only; x and the "
           "weights are constants here.",
           "RNN: d tanh(a)/d prev_h = diag(1 - next_h^2) @ Wh.T. LSTM: dnext_c/dz = sum over the "
           "gates i, f, g of diag(their local derivative) @ W_k.T, and dnext_h/dz = diag(o (1 - "
           "tanh(c)^2)) dnext_c/dz + diag(tanh(c) o(1-o)) W_o.T.",
           "Build the four (N, H, H) blocks, with dnext_c/dprev_c = diag(f) and dnext_h/dprev_c = "
           "diag(o (1 - tanh(c)^2) f), then np.block-style concatenate: [[hh, hc], [ch, cc]]."))


# ---- 13. vanishing_product ----------------------------------------------------------------------
PRODUCT_SIZES = {"N": 3, "T": 8, "S": 4, "K": 12, "start": 1, "stop": 6}


def product_inputs(rng, saturated):
    N, T, S, K, start, stop = PRODUCT_SIZES.values()
    gain = 1.6 if saturated else 0.8  # a spectral scale per step: vanishing or exploding
    span = np.arange(1, K + 1)
    return {"J": gain * rng.standard_normal((N, T, S, S)) / np.sqrt(S), "start": start,
            "stop": stop, "span": span,
            "norms": 2.0 * gain ** span * np.exp(0.3 * rng.standard_normal((N, K)))}


def run_product(fns, inputs):
    return (fns["span_product"](inputs["J"], inputs["start"], inputs["stop"]),)


def run_decay(fns, inputs):
    return (np.asarray(fns["decay_rate"](inputs["span"], inputs["norms"]), float),)


def forward_span_product(J, start, stop):
    """The solution: d s_stop / d s_start in the forward direction."""
    return span_product(J, start, stop)


def early_factor_first(J, start, stop):
    """J_{start+1} @ ... @ J_stop, the transpose of the transposes' product."""
    return span_product(J.swapaxes(-1, -2), start, stop).swapaxes(-1, -2)


def one_factor_too_many(J, start, stop):
    return span_product(J, start - 1, stop)


def exp_forgotten(span, norms):
    return np.log(decay_rate(span, norms))


def fitted_to_the_norms(span, norms):
    return decay_rate(span, np.exp(np.mean(norms, axis=0)))


VANISHING_PRODUCT = Exercise(
    name="vanishing_product",
    title="Products of one-step Jacobians over a span, and the per-step decay factor",
    teaches="d s_t / d s_u = J_t @ J_{t-1} @ ... @ J_{u+1}, the late factor on the left: its norm "
            "shrinks or grows about\ngeometrically in t - u, at the factor r = exp(slope of "
            "log-norm against the span): why plain RNNs forget.",
    stub="vanishing_product.py",
    reference={"span_product": forward_span_product, "decay_rate": decay_rate},
    tasks=(Task("span_product", run_product, (Output("product", "(N, S, S)"),),
                bugs=(Bug("the early factor on the left", "J_t @ ... @ J_{u+1}: the state at t "
                          "depends on u through the later steps last, so the late Jacobian is "
                          "on the left.", early_factor_first, ("product",)),
                      Bug("one factor too many", "d s_stop / d s_start has stop - start factors, "
                          "J_{start+1} .. J_stop: J_start moved s_{start-1} to s_start, before "
                          "the span.", one_factor_too_many, ("product",)))),
           Task("decay_rate", run_decay, (Output("rate", "() a float"),),
                bugs=(Bug("the slope reported without exp", "the fit of log-norm against the "
                          "span has slope log r: the per-step factor is its exp.",
                          exp_forgotten, ("rate",)),
                      Bug("the fit made to the norms, not their logs", "a geometric decay C r^k "
                          "is a straight line only in log: fit the mean over the batch of "
                          "log(norms) against the span.", fitted_to_the_norms, ("rate",)))),),
    make_inputs=product_inputs,
    sizes=PRODUCT_SIZES,
    hints=("A product over a span starts from the identity, one (S, S) per batch element, and "
           "takes one factor per step inside the span.",
           "Forward: for t from start + 1 to stop, product = J[:, t] @ product (the new, later "
           "step on the left). Rate: np.polyfit(span, mean log norm, 1).",
           "product = np.broadcast_to(np.eye(S), (N, S, S)); for t in range(start + 1, stop + "
           "1): product = J[:, t] @ product. rate = exp(np.polyfit(span, np.log(norms).mean(0), "
           "1)[0])."))


# ---- 14. gradient_paths -------------------------------------------------------------------------
PATHS = {"cell": "rnn", "input_size": 3, "hidden_sizes": [3, 3, 3, 3, 3], "skip": "l-2",
         "seed": 0}
PATH_TIME = 2


def run_counts(fns, inputs):
    net = stack_net(PATHS, inputs)
    return (np.array([fns["count_paths"](net, s, 1) for s in range(1, net.num_layers + 1)]),)


def run_path_sum(fns, inputs):
    net, _, cache = stack_forward(PATHS, inputs)
    return (fns["path_sum"](net, cache, PATH_TIME),)


def path_sum(net, cache, t):
    """The solution: the sum over every path from layer L down to layer 1 of the products of the
    edge Jacobians at step t."""
    return path_decomposition(net, cache, t).total


def full_jacobian(inputs):
    """The third opinion: d out_t^L / d out_t^1 by another route, backpropagating the full
    one-step Jacobians over the layer graph (`flow.output_jacobian`), without enumerating
    paths."""
    net, _, cache = stack_forward(PATHS, inputs)
    return {"J": path_decomposition(net, cache, PATH_TIME).full}


def skip_edges_ignored(net, source_layer, target_layer):
    return 1


def skips_counted_once(net, source_layer, target_layer):
    return 1 + sum(1 for src, dst in net.skip_edges if target_layer <= src and dst <= source_layer)


def only_the_chain(net, cache, t):
    decomposition = path_decomposition(net, cache, t)
    longest = max(range(len(decomposition.paths)), key=lambda k: len(decomposition.paths[k]))
    return decomposition.products[longest]


def path_order_reversed(net, cache, t):
    edges = step_jacobians(net, cache).edges
    total = 0.0
    for path in path_decomposition(net, cache, t).paths:
        product = np.eye(edges[(0, 1)].shape[-1])
        for dst, src in zip(path, path[1:]):
            product = edges[(src, dst)][:, t] @ product  # the bottom edge ends up on the left
        total = total + product
    return total


GRADIENT_PATHS = Exercise(
    name="gradient_paths",
    title="Gradient paths through depth: Fibonacci with l-2 skips, and the path sum",
    teaches="With edges l-1 -> l and l-2 -> l, the paths from layer L down to layer 1 number "
            "F(L) (1, 1, 2, 3, 5, ...), and\nthe Jacobian d out^L / d out^1 at one step is the sum "
            "over those paths of the products of their edge Jacobians.",
    stub="gradient_paths.py",
    reference={"count_paths": count_gradient_paths, "path_sum": path_sum},
    tasks=(Task("count_paths", run_counts, (Output("counts", "(L,), one per source layer"),),
                bugs=(Bug("the skip edges ignored", "a layer's sources are net.layer_sources(l): "
                          "l-1 and every skip source; each starts its own paths.",
                          skip_edges_ignored, ("counts",)),
                      Bug("each skip edge counted once", "paths compound: count(l) = sum of "
                          "count(src) over l's sources, so the counts grow like Fibonacci, not "
                          "by one per skip edge.", skips_counted_once, ("counts",)))),
           Task("path_sum", run_path_sum, (Output("J", "(N, W_L, W_1)"),),
                numeric=full_jacobian,
                bugs=(Bug("only the chain through every layer", "the skip edges add paths: sum "
                          "the products over every path of gradient_paths(net, L, 1).",
                          only_the_chain, ("J",)),
                      Bug("the edge Jacobians multiplied bottom first", "along the path L -> ... "
                          "-> 1 the top edge's Jacobian is on the left: product = product @ "
                          "edges[(src, dst)][:, t], walking down.", path_order_reversed,
                          ("J",)))),),
    make_inputs=stack_inputs(PATHS),
    sizes={"N": 3, "L": 5, "W_l": 3, "t": PATH_TIME},
    hints=("Count by dynamic programming from the bottom: count(1) = 1, then each layer's count "
           "from its sources'.",
           "count(l) = sum(count(src) for src in net.layer_sources(l) if src >= target). For the "
           "sum, step_jacobians(net, cache).edges[(src, dst)][:, t] is d out^dst / d out^src.",
           "for each path (L, ..., 1) (recursively over the sources), product = eye; for dst, src "
           "in zip(path, path[1:]): product = product @ edges[(src, dst)][:, t]; add the "
           "products."))
