"""StackedRNN: recurrent layers stacked in depth, with bidirectional layers and skip edges.

Shape legend: N batch, T time steps, D input features, L layers (numbered 1..L; "layer 0" is the
input x), H_l hidden units of layer l, W_l = H_l * num_directions the width of layer l's output.

Forward over depth (each layer runs one cell over the whole sequence, see minirnn/cells):

    out_0 = x                                                            (N, T, D)
    in_l  = drop(out_{l-1}) + sum of drop(out_s) over skip edges s -> l   (N, T, W_{l-1})
    out_l = [cell_fwd(in_l) , reverse(cell_bwd(reverse(in_l)))]           (N, T, W_l)

`drop` is inverted dropout (PyTorch semantics: in training only, never on the top layer's output).
Recurrent dropout (Keras' `recurrent_dropout`, variational: one mask per sequence, layer and
direction, the same at every step) multiplies h_{t-1} where it enters the recurrent product.
A step mask (N, T) (padded batches) and per-layer clocks (layer l updates only at steps t with
(t + 1) % p_l == 0) both use the cells' `mask`: on a skipped step the state is carried unchanged.
    y     = out_L                      if return_sequences               (N, T, W_L)
          = [out_L^fwd[:, T-1], out_L^bwd[:, 0]]   otherwise              (N, W_L)

The reverse direction's summary is taken at t = 0: that is its state after reading the whole
sequence. Backward over depth is the same path in reverse. dout_l, the gradient on layer l's
output, starts at zero and every part that reaches it is added (+=, `accumulate`): dy at the top,
any gradient injected at l (`dlayers`, auxiliary losses), and (`pass_down`) the input gradient of
every layer that reads out_l, the one above and those a skip edge leads to. A penalty on a layer's
gates (regularisers.py) adds its gradient on the gate activations (`dgates`) inside that layer's
BPTT, where the cell's step backward takes it with the rest.

Reading order: `StackedRNN.forward` and `.backward` (the wiring over depth, with the routing of
gradients in `output_gradients` and `pass_down`), then `layer_forward` and `layer_backward` (one
layer, both directions), then the cell's sequence functions, which run one direction over time: cells/sequence.py with backend="numpy", the Numba kernels with "numba"
(the cell's `CellSpec.sequence_functions` hands out either). `forward` checks its arguments once,
at the top, and tells the sequence functions checked=True.

Parameters live in one flat dict named by where they sit: "layers.2.bwd.Wh". `backward` returns a
grads dict with exactly the same keys.
"""
import weakref
from dataclasses import dataclass

import numpy as np

from .backends import resolve_backend
from .cells import get_cell
from .cells.masking import check_mask, clock_mask, sample_dropout_masks
from .cells.sequence import check_gate_gradient
from .initializers import init_stack_params
from .validation import (check_clock_periods, check_dtype, check_finite_number, check_gradient,
                         check_finite_params, check_rate, check_sizes, check_states,
                         owned_input, owned_params, skip_pair)


@dataclass
class StackCache:
    """What `StackedRNN.forward` keeps: all that `backward` reads, and what the probes and the
    Jacobian tools read.

    outputs       {l: (N, T, W_l)}: each layer's output in forward time, directions side by
                  side [fwd | bwd]; outputs[0] is the input x.
    layers        {l: {direction: cell cache}}: each direction's sequence cache (its keys:
                  cells/sequence.py). A "bwd" cache is in the time order that direction ran,
                  reversed: `run_order(cache_array, "bwd")` turns its arrays back.
    dropout       {l: (N, T, W_l)}: the inverted-dropout masks on layer outputs of a training run
                  ({} otherwise; never the top layer). Recurrent-dropout masks are in the cell
                  caches ("recurrent_mask").
    final_states  [{state name: (dirs, N, H_l)}]: each layer's final states, as `forward`
                  returns them.
    backend       the backend that ran the forward pass, and by default runs `backward`.
    network       a weak reference to the StackedRNN whose forward made it: `backward` refuses
                  the cache of any other network.
    params        {key: array}: the copies of the parameters this run used (the cell caches
                  hold the same arrays).

    The cache owns what it holds: x and the parameters are copies taken when the forward ran,
    and `forward` returns a copy of the top layer's output, so no edit of an array the caller
    holds (x, net.params, y) changes what `backward` computes.
    """
    outputs: dict
    layers: dict
    dropout: dict
    final_states: list
    backend: str
    network: weakref.ref
    params: dict


def skip_edges(skip, widths):
    """The skip edges (src, dst) for a `skip` argument: None (no edges), "l-2" (an edge from
    layer l-2 into layer l for every l >= 3) or an explicit list of (src, dst) layer pairs with
    0 <= src <= dst - 2 (src 0 is the input x). widths: [D, W_1, ..., W_L]; an edge adds out_src
    to in_dst, so W_src must equal W_{dst-1}."""
    num_layers = len(widths) - 1
    if skip is None:
        return []
    if skip == "l-2":
        edges = [(l - 2, l) for l in range(3, num_layers + 1)]
    elif isinstance(skip, str):
        raise ValueError(f"skip must be None, 'l-2' or a list of (src, dst) pairs; got {skip!r}")
    else:
        edges = sorted({skip_pair(edge) for edge in skip})
    for src, dst in edges:
        if not (0 <= src <= dst - 2 and dst <= num_layers):
            raise ValueError(f"skip edge ({src}, {dst}) must satisfy 0 <= src <= dst - 2 and "
                             f"dst <= {num_layers} (the number of layers)")
        if widths[src] != widths[dst - 1]:
            raise ValueError(f"skip edge ({src}, {dst}) adds a width-{widths[src]} output to "
                             f"layer {dst}'s width-{widths[dst - 1]} input; widths must match")
    return edges


def check_cache(net, cache):
    """Refuse a cache that `net.forward` did not make."""
    if not isinstance(cache, StackCache):
        raise TypeError(f"cache must be the StackCache that this network's forward returned; "
                        f"got {type(cache).__name__}")
    if cache.network() is not net:
        raise ValueError(f"cache was made by another network's forward, not this one's "
                         f"({net!r}): call backward on the network that made it")
    spec = net.spec
    needed = {"x", "mask", "recurrent_mask", *spec.param_names, *spec.state_names,
              *(name + "0" for name in spec.state_names)}
    for l in range(1, net.num_layers + 1):
        for d in net.directions:
            missing = needed - set(cache.layers.get(l, {}).get(d, {}))
            if missing:
                raise ValueError(f"cache.layers[{l}][{d!r}] lacks {sorted(missing)}: the cache was "
                                 f"edited after this network's forward made it")


class StackedRNN:
    """A deep recurrent network: L layers of one cell type ('rnn', 'lstm', 'gru' or a cell added
    with minirnn.cells.register_cell).

    input_size: D.    hidden_sizes: [H_1, ..., H_L]; layers may differ in width.
    bidirectional: each layer runs forward and reverse; outputs are concatenated.
    skip: None, 'l-2', or a list of (src, dst) layer pairs; a skip edge adds out_src to the input
          of layer dst, so the widths must match.
    return_sequences: True -> y: (N, T, W_L); False -> y: (N, W_L), the summary at the last step.
    dtype: np.float64 or np.float32.   seed: for the initial parameters.
    backend: 'numba' or 'numpy' (default: $MINIRNN_BACKEND, else 'numba'); overridable per call.
    init: 'uniform' (PyTorch's U(-1/sqrt(H), 1/sqrt(H))) or 'orthogonal' recurrent weights;
    forget_bias: added to the bias of the cell's forget gate (the LSTM's f).
    dropout: inverted-dropout rate on each layer's output except the top one (training only).
    recurrent_dropout: rate of the variational recurrent-dropout mask on h_{t-1} (training only).
    clock_periods: None or [p_1, ..., p_L]; layer l updates only at steps t with (t + 1) % p_l == 0
          (a Clockwork-RNN style slow layer) and carries its state in between.
    """

    def __init__(self, cell, input_size, hidden_sizes, bidirectional=False, skip=None,
                 return_sequences=True, dtype=np.float64, seed=0, backend=None,
                 init="uniform", forget_bias=0.0, dropout=0.0, recurrent_dropout=0.0,
                 clock_periods=None):
        self.spec = get_cell(cell)
        self.input_size, self.hidden_sizes = check_sizes(input_size, hidden_sizes)
        forget_bias = check_finite_number("forget_bias", forget_bias)
        self.dtype = check_dtype(dtype)
        self.directions = ("fwd", "bwd") if bidirectional else ("fwd",)
        self.return_sequences = bool(return_sequences)
        self.backend = resolve_backend(backend)
        self.skip_edges = skip_edges(skip, [self.input_size] + self.output_widths())
        self.dropout = check_rate("dropout", dropout)
        self.recurrent_dropout = check_rate("recurrent_dropout", recurrent_dropout)
        self.clock_periods = check_clock_periods(clock_periods, self.num_layers)
        self.config = {"cell": self.spec.name, "input_size": self.input_size,
                       "hidden_sizes": list(self.hidden_sizes),
                       "bidirectional": bool(bidirectional),
                       "skip": [list(e) for e in self.skip_edges] or None,
                       "return_sequences": self.return_sequences, "dtype": self.dtype.name,
                       "init": init, "forget_bias": float(forget_bias), "dropout": self.dropout,
                       "recurrent_dropout": self.recurrent_dropout,
                       "clock_periods": None if clock_periods is None else self.clock_periods}
        self.params = init_stack_params(self, seed, init, forget_bias)
        self.param_shapes = {key: value.shape for key, value in self.params.items()}

    # ---- forward and backward -----------------------------------------------------------------
    def forward(self, x, initial_states=None, mask=None, backend=None, train=False, rng=None):
        """x: (N, T, D). initial_states: None (zeros) or the layout of `zero_states`.
        mask: None or (N, T) bool, False on padded steps (they carry the state unchanged, so the
        final states and the last-step summary are those at each sequence's true end, and the
        reverse direction starts there). train: apply dropout and recurrent dropout (masks drawn
        from rng, default a fresh generator).

        Returns y ((N, T, W_L) or (N, W_L)), states (a list over layers of {'h': (dirs, N, H_l)}
        plus the cell's other states, e.g. 'c': each layer's final states) and a StackCache.
        """
        x = owned_input(x, self.input_size, self.dtype)
        params = owned_params(self)
        mask = check_mask(mask, x)
        N, T, _ = x.shape
        initial_states = check_states(self, "initial_states", initial_states, N)
        dropout, recurrent = sample_dropout_masks(self, N, T, rng) if train else ({}, {})
        cache = StackCache({0: x}, {}, dropout, [], backend or self.backend, weakref.ref(self),
                           params)
        dropped = {0: x}  # each output times its dropout mask: what the layers reading it get
        for l in range(1, self.num_layers + 1):
            layer_input = add_all(dropped[src] for src in self.layer_sources(l))
            layer_params = {d: [params[k] for k in self.param_keys(l, d)] for d in self.directions}
            cache.outputs[l], final, cache.layers[l] = layer_forward(
                self.spec, layer_params, layer_input, initial_states[l - 1],
                clock_mask(mask, self.clock_periods[l - 1], N, T), recurrent.get(l, {}),
                cache.backend)
            cache.final_states.append(final)
            dropped[l] = cache.outputs[l] * dropout[l] if l in dropout else cache.outputs[l]
        top, H = cache.outputs[self.num_layers], self.hidden_sizes[-1]
        check_finite_params(params, top, "y")
        y = top.copy() if self.return_sequences else last_step(top, H, self.bidirectional)
        return y, cache.final_states, cache

    def backward(self, dy, cache, dstates=None, dlayers=None, return_dinitial=False, backend=None,
                 return_state_gradients=False, dgates=None):
        """Backpropagation through time and depth.

        dy: gradient on y (None: no loss on y). dstates: None or, per layer, None or a dict of
        gradients on that layer's final states (any subset of its state names). dlayers: None or
        {layer l: (N, T, W_l)} gradients injected at layer l's output sequence (auxiliary losses).
        dgates: None or {layer l: {direction: (N, T, G*H_l)}} gradients on the gate activations
        cache.layers[l][direction][spec.gates_key], in that cache's time order (reversed for
        "bwd"), for a cell with a gates_key (penalties on the gates, regularisers.py); the layers
        given dgates run the NumPy reference backward, whatever the backend (the Numba kernels
        take no gate gradient). backend: default the one that ran `forward`.
        Returns dx: (N, T, D) and grads (same keys as params); with return_dinitial=True also the
        gradients on the initial states (their layout); with return_state_gradients=True also
        {l: {state name: (N, T, W_l)}}, the total gradient on every state at every step (both
        directions side by side, forward time), always from the NumPy reference.
        """
        check_cache(self, cache)
        dout = output_gradients(self, dy, cache, dlayers)
        dfinal = check_states(self, "dstates", dstates, cache.outputs[0].shape[0], partial=True)
        dgates = check_gate_gradients(self, dgates, cache)
        grads, dinitial, totals = {}, [None] * self.num_layers, {}
        for l in range(self.num_layers, 0, -1):
            dinputs, dparams, dinitial[l - 1], totals[l] = layer_backward(
                self.spec, dout[l], cache.layers[l], dfinal[l - 1], backend or cache.backend,
                return_state_gradients, dgates.get(l, {}))
            for dinput in dinputs:
                pass_down(self.layer_sources(l), dinput, cache.dropout, dout)
            for d, values in dparams.items():  # one cell call per parameter: assigned, not added
                grads.update(zip(self.param_keys(l, d), values))
        check_finite_params(cache.params, dout[0], "dx")
        results = (dout[0], {k: grads[k] for k in self.params})
        results += (dinitial,) if return_dinitial else ()
        return results + ((totals,) if return_state_gradients else ())

    # ---- sizes, parameters and states ---------------------------------------------------------
    @property
    def num_layers(self):
        return len(self.hidden_sizes)

    @property
    def cell(self):
        return self.spec.name

    @property
    def bidirectional(self):
        return len(self.directions) == 2

    def output_widths(self):
        """[W_1, ..., W_L]: the width of each layer's output sequence."""
        return [h * len(self.directions) for h in self.hidden_sizes]

    def layer_sources(self, l):
        """The layers whose outputs are summed into layer l's input: l-1 and every skip source."""
        return [l - 1] + [src for src, dst in self.skip_edges if dst == l]

    def param_keys(self, l, direction):
        """The names of layer l's parameters in one direction, in the cell's order."""
        return [f"layers.{l}.{direction}.{name}" for name in self.spec.param_names]

    def layer_params(self, l, direction):
        """Layer l's parameters for one direction, in the order the cell functions take them."""
        return [self.params[key] for key in self.param_keys(l, direction)]

    def state_shape(self, l, N):
        """Shape of each of layer l's states, (num_directions, N, H_l)."""
        return (len(self.directions), N, self.hidden_sizes[l - 1])

    def zero_states(self, N):
        """Initial states of zeros: a list over layers of {state name: (num_directions, N, H_l)}."""
        return [{k: np.zeros(self.state_shape(l, N), self.dtype) for k in self.spec.state_names}
                for l in range(1, self.num_layers + 1)]

    def random_states(self, N, rng, scale=0.5):
        """Random nonzero initial states, the layout of `zero_states` (for gradient checks)."""
        return [{k: (scale * rng.standard_normal(s.shape)).astype(self.dtype)
                 for k, s in st.items()} for st in self.zero_states(N)]

    def astype(self, dtype):
        """A copy of this network with every parameter cast to `dtype`."""
        config = dict(self.config, dtype=dtype, skip=self.skip_edges or None)
        net = StackedRNN(**config, backend=self.backend)
        net.params = {k: v.astype(dtype) for k, v in self.params.items()}
        return net

    def __repr__(self):
        c = self.config
        return (f"StackedRNN({c['cell']!r}, input_size={c['input_size']}, "
                f"hidden_sizes={c['hidden_sizes']}, bidirectional={c['bidirectional']}, "
                f"skip={c['skip']}, return_sequences={c['return_sequences']}, dtype={c['dtype']})")


# ---- one layer, both directions -----------------------------------------------------------------
def layer_forward(spec, params, layer_input, initial, mask, recurrent_masks, backend):
    """Run one layer of the cell `spec` in each of its directions, the reverse one on the
    time-reversed input and mask. params: {direction: [parameters in spec order]}; layer_input:
    (N, T, W_{l-1}); initial: {state name: (dirs, N, H)}; mask: None or (N, T) bool;
    recurrent_masks: {direction: (N, H)} recurrent-dropout masks, or {}.

    Returns the output (N, T, dirs*H) in forward time, the final states {name: (dirs, N, H)} and
    {direction: cell cache} (each in the order its direction ran).
    """
    forward, _ = spec.sequence_functions(backend)
    outs, caches = [], {}
    for k, d in enumerate(params):
        states0 = [initial[name][k] for name in spec.state_names]
        h, caches[d] = forward(run_order(layer_input, d), *states0, *params[d],
                               mask=None if mask is None else run_order(mask, d),
                               recurrent_mask=recurrent_masks.get(d), checked=True)
        outs.append(run_order(h, d))
    finals = zip(*(spec.final_states(caches[d]) for d in caches))  # per state, one per direction
    final = {name: stack_directions(parts) for name, parts in zip(spec.state_names, finals)}
    return (outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)), final, caches


def layer_backward(spec, dout, caches, dfinal, backend, state_gradients=False, dgates=None):
    """Backward of one layer in each of its directions. dout: (N, T, dirs*H) the gradient on its
    output; caches: {direction: cell cache}; dfinal: {state name: (dirs, N, H)} gradients on its
    final states (any subset); dgates: None or {direction: (N, T, G*H)} gradients on the gate
    activations (the NumPy reference runs the directions that have one).

    Returns [dLoss/d(layer input) (N, T, W_{l-1}) in forward time, one per direction],
    {direction: [parameter gradients in spec order]}, the initial-state gradients
    {name: (dirs, N, H)} and, with state_gradients=True (NumPy reference only), the total state
    gradients {name: (N, T, dirs*H)} in forward time (else None).
    """
    dgates = dgates or {}
    num_states, H = len(spec.state_names), dout.shape[-1] // len(caches)
    dinputs, dparams, dinitial, totals = [], {}, [], {}
    for k, d in enumerate(caches):
        dh = run_order(direction_part(dout, k, H), d)
        dfinal_d = [dfinal[name][k] if name in dfinal else None for name in spec.state_names]
        gates = {"dgates": dgates[d]} if d in dgates else {}
        reference = state_gradients or gates  # what only the NumPy reference records or takes
        backward = spec.backward if reference else spec.sequence_functions(backend)[1]
        if state_gradients:
            (dx, *rest), totals[d] = backward(dh, caches[d], *dfinal_d, checked=True,
                                              state_gradients=True, **gates)
        else:
            dx, *rest = backward(dh, caches[d], *dfinal_d, checked=True, **gates)
        dinputs.append(run_order(dx, d))
        dinitial.append(rest[:num_states])
        dparams[d] = rest[num_states:]
    dinitial = {name: stack_directions(parts) for name, parts in zip(spec.state_names,
                                                                      zip(*dinitial))}
    if state_gradients:
        totals = {name: np.concatenate([run_order(totals[d][name], d) for d in caches], axis=-1)
                  for name in spec.state_names}
    return dinputs, dparams, dinitial, totals or None


# ---- the gradient on each layer's output ----------------------------------------------------------
def output_gradients(net, dy, cache, dlayers=None):
    """The parts of each layer's output gradient dLoss/d out_l (N, T, W_l) known before the
    backward pass: dy on the top layer (None: no loss on y) and dlayers[l] on layer l, as
    {l: sum of its parts}. `pass_down` adds the rest, as each layer's backward hands its input
    gradient to the layers it read."""
    outputs, L = cache.outputs, net.num_layers
    N, T = outputs[0].shape[:2]
    dout = {}
    if dy is not None and net.return_sequences:
        check_gradient("dy", dy, outputs[L].shape)
        accumulate(dout, L, dy.astype(net.dtype, copy=False))
    elif dy is not None:
        check_gradient("dy", dy, (N, outputs[L].shape[-1]))
        accumulate(dout, L, np.zeros(outputs[L].shape, net.dtype))
        last_step_backward(dy, dout[L], net.hidden_sizes[-1], net.bidirectional)
    for l, g in (dlayers or {}).items():
        if l not in range(1, L + 1):
            raise ValueError(f"dlayers keys must be layer numbers 1..{L}; got {l!r}")
        check_gradient(f"dlayers[{l}]", g, outputs[l].shape)
        accumulate(dout, l, g.astype(net.dtype, copy=False))
    if L not in dout:  # no loss reaches the top layer
        accumulate(dout, L, np.zeros(outputs[L].shape, net.dtype))
    return dout


def check_gate_gradients(net, dgates, cache):
    """dgates as {l: {direction: array}} ({} for None), each array checked against the gate
    activations of cache.layers[l][direction]."""
    if dgates is None:
        return {}
    if not isinstance(dgates, dict):
        raise TypeError(f"dgates must be None or a dict {{layer: {{direction: array}}}}; "
                        f"got {type(dgates).__name__}")
    for l, per_direction in dgates.items():
        if l not in range(1, net.num_layers + 1):
            raise ValueError(f"dgates keys must be layer numbers 1..{net.num_layers}; got {l!r}")
        if not isinstance(per_direction, dict) or set(per_direction) - set(net.directions):
            raise ValueError(f"dgates[{l}] must be a dict {{direction: array}} with directions "
                             f"among {net.directions}; got {per_direction!r:.80}")
        for d, g in per_direction.items():
            check_gate_gradient(net.spec, g, cache.layers[l][d], name=f"dgates[{l}][{d!r}]")
    return dgates


def pass_down(sources, dinput, dropout, dout):
    """Hand dLoss/d(input of a layer) to every source of that input: the input was a sum of the
    sources' outputs (each times its dropout mask in a training run), so each gets all of it,
    dout[src] += dinput * mask. dropout: {src: mask broadcastable against dinput}."""
    for src in sources:
        accumulate(dout, src, dinput if src not in dropout else dinput * dropout[src])


def accumulate(dout, l, g):
    """dout[l] += g, where dout[l] starts at zero: a layer's first part is copied in rather than
    added to a buffer of zeros (the same sum, without writing and reading the zeros). The copy is
    stored time-major, (N, T, ...) over (T, N, ...) memory: the layout the kernels read without
    another copy (kernels/arrays.py). dout holds only copies: never an array the caller owns."""
    if l in dout:
        dout[l] += g
    else:
        dout[l] = np.array(g.swapaxes(0, 1), order="C").swapaxes(0, 1)


def last_step(out, H, bidirectional):
    """The summary of a top-layer output (N, T, W_L) -> (N, W_L): the forward direction at
    t = T-1 and the reverse direction at t = 0 (its state after the whole sequence)."""
    parts = [out[:, -1, :H]] + ([out[:, 0, H:]] if bidirectional else [])
    return np.concatenate(parts, axis=-1)


def last_step_backward(dy, dout, H, bidirectional):
    """Backward of `last_step`: scatter dy (N, W_L) into dout (N, T, W_L) with +=."""
    dout[:, -1, :H] += dy[:, :H]
    if bidirectional:
        dout[:, 0, H:] += dy[:, H:]


# ---- small helpers ------------------------------------------------------------------------------
def direction_part(a, k, H):
    """Direction k's part of a layer output or its gradient: a[..., k*H:(k+1)*H]."""
    return a[..., k * H:(k + 1) * H]


def run_order(seq, direction):
    """seq (N, T, ...) in forward time -> the order `direction` runs in: as it is for 'fwd',
    reversed in time for 'bwd'. Reversing twice is the identity, so it also turns a result of the
    reverse direction back to forward time."""
    return seq if direction == "fwd" else seq[:, ::-1]


def add_all(arrays):
    """The sum of a non-empty iterable of arrays, out of place; the array itself (no copy) when
    there is only one."""
    first, *rest = arrays
    return sum(rest, first) if rest else first


def stack_directions(parts):
    """One (N, H) array per direction -> a new (dirs, N, H) array (np.stack, 5x cheaper for one
    direction)."""
    return parts[0][None].copy() if len(parts) == 1 else np.stack(parts)
