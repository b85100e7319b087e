"""GraphRNN: recurrent layers run per node of a graph, a graph layer on top, a per-node head.

Shape legend: B batch (samples), T time steps, N nodes, F input features per node, H the
per-node stack's output width, G the graph layer's width, O outputs per node, K hops, M supports
(adjacency.py: 1, or 2 for the dual random walk).

The traffic design: the lower layers see one node's own history, the upper layer lets the nodes
talk. One `StackedRNN` is shared by all nodes (the B*N node series are its batch); on top sits

    top="gru"      the graph-convolutional GRU (gru.py) over the per-node outputs, K hops a step
    top="message"  message passing on the per-node outputs at every step, no recurrence:
                   m_t = h_t + gconv(h_t, W) + b = h_t + h_t W_0 + sum_m,k S_m^k h_t W_mk + b
                   W: ((1 + M K) H, H)  b: (H,)   (h_t[i] plus what its K-hop neighbourhood
                   sends; convolution.py)
    top=None       nothing: a per-node stacked RNN that never sees the graph (the baseline)

and a Dense head maps each node's top state to O outputs (shared by all nodes):

    x (B, T, N, F) -> per node: (B*N, T, F) -> StackedRNN -> (B, T, N, H)
      -> top -> (B, T, N, G) -> [last step: (B, N, G)] -> Dense -> (B, N, O) or (B, T, N, O)

Backward runs the same path in reverse. Parameters: "rnn.<the stack's own name>",
"graph.<name>" (gru: Wx, Wh, b, bhn; message: W, b) and "head.W", "head.b"; `backward` returns
grads with exactly these keys. The model follows the protocol of `Sequential`, so
`minirnn.train.fit` trains it (x: (B, T, N, F), y: (B, N, O)).
"""
from dataclasses import dataclass

import numpy as np

from ..layers import Dense
from ..stack import StackedRNN
from ..validation import check_dtype, check_float_array, check_int, check_shape, shape_str
from .adjacency import check_adjacency, graph_supports
from .convolution import graph_conv_backward, graph_conv_forward
from .gru import graph_gru_backward, graph_gru_forward

TOPS = ("gru", "message", None)
GRU_PARAMS = ("Wx", "Wh", "b", "bhn")


def message_passing_forward(h, supports, W, b):
    """m = h + gconv(h, W) + b. h: (..., N, H), supports: (M, N, N), W: ((1 + M K) H, H),
    b: (H,). Returns m and the cache."""
    out, cache = graph_conv_forward(h, supports, W, b)
    return h + out, cache


def message_passing_backward(dm, cache):
    """dm: (..., N, H). Returns dh, dW, db."""
    # forward: m = h + gconv(h, W) + b: h reaches m directly and through the convolution
    dh, dW, db = graph_conv_backward(dm, cache)
    dh += dm
    return dh, dW, db


@dataclass
class GraphCache:
    """What `GraphRNN.forward` keeps. rnn: the StackCache of the per-node stack; top: the graph
    layer's cache (None for top=None; it holds copies of the graph parameters, taken when the
    forward ran); head: the Dense cache; x_shape: (B, T, N, F); final_states: {"rnn": the
    stack's final states, "graph": (B, N, G) the graph GRU's final state or None};
    output_mask: always None (no padding), for `fit`."""
    rnn: object
    top: object
    head: dict
    x_shape: tuple
    final_states: dict
    output_mask: object = None


class GraphRNN:
    """A per-node StackedRNN, a graph layer on top, a per-node Dense head (module docstring).

    adjacency: (N, N), A[i, j] > 0 when node i hears node j (adjacency.py).
    normalization: the graph convolutions' supports (`graph_supports`, self loops added):
    'symmetric', 'random_walk' or 'dual_random_walk' (along and against the edges, for a
    directed graph).   input_size: F.
    hidden_sizes: the per-node stack's layers [H_1, ..., H_L] (cell: 'rnn', 'lstm', 'gru', ...).
    top: 'gru', 'message' or None.   graph_size: G of the graph GRU (default H_L).
    hops: K >= 0.   output_size: O.   return_sequences: predict at every step, (B, T, N, O).
    dtype, seed, backend, dropout: as in StackedRNN (dropout between the stack's layers).
    """

    def __init__(self, adjacency, input_size, hidden_sizes, top="gru", graph_size=None, hops=1,
                 output_size=1, cell="gru", normalization="symmetric", return_sequences=False,
                 dtype=np.float64, seed=0, backend=None, dropout=0.0):
        if top not in TOPS:
            raise ValueError(f"top must be one of {TOPS}; got {top!r}")
        if graph_size is not None and top != "gru":
            raise ValueError(f"graph_size is the graph GRU's width: only for top='gru' (top "
                             f"{top!r} keeps the stack's width); got graph_size={graph_size!r}")
        self.dtype = check_dtype(dtype)
        self.adjacency = check_adjacency(adjacency)
        self.supports = graph_supports(self.adjacency, normalization).astype(self.dtype)
        self.top, self.hops = top, check_int("hops", hops, minimum=0)
        self.output_size = check_int("output_size", output_size)
        self.return_sequences = bool(return_sequences)
        self.rnn = StackedRNN(cell, input_size, hidden_sizes, return_sequences=True,
                              dtype=self.dtype, seed=seed, backend=backend, dropout=dropout)
        H = self.rnn.output_widths()[-1]
        G = H if graph_size is None else check_int("graph_size", graph_size)
        rng = np.random.default_rng([seed, 1])  # not the stack's stream
        blocks = 1 + len(self.supports) * self.hops  # of the graph convolutions' weights
        shapes = {"gru": {"Wx": (blocks * H, 3 * G), "Wh": (blocks * G, 3 * G), "b": (3 * G,),
                          "bhn": (G,)},
                  "message": {"W": (blocks * H, H), "b": (H,)}, None: {}}[top]
        bound = 1.0 / np.sqrt(G)  # PyTorch's U(-1/sqrt(H), 1/sqrt(H)), as for the cells
        self.graph_params = {name: rng.uniform(-bound, bound, shape).astype(self.dtype)
                             for name, shape in shapes.items()}
        self.head = Dense(G, self.output_size, seed=seed, dtype=self.dtype)
        self.graph_size = G
        self.config = {"num_nodes": len(self.adjacency), "input_size": self.rnn.input_size,
                       "hidden_sizes": list(self.rnn.hidden_sizes), "cell": self.rnn.cell,
                       "top": top, "graph_size": G, "hops": self.hops,
                       "output_size": self.output_size, "normalization": normalization,
                       "return_sequences": self.return_sequences, "dtype": self.dtype.name}

    @property
    def num_nodes(self):
        return len(self.adjacency)

    @property
    def params(self):
        """{"rnn.*", "graph.*", "head.*": array}: the parts' own arrays (not copies), so
        in-place updates (optimizers, gradient checks) reach them."""
        return {**{f"rnn.{k}": v for k, v in self.rnn.params.items()},
                **{f"graph.{k}": v for k, v in self.graph_params.items()},
                **{f"head.{k}": v for k, v in self.head.params.items()}}

    def forward(self, x, mask=None, initial_states=None, train=False, rng=None):
        """x: (B, T, N, F). mask: must be None (no padding here; the argument is `fit`'s).
        initial_states: None (zeros) or {"rnn": the stack's layout (`StackedRNN.zero_states`
        for B*N sequences, node-major: sequence b*N + i is node i of sample b), "graph":
        (B, N, G) for the graph GRU}, either key optional. train, rng: dropout in the stack.

        Returns out ((B, N, O), or (B, T, N, O) with return_sequences) and a GraphCache.
        """
        if mask is not None:
            raise ValueError("mask must be None: GraphRNN takes whole windows (no padding)")
        check_float_array("x", x)
        N, F = self.num_nodes, self.rnn.input_size
        if x.ndim != 4 or x.shape[2:] != (N, F):
            raise ValueError(f"x must have shape (B, T, {N}, {F}) (N nodes, F features); "
                             f"got shape {shape_str(x.shape)}")
        B, T = x.shape[:2]
        initial_states = initial_states or {}
        per_node_x = x.transpose(0, 2, 1, 3).reshape(B * N, T, F)  # sequence b*N + i
        y, rnn_states, rnn_cache = self.rnn.forward(per_node_x, initial_states.get("rnn"),
                                                    train=train, rng=rng)
        h = y.reshape(B, N, T, -1).transpose(0, 2, 1, 3)  # (B, T, N, H)
        params = {k: v.copy() for k, v in self.graph_params.items()}  # owned by the cache
        top_out, top_cache, graph_state = self.top_forward(h, params, initial_states.get("graph"))
        out, head_cache = self.head.forward(top_out if self.return_sequences else top_out[:, -1])
        return out, GraphCache(rnn_cache, top_cache, head_cache, x.shape,
                               {"rnn": rnn_states, "graph": graph_state})

    def top_forward(self, h, params, graph0):
        """The graph layer on h: (B, T, N, H). Returns its output (B, T, N, G), its cache and
        the graph GRU's final state (None for the other tops)."""
        if self.top == "gru":
            B, _, N, _ = h.shape
            if graph0 is None:
                graph0 = np.zeros((B, N, self.graph_size), self.dtype)
            check_float_array("initial_states['graph']", graph0)
            check_shape("initial_states['graph']", graph0, (B, N, self.graph_size))
            g, cache = graph_gru_forward(h, graph0.astype(self.dtype, copy=False), self.supports,
                                         *(params[k] for k in GRU_PARAMS))
            return g, cache, g[:, -1].copy()
        if self.top == "message":
            m, cache = message_passing_forward(h, self.supports, params["W"], params["b"])
            return m, cache, None
        return h, None, None

    def backward(self, dout, cache, return_dinitial=False):
        """dout: the gradient on out. Returns dx: (B, T, N, F) and grads (the keys of params);
        with return_dinitial=True also {"rnn": the stack's initial-state gradients, "graph":
        (B, N, G) or None}."""
        B, T, N, F = cache.x_shape
        # forward: out = head(top_out or its last step)
        dchosen, head_grads = self.head.backward(dout, cache.head)
        if self.return_sequences:
            dtop = dchosen
        else:
            dtop = np.zeros((B, T, N, self.graph_size), dchosen.dtype)
            dtop[:, -1] += dchosen
        # forward: top_out = top(h)
        grads, dgraph0 = {}, None
        if self.top == "gru":
            dh, dgraph0, *dparams = graph_gru_backward(dtop, cache.top)
            grads.update(zip(GRU_PARAMS, dparams))
        elif self.top == "message":
            dh, grads["W"], grads["b"] = message_passing_backward(dtop, cache.top)
        else:
            dh = dtop
        # forward: h = stack(x per node), reshaped (B*N, T, H) -> (B, T, N, H)
        dy = dh.transpose(0, 2, 1, 3).reshape(B * N, T, -1)
        dx, rnn_grads, rnn_dinitial = self.rnn.backward(dy, cache.rnn, return_dinitial=True)
        dx = dx.reshape(B, N, T, F).transpose(0, 2, 1, 3)
        all_grads = {**{f"rnn.{k}": v for k, v in rnn_grads.items()},
                     **{f"graph.{k}": v for k, v in grads.items()},
                     **{f"head.{k}": v for k, v in head_grads.items()}}
        result = (dx, all_grads)
        return result + ({"rnn": rnn_dinitial, "graph": dgraph0},) if return_dinitial else result

    def reach(self, T):
        """(T,) int: the most hops over which input step t of a T-step window can move the
        last step's output, hops counted along the edges of the supports
        (`hop_distances(model.supports.sum(axis=0))`). The graph GRU adds K hops per step,
        through the input product at step t and each recurrent product after it: K (T - t).
        Message passing: K at every t; no top: 0."""
        steps = np.arange(T, 0, -1)  # T - t
        if self.top == "gru":
            return self.hops * steps
        return np.full(T, self.hops if self.top == "message" else 0)

    def __repr__(self):
        c = self.config
        return (f"GraphRNN(N={c['num_nodes']}, {c['cell']!r} {c['hidden_sizes']} per node, "
                f"top={c['top']!r}, hops={c['hops']}, graph_size={c['graph_size']}, "
                f"output_size={c['output_size']})")


def series_windows(series, window):
    """Sliding windows over one graph time series for one-step-ahead forecasting.

    series: (T, N, F). Returns x: (S, window, N, F), y: (S, N, F) and target_steps: (S,), with
    S = T - window: window s reads steps s .. s + window - 1 and its target is step
    target_steps[s] = s + window.
    """
    check_float_array("series", series)
    window = check_int("window", window)
    if series.ndim != 3 or series.shape[0] <= window:
        raise ValueError(f"series must have shape (T, N, F) with T > window = {window}; "
                         f"got shape {shape_str(series.shape)}")
    target_steps = np.arange(window, series.shape[0])
    x = np.stack([series[t - window:t] for t in target_steps])
    return x, series[target_steps], target_steps
