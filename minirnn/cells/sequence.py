"""Any cell over a whole sequence: the NumPy reference's one forward loop and one BPTT loop.

Shape legend: N batch, T time steps, D input features, H hidden units. A cell has one or more
states, each (N, H): h (the output), and the LSTM's c.

A cell (a CellSpec, spec.py) knows one step; these two loops run it over time for every cell:

    forward   s_t = step_forward(x_t, s_{t-1})                       t = 0 .. T-1, s_{-1} = s0
    backward  ds_t = dout_t (on h) + ds_t^{from t+1}                 t = T-1 .. 0
              dx_t, ds_{t-1}^{from t}, dparams_t = step_backward(ds_t, cache_t)
              dparams += dparams_t

A penalty that reads a cell's gates (regularisers.py) adds a gradient dgates_t on the gate
activations of step t; the step backward takes it (`step_backward(..., dgates=dgates_t)`) with
the gradient that comes through the states. Only cells whose CellSpec names its `gates_key`.

Truncated BPTT (`truncate=k`) cuts the sequence into windows of k steps, [0, k), [k, 2k), ...,
and drops ds_{t-1}^{from t} where it would cross into the previous window (t a multiple of k):
the gradients `fit(truncate_bptt=k)` computes, window by window, in one pass.

h_t feeds both the output at t and step t+1, so its gradient is the sum of the two. Where
mask[n, t] is False, sequence n skips step t and carries its states (masking.py).

The sequence cache keeps each step cache's entries once:

    x (N, T, D)        <s>0 (N, H): each initial state     <s> (N, T, H): each state after step t
    the parameters by name      mask (N, T) or None      recurrent_mask (N, H) or None
    each intermediate of the step cache (anything else in it, e.g. the LSTM's ifgo and tanh_c)
    as one (N, T, ...) array

and `step_cache(spec, cache, t)` reads step t's cache back from it, so BPTT calls the cell's own
step backward on what its step forward produced: one copy of the maths. The Numba kernels build
the same sequence cache, so either backend's backward accepts either forward's cache.
"""
import numpy as np

from ..validation import check_float_array, check_sequence, check_shape
from .masking import carry, check_mask, check_recurrent_mask, split_gradient


def sequence_forward(spec, x, *states_and_params, mask=None, recurrent_mask=None, checked=False):
    """Run the cell `spec` over a sequence. x: (N, T, D); then each initial state (N, H) in
    `spec.state_names` order and each parameter in `spec.param_names` order; mask: None or (N, T)
    bool, False where a sequence skips the step and carries its states; recurrent_mask: None or
    (N, H) (recurrent dropout, masking.py). checked=True: the caller (StackedRNN) has checked the
    arguments already.

    Returns h: (N, T, H), the output at every step, and the sequence cache (module docstring).
    """
    num_states = len(spec.state_names)
    states0, params = states_and_params[:num_states], states_and_params[num_states:]
    check_sequence_inputs(spec, x, states0, params, values=not checked)
    if not checked:
        mask = check_mask(mask, x)
        recurrent_mask = check_recurrent_mask(recurrent_mask, states0[0])
    N, T, _ = x.shape
    states = {name: np.empty((N, T, s.shape[1]), x.dtype)
              for name, s in zip(spec.state_names, states0)}
    kept = {}  # the step caches' intermediates, (N, T, ...) each
    prev = states0
    for t in range(T):
        *new, step = spec.step_forward(x[:, t], *prev, *params, recurrent_mask)
        prev = [carry(mask, t, s_new, s_old) for s_new, s_old in zip(new, prev)]
        for name, s in zip(spec.state_names, prev):
            states[name][:, t] = s
        if t == 0:
            kept = {key: np.empty((N, T) + step[key].shape[1:], step[key].dtype)
                    for key in intermediates(spec, step)}
        for key, seq in kept.items():
            seq[:, t] = step[key]
    cache = {"x": x, **{name + "0": s for name, s in zip(spec.state_names, states0)},
             **dict(zip(spec.param_names, params)), **kept, **states,
             "mask": mask, "recurrent_mask": recurrent_mask}
    return states["h"], cache


def sequence_backward(spec, dh, cache, *dfinal_states, checked=False, state_gradients=False,
                      parameter_steps=False, truncate=None, dgates=None):
    """Full BPTT of the cell `spec`. dh: (N, T, H) = dLoss/dh_t for every t; dfinal_states: per
    state, None or (N, H), an extra gradient on its final value. checked=True: the caller has
    checked dh and dfinal_states. state_gradients=True also records the total gradient on every
    state at every step (what the saliency maps show); parameter_steps=True each step's
    contribution to each parameter gradient (they sum to it). truncate: None (full BPTT) or k,
    windows of k steps (module docstring). dgates: None or (N, T, G*H), a gradient on the gate
    activations cache[spec.gates_key] (checked=True: the caller has checked it too).

    Returns (dx: (N, T, D), *dinitial_states: (N, H), *dparams); with state_gradients=True also
    {state name: (N, T, H)}, with parameter_steps=True also {parameter name: (T, *its shape)},
    in that order after the tuple.
    """
    num_states = len(spec.state_names)
    dfinal_states = dfinal_states + (None,) * (num_states - len(dfinal_states))
    check_gradients(spec, dh, cache, dfinal_states, values=not checked)
    window = check_truncation(truncate)
    check_gate_gradient(spec, dgates, cache, values=not checked)
    x, mask = cache["x"], cache["mask"]
    T = x.shape[1]
    dx = np.zeros_like(x)
    dparams = [np.zeros_like(cache[name]) for name in spec.param_names]
    dnext = [np.zeros_like(cache[name + "0"]) if d is None else d.copy()  # from step t+1
             for name, d in zip(spec.state_names, dfinal_states)]
    totals = ({name: np.empty_like(cache[name]) for name in spec.state_names}
              if state_gradients else None)
    steps = ({name: np.empty((T,) + cache[name].shape, cache[name].dtype)
              for name in spec.param_names} if parameter_steps else None)
    kept = intermediates(spec, cache, sequence=True)
    for t in reversed(range(T)):
        dnext[0] += dh[:, t]  # h_t is read by the output at t and by step t+1
        through, carried = zip(*[split_gradient(mask, t, d) for d in dnext])
        step = step_cache(spec, cache, t, kept)
        if totals is not None:
            record_totals(spec, totals, t, through, carried, step)
        gates = {} if dgates is None else {"dgates": dgates[:, t]}
        dx[:, t], *rest = spec.step_backward(*through, step, **gates)
        for name, dparam, g in zip(spec.param_names, dparams, rest[num_states:]):
            dparam += g
            if steps is not None:
                steps[name][t] = g
        dnext = rest[:num_states]  # dLoss/ds_{t-1} from step t, plus what skipped step t
        for dprev, d in zip(dnext, carried):
            dprev += d
            if t > 0 and t % window == 0:  # s_{t-1} lies in the previous window
                dprev[...] = 0.0
    grads = (dx, *dnext, *dparams)
    extras = ((totals,) if state_gradients else ()) + ((steps,) if parameter_steps else ())
    return (grads, *extras) if extras else grads


def check_truncation(truncate):
    """The window length of truncated BPTT, a positive int; None (full BPTT) is a window longer
    than any sequence."""
    if truncate is None:
        return np.iinfo(np.int64).max
    if isinstance(truncate, bool) or not isinstance(truncate, (int, np.integer)) or truncate < 1:
        raise ValueError(f"truncate must be None or a positive int (the window length k); "
                         f"got {truncate!r}")
    return int(truncate)


def record_totals(spec, totals, t, through, carried, step):
    """totals[s][:, t] = the total dLoss/ds_t: through the step's own backward (the cell's
    `total_gradients`, if it has one) plus what skips the step."""
    total = through if spec.total_gradients is None else spec.total_gradients(*through, step)
    for name, g, d in zip(spec.state_names, total, carried):
        totals[name][:, t] = g + d


def step_cache(spec, cache, t, kept=None):
    """The cache `spec.step_forward` produced at step t, read back from the sequence cache.
    kept: the keys of the cell's intermediates in `cache`, `intermediates(spec, cache, True)`, if
    the caller has them already (the BPTT loop reads one step cache per step)."""
    kept = intermediates(spec, cache, sequence=True) if kept is None else kept
    step = {name: cache[name] for name in spec.param_names}
    step["x"], step["recurrent_mask"] = cache["x"][:, t], cache["recurrent_mask"]
    for name in spec.state_names:
        step["prev_" + name] = cache[name + "0"] if t == 0 else cache[name][:, t - 1]
        step["next_" + name] = cache[name][:, t]
    for key in kept:
        step[key] = cache[key][:, t]
    return step


def intermediates(spec, cache, sequence=False):
    """The keys of a step cache (or, sequence=True, a sequence cache) that hold the cell's own
    per-step values: everything but x, the states, the parameters and the masks."""
    if sequence:
        standard = {"x", "mask", *spec.state_names, *(name + "0" for name in spec.state_names)}
    else:
        standard = {"x", *(p + name for p in ("prev_", "next_") for name in spec.state_names)}
    standard.update(spec.param_names, ["recurrent_mask"])
    return [key for key in cache if key not in standard]


def check_sequence_inputs(spec, x, states0, params, values=True):
    """Each parameter the shape `spec.param_shapes(D, H)` gives (H read off Wh), x: (N, T, D)
    with N, T >= 1 and each initial state (N, H). values=True first checks that all are float
    arrays and scans x and the states for non-finite values; StackedRNN does that once per call,
    then says checked=True and only the shapes are checked (they keep a compiled loop in bounds)."""
    if len(states0) != len(spec.state_names) or len(params) != len(spec.param_names):
        raise TypeError(f"the {spec.name} sequence functions take x, then the initial states "
                        f"{spec.state_names}, then the parameters {spec.param_names}; got "
                        f"{len(states0) + len(params)} arrays after x")
    if values:
        for name, value in zip(spec.param_names, params):
            check_float_array(name, value, finite=False)  # parameters are not scanned
        check_float_array("x", x)
        for name, state in zip(spec.state_names, states0):
            check_float_array(name + "0", state)
    Wx, Wh, *vectors = params
    H, G = Wh.shape[0], spec.gates
    check_shape("Wh", Wh, (H, G * H))
    check_shape("Wx", Wx, ("D", G * H))
    check_sequence("x", x, Wx.shape[0], finite=False)
    for name, value, k in zip(spec.param_names[2:], vectors, (G, *spec.extra_params.values())):
        check_shape(name, value, (k * H,))  # b: (G*H,), then each extra_params vector
    for name, state in zip(spec.state_names, states0):
        check_shape(name + "0", state, (x.shape[0], H))


def check_gradients(spec, dh, cache, dfinal_states, values=True):
    """dh must match the forward output h: (N, T, H), each final-state gradient be None or
    (N, H); values=True also requires finite float arrays (a scan, which StackedRNN does once
    per call, then says checked=True)."""
    if values:
        check_float_array("dh", dh)
    check_shape("dh", dh, cache["h"].shape)
    N, _, H = cache["h"].shape
    for name, value in zip(spec.state_names, dfinal_states):
        if value is not None:
            if values:
                check_float_array(f"d{name}T", value)
            check_shape(f"d{name}T", value, (N, H))


def check_gate_gradient(spec, dgates, cache, values=True, name="dgates"):
    """dgates: None, or an array shaped like the gate activations cache[spec.gates_key] of a
    cell that names its gates_key; values=True also requires a finite float array."""
    if dgates is None:
        return
    if spec.gates_key is None:
        raise ValueError(f"{name} needs a cell that exposes its gate activations (a CellSpec "
                         f"with gates_key); cell {spec.name!r} has none")
    if values:
        check_float_array(name, dgates)
    check_shape(name, dgates, cache[spec.gates_key].shape)
