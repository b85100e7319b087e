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
sequence. Backward over depth is the same path in reverse: dout_l collects the gradient from the
layer above, from every skip edge leaving l, and any gradient injected at l (`dlayers`), all with +=.

`forward` and `backward` check what they are given once, at the top; the layers then call the
kernels' trusted entry points, which check shapes but do not scan the values again.

Parameters live in one flat dict named by where they sit: "layers.2.bwd.Wh". `backward` returns a
grads dict with exactly the same keys.
"""
import numpy as np

from .backends import resolve_backend, sequence_functions
from .cells import get_cell
from .cells.masking import check_mask
from .initializers import init_cell_params
from .validation import (check_dtype, check_float_array, check_sequence, check_shape,
                         shape_str)


def skip_edges(skip, num_layers):
    """The skip edges (src, dst) for a `skip` argument: None (no edges), "l-2" (an edge from
    layer l-2 into layer l for every l >= 3) or an explicit list of (src, dst) layer pairs with
    0 <= src <= dst - 2 (src 0 is the input x)."""
    if skip is None:
        return []
    if skip == "l-2":
        return [(l - 2, l) for l in range(3, num_layers + 1)]
    if isinstance(skip, str):
        raise ValueError(f"skip must be None, 'l-2' or a list of (src, dst) pairs; got {skip!r}")
    edges = [tuple(int(v) for v in edge) for edge in skip]
    for src, dst in edges:
        if not (0 <= src <= dst - 2 and dst <= num_layers):
            raise ValueError(f"skip edge ({src}, {dst}) must satisfy 0 <= src <= dst - 2 and "
                             f"dst <= {num_layers} (the number of layers)")
    return sorted(set(edges))


def add_all(arrays):
    """The sum of a non-empty iterable of arrays, out of place; the array itself (no copy) when
    there is only one."""
    first, *rest = arrays
    return sum(rest, first) if rest else first


def stack_directions(parts):
    """One (N, H) array per direction -> a new (dirs, N, H) array (np.stack, 5x cheaper for one
    direction)."""
    return parts[0][None].copy() if len(parts) == 1 else np.stack(parts)


class StackedRNN:
    """A deep recurrent network: L layers of one cell type ('rnn', 'lstm' or 'gru').

    cell: 'rnn' (tanh), 'lstm' or 'gru'.     input_size: D.
    hidden_sizes: [H_1, ..., H_L]; layers may differ in width.
    bidirectional: each layer runs forward and reverse; outputs are concatenated.
    skip: None, 'l-2', or a list of (src, dst) layer pairs; a skip edge adds out_src to the input
          of layer dst, so the widths must match.
    return_sequences: True -> y: (N, T, W_L); False -> y: (N, W_L), the summary at the last step.
    dtype: np.float64 or np.float32.   seed: for the initial parameters.
    backend: 'numba' or 'numpy' (default: $MINIRNN_BACKEND, else 'numba'); overridable per call.
    init: 'uniform' (PyTorch's U(-1/sqrt(H), 1/sqrt(H))) or 'orthogonal' recurrent weights;
    forget_bias: added to the LSTM forget-gate bias.
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
        if isinstance(hidden_sizes, (int, np.integer)):
            hidden_sizes = [hidden_sizes]
        self.hidden_sizes = [int(h) for h in hidden_sizes]
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ValueError(f"hidden_sizes must be a non-empty list of positive ints; "
                             f"got {hidden_sizes!r}")
        if int(input_size) < 1:
            raise ValueError(f"input_size must be a positive int; got {input_size!r}")
        self.dtype = check_dtype(dtype)
        self.input_size = int(input_size)
        self.directions = ("fwd", "bwd") if bidirectional else ("fwd",)
        self.return_sequences = bool(return_sequences)
        self.backend = resolve_backend(backend)
        self.skip_edges = skip_edges(skip, self.num_layers)
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0.0 <= float(rate) < 1.0:
                raise ValueError(f"{name} must be in [0, 1); got {rate!r}")
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        periods = [1] * self.num_layers if clock_periods is None else list(clock_periods)
        if len(periods) != self.num_layers or min(int(p) for p in periods) < 1:
            raise ValueError(f"clock_periods must hold {self.num_layers} positive ints (one per "
                             f"layer); got {clock_periods!r}")
        self.clock_periods = [int(p) for p in periods]
        self.config = {"cell": self.spec.name, "input_size": self.input_size,
                       "hidden_sizes": list(self.hidden_sizes), "bidirectional": bool(bidirectional),
                       "skip": [list(e) for e in self.skip_edges] or None,
                       "return_sequences": self.return_sequences, "dtype": self.dtype.name,
                       "init": init, "forget_bias": float(forget_bias), "dropout": self.dropout,
                       "recurrent_dropout": self.recurrent_dropout,
                       "clock_periods": None if clock_periods is None else self.clock_periods}
        widths = [self.input_size] + self.output_widths()
        for src, dst in self.skip_edges:
            if widths[src] != widths[dst - 1]:
                raise ValueError(f"skip edge ({src}, {dst}) adds a width-{widths[src]} output to "
                                 f"layer {dst}'s width-{widths[dst - 1]} input; widths must match")
        rng = np.random.default_rng(seed)
        self.params = {}
        for l in range(1, self.num_layers + 1):
            for d in self.directions:
                layer = init_cell_params(self.spec, widths[l - 1], self.hidden_sizes[l - 1], rng,
                                         self.dtype, init=init, forget_bias=forget_bias)
                self.params.update({f"layers.{l}.{d}.{k}": v for k, v in layer.items()})

    # ---- sizes and states ---------------------------------------------------------------------
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

    def state_shape(self, l, N):
        """Shape of each of layer l's states, (num_directions, N, H_l)."""
        return (len(self.directions), N, self.hidden_sizes[l - 1])

    def zero_states(self, N):
        """Initial states of zeros: a list over layers of {state name: (num_directions, N, H_l)}."""
        return [{k: np.zeros(self.state_shape(l, N), self.dtype) for k in self.spec.state_names}
                for l in range(1, self.num_layers + 1)]

    def random_states(self, N, rng, scale=0.5):
        """Random nonzero initial states, the layout of `zero_states` (for gradient checks)."""
        return [{k: (scale * rng.standard_normal(s.shape)).astype(self.dtype) for k, s in st.items()}
                for st in self.zero_states(N)]

    def layer_params(self, l, direction):
        """Layer l's parameters for one direction, in the order the cell functions take them."""
        return [self.params[f"layers.{l}.{direction}.{name}"] for name in self.spec.param_names]

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

    # ---- forward ------------------------------------------------------------------------------
    def forward(self, x, initial_states=None, mask=None, backend=None, train=False, rng=None):
        """x: (N, T, D). initial_states: None (zeros) or the layout of `zero_states`.
        mask: None or (N, T) bool, False on padded steps (they carry the state unchanged, so the
        final states and the last-step summary are those at each sequence's true end, and the
        reverse direction starts there). train: apply dropout and recurrent dropout (masks drawn
        from rng, default a fresh generator).

        Returns y ((N, T, W_L) or (N, W_L)), states (a list over layers of {'h': (dirs, N, H_l)}
        plus 'c' for the LSTM: each layer's final states) and the cache for `backward`.
        """
        check_sequence("x", x, self.input_size)
        x = x.astype(self.dtype, copy=False)
        mask = check_mask(mask, x)
        initial_states = self.check_states("initial_states", initial_states, x.shape[0])
        backend = backend or self.backend
        dropout, recurrent = self.training_masks(x.shape[:2], rng) if train else ({}, {})
        outputs, dropped, layer_caches, states = {0: x}, {0: x}, {}, []
        for l in range(1, self.num_layers + 1):
            layer_input = add_all(dropped[src] for src in self.layer_sources(l))
            outputs[l], final, layer_caches[l] = self.layer_forward(
                l, layer_input, initial_states[l - 1], self.layer_mask(l, mask, x.shape[:2]),
                recurrent.get(l, {}), backend)
            dropped[l] = outputs[l] * dropout[l] if l in dropout else outputs[l]
            states.append(final)
        y = outputs[self.num_layers] if self.return_sequences else self.last_step(outputs[self.num_layers])
        cache = {"outputs": outputs, "dropout": dropout, "layers": layer_caches, "backend": backend}
        return y, states, cache

    def training_masks(self, NT, rng):
        """The random masks of one training run: (dropout masks, recurrent-dropout masks), each
        {} when its rate is 0. rng: a numpy Generator, or None for a fresh one."""
        rng = np.random.default_rng() if rng is None else rng
        return (self.dropout_masks(NT, rng) if self.dropout > 0 else {},
                self.recurrent_dropout_masks(NT[0], rng) if self.recurrent_dropout > 0 else {})

    def dropout_masks(self, NT, rng):
        """{l: (N, T, W_l)} inverted-dropout masks (0 or 1/(1-p)) for every layer but the top."""
        keep = 1.0 - self.dropout
        return {l: (rng.random(NT + (w,)) < keep).astype(self.dtype) / keep
                for l, w in enumerate(self.output_widths()[:-1], start=1)}

    def recurrent_dropout_masks(self, N, rng):
        """{l: {direction: (N, H_l)}} variational recurrent-dropout masks (0 or 1/(1-p))."""
        keep = 1.0 - self.recurrent_dropout
        return {l: {d: (rng.random((N, H)) < keep).astype(self.dtype) / keep
                    for d in self.directions}
                for l, H in enumerate(self.hidden_sizes, start=1)}

    def layer_mask(self, l, mask, NT):
        """The (N, T) step mask of layer l: the padding mask and its clock, or None."""
        period = self.clock_periods[l - 1]
        if period == 1:
            return mask
        ticks = np.broadcast_to((np.arange(NT[1]) + 1) % period == 0, NT)
        return ticks if mask is None else ticks & mask

    def layer_forward(self, l, layer_input, initial, mask, recurrent_masks, backend):
        """Run layer l in each direction (the reverse one on the time-reversed input and mask);
        recurrent_masks: {direction: (N, H_l)} recurrent-dropout masks, or {}.
        Returns its output (N, T, W_l), its final states {name: (dirs, N, H_l)} and
        {direction: cell cache}."""
        forward, _ = sequence_functions(self.spec, backend, trusted=True)
        outs, caches = [], {}
        finals = {name: [] for name in self.spec.state_names}
        for k, d in enumerate(self.directions):
            seq, seq_mask = (layer_input, mask) if d == "fwd" else (
                layer_input[:, ::-1], None if mask is None else mask[:, ::-1])
            states0 = [initial[name][k] for name in self.spec.state_names]
            h, caches[d] = forward(seq, *states0, *self.layer_params(l, d), mask=seq_mask,
                                   recurrent_mask=recurrent_masks.get(d))
            outs.append(h if d == "fwd" else h[:, ::-1])
            for name, state in zip(self.spec.state_names, self.spec.final_states(caches[d])):
                finals[name].append(state)
        final = {name: stack_directions(v) for name, v in finals.items()}
        return (outs[0] if len(outs) == 1 else np.concatenate(outs, axis=-1)), final, caches

    def last_step(self, out):
        """The summary of a top-layer output (N, T, W_L) -> (N, W_L): the forward direction at
        t = T-1 and the reverse direction at t = 0 (its state after the whole sequence)."""
        H = self.hidden_sizes[-1]
        parts = [out[:, -1, :H]] + ([out[:, 0, H:]] if self.bidirectional else [])
        return np.concatenate(parts, axis=-1)

    # ---- backward -----------------------------------------------------------------------------
    def backward(self, dy, cache, dstates=None, dlayers=None, return_dinitial=False, backend=None):
        """Backpropagation through time and depth.

        dy: gradient on y. dstates: None or, per layer, None or a dict of gradients on that
        layer's final states (any subset of its state names). dlayers: None or
        {layer l: (N, T, W_l)} gradients injected at layer l's output sequence (auxiliary losses).
        Returns dx: (N, T, D) and grads (same keys as params); with return_dinitial=True also the
        gradients on the initial states, in their layout.
        """
        L = self.num_layers
        douts = self.output_gradients(dy, cache, dlayers)
        dstates = self.check_states("dstates", dstates, cache["outputs"][0].shape[0], partial=True)
        grads, dinitial = {}, [None] * L
        for l in range(L, 0, -1):
            dlayer_input, dinitial[l - 1] = self.layer_backward(
                l, add_all(douts[l]), cache["layers"][l], dstates[l - 1], grads,
                backend or cache["backend"])
            self.pass_down(l, dlayer_input, cache, douts)
        grads = {k: grads[k] for k in self.params}
        dx = add_all(douts[0])
        return (dx, grads, dinitial) if return_dinitial else (dx, grads)

    def output_gradients(self, dy, cache, dlayers=None):
        """The gradient on each layer's output, {l: [parts]}, as far as it is known before the
        backward pass: dy on the top layer (as in `backward`), dlayers where injected. The parts
        from the layers above and the skip edges are added by `pass_down`; `add_all` sums them
        when the layer's turn comes."""
        outputs, L = cache["outputs"], self.num_layers
        N = outputs[0].shape[0]
        y_shape = outputs[L].shape if self.return_sequences else (N, outputs[L].shape[-1])
        self.check_gradient("dy", dy, y_shape)
        dy = dy.astype(self.dtype, copy=False)
        douts = {l: [] for l in outputs}
        if self.return_sequences:
            douts[L].append(dy)
        else:
            douts[L].append(np.zeros(outputs[L].shape, self.dtype))
            self.last_step_backward(dy, douts[L][0])
        for l, g in (dlayers or {}).items():
            if l not in range(1, L + 1):
                raise ValueError(f"dlayers keys must be layer numbers 1..{L}; got {l!r}")
            self.check_gradient(f"dlayers[{l}]", g, outputs[l].shape)
            douts[l].append(g.astype(self.dtype, copy=False))
        return douts

    def pass_down(self, l, dlayer_input, cache, douts):
        """Hand dLoss/d(input of layer l) to every source of that input: in_l was a sum, so each
        source gets all of it (times the source's dropout mask in a training run)."""
        for src in self.layer_sources(l):
            mask = cache["dropout"].get(src)
            douts[src].append(dlayer_input if mask is None else dlayer_input * mask)

    def layer_backward(self, l, dout, caches, dfinal, grads, backend):
        """Backward of layer l. dout: (N, T, W_l). Writes the parameter gradients into grads.
        Returns dLoss/d(layer input) (N, T, W_{l-1}) and the initial-state gradients."""
        _, backward = sequence_functions(self.spec, backend, trusted=True)
        H, S = self.hidden_sizes[l - 1], len(self.spec.state_names)
        dlayer_input, dinitial = [], {name: [] for name in self.spec.state_names}
        for k, d in enumerate(self.directions):
            dh = dout[..., k * H:(k + 1) * H]  # this direction's half of the output
            dh = dh if d == "fwd" else dh[:, ::-1]
            dfinal_d = [None if dfinal.get(name) is None else dfinal[name][k]
                        for name in self.spec.state_names]
            dseq, *rest = backward(dh, caches[d], *dfinal_d)
            dlayer_input.append(dseq if d == "fwd" else dseq[:, ::-1])
            for name, g in zip(self.spec.state_names, rest[:S]):
                dinitial[name].append(g)
            for name, g in zip(self.spec.param_names, rest[S:]):
                grads[f"layers.{l}.{d}.{name}"] = g
        return add_all(dlayer_input), {name: stack_directions(v) for name, v in dinitial.items()}

    def last_step_backward(self, dy, dout):
        """Backward of `last_step`: scatter dy (N, W_L) into dout (N, T, W_L) with +=."""
        H = self.hidden_sizes[-1]
        dout[:, -1, :H] += dy[:, :H]
        if self.bidirectional:
            dout[:, 0, H:] += dy[:, H:]

    # ---- checks -------------------------------------------------------------------------------
    def check_gradient(self, name, g, shape):
        check_float_array(name, g)
        check_shape(name, g, shape)

    def check_states(self, name, states, N, partial=False):
        """Validate a list over layers of {state name: (dirs, N, H_l)}. None means zeros
        (initial states) or no gradient (partial=True: layers and names may be missing)."""
        if states is None:
            return [{} for _ in range(self.num_layers)] if partial else self.zero_states(N)
        if not isinstance(states, (list, tuple)) or len(states) != self.num_layers:
            raise ValueError(f"{name} must be a list of {self.num_layers} dicts (one per layer) "
                             f"with keys {self.spec.state_names}; got {type(states).__name__}"
                             f" of length {len(states) if hasattr(states, '__len__') else '?'}")
        checked = []
        for l, layer_states in enumerate(states, start=1):
            layer_states = layer_states or {}
            if not isinstance(layer_states, dict):
                raise TypeError(f"{name}[{l - 1}] (layer {l}) must be a dict with keys "
                                f"{self.spec.state_names}; got {type(layer_states).__name__}")
            unknown = set(layer_states) - set(self.spec.state_names)
            missing = set(self.spec.state_names) - set(layer_states)
            if unknown or (missing and not partial):
                raise ValueError(f"{name}[{l - 1}] (layer {l}) must have keys "
                                 f"{self.spec.state_names}; got {sorted(layer_states)}")
            expected = self.state_shape(l, N)
            for key, value in layer_states.items():
                label = f"{name}[{l - 1}][{key!r}] (layer {l})"
                check_float_array(label, value)
                if value.shape != expected:
                    raise ValueError(f"{label} must have shape {shape_str(expected)} "
                                     f"(directions, N, H_{l}); got {shape_str(value.shape)}")
            checked.append({k: v.astype(self.dtype, copy=False) for k, v in layer_states.items()})
        return checked
