"""Inter-layer regularisers: penalties on how the layers of a stack work together, for `fit`.

Shape legend: N batch, T time steps, L layers, H_l hidden units of layer l, W_l the width of
layer l's output (H_l, or 2 H_l when bidirectional), G gate blocks, m (N, T) 1 on the steps a
layer took and 0 on those it skipped (padding, clocks; all 1 without a mask).

Gate coordination (an LSTM stack). Layer l's output gate o^l decides how much of its cell state
goes out; layer l+1's input gate i^{l+1} how much of what comes in is written to its cell. When
both are small, the same signal is cut twice. The penalty pushes their sum up to at least 1:

    s^l   = o^l + i^{l+1}                                (N, T, H)   l = 1 .. L-1, H_l = H_{l+1}
    R     = sum over l, n, t, j of m_nt relu(1 - s^l_ntj)^2 / count,   count = H * sum(m) summed
                                                         over the pairs (and the directions)
    dR/do^l = dR/di^{l+1} = -2 m relu(1 - s^l) / count

Unit j of o^l is paired with unit j of i^{l+1}, direction by direction in a bidirectional stack.
That pairing is a convention: every unit of layer l feeds every gate of layer l+1, and training
settles which pairs coordinate. The gradient lands on the gate activations (the cell cache's
`gates_key`, the LSTM's "ifgo"): `StackedRNN.backward(dgates=...)` hands it to each step of the
layer's BPTT, where the LSTM's step backward adds it to di, do and takes it through sigmoid' to
the pre-activations.

Consistency (any cell). A learned linear map P takes layer l's time-pooled output to the stack's
summary, the top layer's state after the whole sequence:

    z = sum_t m_t out_l[:, t] / sum_t m_t        (N, W_l)   the mean over the steps layer l took
    y = last_step(out_L)                         (N, W_L)   [fwd at T-1, bwd at 0]
    R = mean over n, k of (z @ P + c - y)^2      P: (W_l, W_L), c: (W_L,)

Both layers get gradient (through dlayers: out_l at each step it took, out_L at its summary
steps), and P, c train with the model.

A regulariser is an object with
    net       the StackedRNN whose cache it reads
    name      its parameters are called "reg.<name>.<param>" in `fit`
    params    {param: array}, {} if it has none
    reg(cache) -> loss, dlayers {l: (N, T, W_l)}, dgates {l: {direction: (N, T, G*H_l)}},
                  grads {param: array}              from that net's StackCache
`fit(model, ..., regularisers=[(reg, weight), ...])` adds weight * loss to the training loss and
the weighted gradients to its one backward pass (`apply_regularisers`).
"""
import numpy as np

from .stack import check_cache, last_step, last_step_backward
from .validation import check_finite_number, check_int


# ---- gate coordination --------------------------------------------------------------------------
class GateCoordination:
    """The gate-coordination penalty on every pair of consecutive layers of `net` (module
    docstring). net: a StackedRNN of a cell with a gates_key and sigmoid gates "i" and "o" (the
    LSTM), at least 2 layers, all of one width. It has no parameters of its own."""

    def __init__(self, net, name="gate_coordination"):
        spec = net.spec
        if spec.gates_key is None or not {"i", "o"} <= set(spec.sigmoid_gates):
            raise ValueError(f"gate coordination needs a cell with input and output gates that "
                             f"exposes them (a CellSpec with gates_key and sigmoid gates 'i' and "
                             f"'o', like the LSTM); got cell {spec.name!r}")
        if net.num_layers < 2 or len(set(net.hidden_sizes)) != 1:
            raise ValueError(f"gate coordination pairs unit j of layer l with unit j of layer "
                             f"l+1: it needs at least 2 layers of one width; got hidden_sizes "
                             f"{list(net.hidden_sizes)}")
        self.net, self.name, self.params = net, name, {}

    def __call__(self, cache):
        """R from net's StackCache. Returns R, {} (no dlayers), dgates, {} (no parameters)."""
        check_cache(self.net, cache)
        pairs = list(coordinated_gates(self.net, cache))
        count = sum(float(np.sum(steps)) * o.shape[-1] for _, _, o, _, steps in pairs)
        count = max(count, 1.0)  # no step taken anywhere: R = 0, not 0 / 0
        loss, dgates = 0.0, {}
        for l, d, o, i, steps in pairs:
            shortfall = np.maximum(1.0 - o - i, 0.0) * steps  # relu(1 - s), 0 where skipped
            loss += float(np.sum(shortfall * shortfall))
            # backward: R = sum(shortfall^2) / count, shortfall = relu(1 - s), s = o + i
            ds = -2.0 * shortfall / count
            gate_block(gate_buffer(dgates, l, d, cache), self.net.spec, "o")[...] += ds
            gate_block(gate_buffer(dgates, l + 1, d, cache), self.net.spec, "i")[...] += ds
        return loss / count, {}, dgates, {}


def coordinated_gates(net, cache):
    """For each pair of layers (l, l+1) and each direction d: (l, d, o^l, i^{l+1}, steps), where
    o, i: (N, T, H) are views of the two layers' gate activations (in d's time order, the order
    of its caches) and steps: (N, T, 1) is 1.0 where both layers took the step, else 0.0."""
    spec = net.spec
    for l in range(1, net.num_layers):
        for d in net.directions:
            lower, upper = cache.layers[l][d], cache.layers[l + 1][d]
            o = gate_block(lower[spec.gates_key], spec, "o")
            i = gate_block(upper[spec.gates_key], spec, "i")
            steps = steps_taken(lower, o.dtype) * steps_taken(upper, o.dtype)
            yield l, d, o, i, steps[:, :, None]


def gate_sums(net, cache):
    """{l: 1-d array of o^l + i^{l+1} on the steps both layers took} (every unit, sequence and
    direction): what the gate-coordination penalty reads, for histograms."""
    parts = {}
    for l, _, o, i, steps in coordinated_gates(net, cache):
        parts.setdefault(l, []).append((o + i)[np.broadcast_to(steps > 0, o.shape)])
    return {l: np.concatenate(p) for l, p in parts.items()}


def gate_block(a, spec, gate):
    """The block of gate `gate` (a name in spec.sigmoid_gates) of gate activations (or their
    gradient) a: (..., G*H) -> a view (..., H)."""
    H, k = a.shape[-1] // spec.gates, spec.sigmoid_gates[gate]
    return a[..., k * H:(k + 1) * H]


def gate_buffer(dgates, l, d, cache):
    """dgates[l][d], made a zeroed array shaped like layer l's gate activations if missing."""
    per_direction = dgates.setdefault(l, {})
    if d not in per_direction:
        gates = cache.layers[l][d][cache.network().spec.gates_key]
        per_direction[d] = np.zeros(gates.shape, gates.dtype)
    return per_direction[d]


def steps_taken(cell_cache, dtype):
    """m: (N, T) 1.0 where the cell took the step, 0.0 where it carried its state (its mask)."""
    mask = cell_cache["mask"]
    return np.ones(cell_cache["x"].shape[:2], dtype) if mask is None else mask.astype(dtype)


# ---- consistency --------------------------------------------------------------------------------
class Consistency:
    """The consistency penalty between layer `lower` and the top layer of `net` (module
    docstring), with its own parameters P: (W_lower, W_L), drawn from U(-1/sqrt(W_lower),
    1/sqrt(W_lower)) with `seed`, and c = 0: (W_L,)."""

    def __init__(self, net, lower=1, seed=0, name="consistency"):
        lower = check_int("lower", lower)
        if lower >= net.num_layers:
            raise ValueError(f"lower must name a layer below the top one (1 <= lower < "
                             f"{net.num_layers}); got {lower}")
        widths = net.output_widths()
        bound = 1.0 / np.sqrt(widths[lower - 1])
        P = np.random.default_rng(seed).uniform(-bound, bound, (widths[lower - 1], widths[-1]))
        self.net, self.lower, self.name = net, lower, name
        self.params = {"P": P.astype(net.dtype), "c": np.zeros(widths[-1], net.dtype)}

    def __call__(self, cache):
        """R from net's StackCache. Returns R, dlayers {lower: (N, T, W_lower), L: (N, T, W_L)},
        {} (no dgates) and {"P": dP, "c": dc}."""
        check_cache(self.net, cache)
        net, top = self.net, cache.outputs[self.net.num_layers]
        z, pool = pooled_output(cache, self.lower)
        summary = last_step(top, net.hidden_sizes[-1], net.bidirectional)
        loss, dz, dsummary, grads = consistency_loss(z, summary, self.params["P"],
                                                     self.params["c"])
        # forward: z = sum_t pool_t out_lower[:, t]
        dlower = pool[:, :, None] * dz[:, None, :]
        dtop = np.zeros_like(top)
        last_step_backward(dsummary, dtop, net.hidden_sizes[-1], net.bidirectional)
        return loss, {self.lower: dlower, net.num_layers: dtop}, {}, grads


def pooled_output(cache, l):
    """Layer l's output averaged over the steps it took: z (N, W_l) and the weights of the mean,
    pool (N, T) (each row sums to 1), from a StackCache."""
    steps = steps_taken(cache.layers[l]["fwd"], cache.outputs[l].dtype)
    counts = steps.sum(axis=1, keepdims=True)  # (N, 1)
    if np.any(counts == 0):
        raise ValueError(f"layer {l} took no step in a sequence of this batch, so it has no "
                         f"mean over time (a clock period longer than the sequence?)")
    pool = steps / counts
    return np.einsum("nt,ntw->nw", pool, cache.outputs[l]), pool


def consistency_loss(z, summary, P, c):
    """R = mean((z @ P + c - summary)^2). z: (N, W_l); summary: (N, W_L); P: (W_l, W_L);
    c: (W_L,). Returns R, dz (N, W_l), dsummary (N, W_L) and {"P": dP, "c": dc}."""
    diff = z @ P + c - summary  # (N, W_L)
    loss = float(np.mean(diff * diff))
    # backward: R = sum(diff^2) / (N W_L), diff = z @ P + c - summary
    ddiff = 2.0 * diff / diff.size
    return loss, ddiff @ P.T, -ddiff, {"P": z.T @ ddiff, "c": ddiff.sum(axis=0)}


# ---- the hook in fit ----------------------------------------------------------------------------
def check_regularisers(regularisers, model):
    """fit's `regularisers` (None or a list of (regulariser, weight) pairs, weight >= 0, each
    regulariser reading a Recurrent layer of `model`, names distinct) as a list of
    (regulariser, weight, the name of its Recurrent layer)."""
    if regularisers is None:
        return []
    if not isinstance(regularisers, (list, tuple)):
        raise TypeError(f"regularisers must be None or a list of (regulariser, weight) pairs; "
                        f"got {type(regularisers).__name__}")
    checked, names = [], set()
    for k, item in enumerate(regularisers):
        if not isinstance(item, (list, tuple)) or len(item) != 2:
            raise TypeError(f"regularisers[{k}] must be a pair (regulariser, weight); got "
                            f"{item!r:.80}")
        reg, weight = item
        if not callable(reg) or not all(hasattr(reg, a) for a in ("net", "name", "params")):
            raise TypeError(f"regularisers[{k}][0] must be a regulariser (callable, with net, "
                            f"name and params; e.g. GateCoordination, Consistency); got "
                            f"{type(reg).__name__}")
        weight = check_finite_number(f"the weight of regularisers[{k}]", weight)
        if weight < 0:
            raise ValueError(f"the weight of regularisers[{k}] must be >= 0; got {weight}")
        layers = [name for name in sorted(model.recurrent_names())
                  if model.layers[name].net is reg.net]
        if not layers:
            raise ValueError(f"regularisers[{k}] ({reg.name!r}) reads a network that is not a "
                             f"Recurrent layer of this model")
        if reg.name in names:
            raise ValueError(f"regularisers[{k}]: the name {reg.name!r} is taken; regularisers "
                             f"need distinct names (their parameters are 'reg.<name>.<param>')")
        names.add(reg.name)
        checked.append((reg, weight, layers[0]))
    return checked


def regulariser_params(checked):
    """{"reg.<name>.<param>": array} of every checked regulariser: the arrays themselves."""
    return {f"reg.{reg.name}.{key}": value for reg, _, _ in checked
            for key, value in reg.params.items()}


def apply_regularisers(checked, cache):
    """The regularisers of one training step, from the model's ModelCache.

    Returns {name: weight * R}, then dlayers and dgates as `Sequential.backward` takes them
    ({recurrent layer name: ...}, every regulariser's gradient times its weight, summed) and the
    weighted gradients of their parameters, keyed as `regulariser_params` names them.
    """
    losses, dlayers, dgates, grads = {}, {}, {}, {}
    for reg, weight, layer in checked:
        loss, dl, dg, g = reg(cache.layers[layer])
        if set(g) != set(reg.params):
            raise ValueError(f"regulariser {reg.name!r} returned gradients for {sorted(g)}; "
                             f"its params are {sorted(reg.params)}")
        losses[reg.name] = weight * loss
        for l, value in dl.items():
            add_into(dlayers.setdefault(layer, {}), l, weight * value)
        for l, per_direction in dg.items():
            for d, value in per_direction.items():
                add_into(dgates.setdefault(layer, {}).setdefault(l, {}), d, weight * value)
        grads.update({f"reg.{reg.name}.{key}": weight * value for key, value in g.items()})
    return losses, dlayers, dgates, grads


def add_into(table, key, value):
    """table[key] += value, where a missing entry counts as zero (value is a fresh array)."""
    if key in table:
        table[key] += value
    else:
        table[key] = value
