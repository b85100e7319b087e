"""Input checks that turn bad arguments into clear errors naming the argument and the shape.

Shape legend: N batch, T time steps, D input features, L layers, H_l hidden units of layer l.
"""
import numbers

import numpy as np

DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def shape_str(shape):
    """(2, 3) -> '(2, 3)'; ('N', 'T', 3) -> '(N, T, 3)'; (4,) -> '(4,)'."""
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def check_dtype(dtype):
    """np.float32 or np.float64 (or their names) -> np.dtype; a TypeError otherwise."""
    if np.dtype(dtype) not in DTYPES:
        raise TypeError(f"dtype must be np.float32 or np.float64; got {dtype!r}")
    return np.dtype(dtype)


def check_float_array(name, value, finite=True):
    """Require a floating-point ndarray; finite=True also requires every value to be finite
    (a scan of the whole array)."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy ndarray; got {type(value).__name__}")
    if value.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array (float32 or float64); "
                        f"got dtype {value.dtype}")
    if finite and not np.isfinite(value).all():
        raise ValueError(f"{name} contains non-finite values (nan or inf)")


def check_shape(name, value, expected):
    """Require `value.shape` to match `expected`, where None in `expected` matches any size.

    `expected` may hold letters for free axes only in the message, e.g. ('N', 'T', 3)."""
    shape = value.shape
    if shape == expected:  # the common case, and the cheapest test
        return
    if len(shape) == len(expected):
        for e, s in zip(expected, shape):
            if e != s and isinstance(e, int):
                break
        else:
            return
    raise ValueError(f"{name} must have shape {shape_str(expected)}; "
                     f"got shape {shape_str(value.shape)}")


def check_sequence(name, x, features, finite=True):
    """x must be a float array of shape (N, T, features) with N >= 1 and T >= 1 (and, with
    finite=True, only finite values)."""
    check_float_array(name, x, finite)
    check_shape(name, x, ("N", "T", features))
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sequence and one time step; "
                         f"got shape {shape_str(x.shape)} (N={x.shape[0]}, T={x.shape[1]})")


def check_gradient(name, g, shape):
    """A finite float array of `shape` (a gradient handed to a backward pass)."""
    check_float_array(name, g)
    check_shape(name, g, shape)


# ---- numbers and counts -------------------------------------------------------------------------
def is_int(value):
    """True for a Python or NumPy integer; False for a bool and for every float, even 4.0."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_int(name, value, minimum=1):
    """value as an int, from an int or a NumPy integer >= minimum. A float is a TypeError, never
    truncated (not even 4.0); a value below `minimum` is a ValueError."""
    expected = "a positive int" if minimum == 1 else f"an int >= {minimum}"
    if not is_int(value):
        raise TypeError(f"{name} must be {expected}; got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be {expected}; got {value!r}")
    return int(value)


def check_positive_ints(name, values, expected):
    """A list of ints >= 1 from a list, tuple or 1-d array `values`, floats never truncated.
    `expected` describes the whole argument in the error, e.g. "a list of 2 positive ints"."""
    items = values.tolist() if isinstance(values, np.ndarray) else values
    if not isinstance(items, (list, tuple)):
        raise TypeError(f"{name} must be {expected}; got {values!r} ({type(values).__name__})")
    for i, value in enumerate(items):
        if not is_int(value):
            raise TypeError(f"{name} must be {expected}; got {values!r} ({name}[{i}] is a "
                            f"{type(value).__name__})")
        if value < 1:
            raise ValueError(f"{name} must be {expected}; got {values!r} ({name}[{i}] = {value!r})")
    return [int(value) for value in items]


def check_finite_number(name, value):
    """A real number (Python or NumPy, not a bool) that is finite, as a float: a TypeError for
    anything else, a ValueError for nan and inf."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a finite real number; got {value!r} "
                        f"({type(value).__name__})")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite real number; got {value!r}")
    return float(value)


def check_rng(rng):
    """A np.random.Generator from what np.random.default_rng would take here: None (a fresh
    generator), an int seed >= 0 (the same draws on every call) or a Generator (used as is)."""
    expected = "None, an int seed >= 0 or a np.random.Generator"
    if rng is None or isinstance(rng, np.random.Generator):
        return np.random.default_rng(rng)
    if not is_int(rng):
        raise TypeError(f"rng must be {expected}; got {rng!r} ({type(rng).__name__})")
    if rng < 0:
        raise ValueError(f"rng must be {expected}; got {rng!r}")
    return np.random.default_rng(rng)


# ---- StackedRNN's arguments ---------------------------------------------------------------------
def check_sizes(input_size, hidden_sizes):
    """(D, [H_1, ..., H_L]) as ints, from an int D and an int or a non-empty list of ints
    (Python or NumPy integers; floats are refused, never truncated)."""
    if is_int(hidden_sizes):
        sizes = [check_int("hidden_sizes", hidden_sizes)]
    else:
        expected = "a non-empty list of positive ints"
        sizes = check_positive_ints("hidden_sizes", hidden_sizes, expected)
        if not sizes:
            raise ValueError(f"hidden_sizes must be {expected}; got {hidden_sizes!r}")
    return check_int("input_size", input_size), sizes


def check_rate(name, rate):
    """A dropout rate in [0, 1), as a float."""
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {rate!r}")
    return float(rate)


def check_clock_periods(clock_periods, num_layers):
    """[p_1, ..., p_L] positive ints (all 1 for None)."""
    if clock_periods is None:
        return [1] * num_layers
    expected = f"None or a list of {num_layers} positive ints (one per layer)"
    periods = check_positive_ints("clock_periods", clock_periods, expected)
    if len(periods) != num_layers:
        raise ValueError(f"clock_periods must be {expected}; got {clock_periods!r}")
    return periods


def check_states(net, name, states, N, partial=False):
    """Validate a list over layers of {state name: (directions, N, H_l)} for `net`, cast to its
    dtype. None means zeros (initial states) or no gradient (partial=True: layers and names may
    be missing)."""
    names = net.spec.state_names
    if states is None:
        return [{} for _ in range(net.num_layers)] if partial else net.zero_states(N)
    if not isinstance(states, (list, tuple)) or len(states) != net.num_layers:
        raise ValueError(f"{name} must be a list of {net.num_layers} dicts (one per layer) "
                         f"with keys {names}; got {type(states).__name__}"
                         f" of length {len(states) if hasattr(states, '__len__') else '?'}")
    checked = []
    for l, layer_states in enumerate(states, start=1):
        layer_states = layer_states or {}
        if not isinstance(layer_states, dict):
            raise TypeError(f"{name}[{l - 1}] (layer {l}) must be a dict with keys {names}; "
                            f"got {type(layer_states).__name__}")
        unknown, missing = set(layer_states) - set(names), set(names) - set(layer_states)
        if unknown or (missing and not partial):
            raise ValueError(f"{name}[{l - 1}] (layer {l}) must have keys {names}; "
                             f"got {sorted(layer_states)}")
        expected = net.state_shape(l, N)
        for key, value in layer_states.items():
            label = f"{name}[{l - 1}][{key!r}] (layer {l})"
            check_float_array(label, value)
            if value.shape != expected:
                raise ValueError(f"{label} must have shape {shape_str(expected)} "
                                 f"(directions, N, H_{l}); got {shape_str(value.shape)}")
        checked.append({k: v.astype(net.dtype, copy=False) for k, v in layer_states.items()})
    return checked


# ---- what a run of StackedRNN owns ------------------------------------------------------------
def skip_pair(edge):
    """One explicit skip edge as a (src, dst) pair of ints."""
    if not (isinstance(edge, (tuple, list)) and len(edge) == 2 and all(map(is_int, edge))):
        raise ValueError(f"skip must be None, 'l-2' or a list of (src, dst) pairs of layer "
                         f"numbers (ints); got the entry {edge!r}")
    return int(edge[0]), int(edge[1])


def owned_input(x, input_size, dtype):
    """x (N, T, input_size) as a new array of `dtype`, checked finite after the conversion (a
    float64 1e39 is inf in float32)."""
    check_sequence("x", x, input_size, finite=False)
    with np.errstate(over="ignore"):  # an overflow is reported below, by name
        owned = np.array(x, dtype=dtype)
    if not np.isfinite(owned).all():
        converted = "" if x.dtype == dtype else f" (after conversion to {np.dtype(dtype).name})"
        raise ValueError(f"x contains non-finite values (nan or inf){converted}")
    return owned


def owned_params(net):
    """A copy of net.params for one run. Each parameter must be a numpy array of the network's
    dtype and of the shape it had when the network was built (`net.param_shapes`); the checks
    that name what is wrong run only when that fast test fails."""
    owned = {}
    for key, shape in net.param_shapes.items():
        value = net.params.get(key)
        if not (type(value) is np.ndarray and value.dtype == net.dtype and value.shape == shape):
            check_param(key, value, shape, net.dtype)
        owned[key] = value.copy()
    return owned


def check_param(key, value, shape, dtype):
    """The error that names what is wrong with parameter `key`."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"net.params[{key!r}] must be a numpy array of shape {shape}; got "
                        f"{type(value).__name__}")
    if value.dtype != dtype:
        raise TypeError(f"net.params[{key!r}] has dtype {value.dtype}; the network is "
                        f"{np.dtype(dtype).name} (convert the network with net.astype, or the "
                        f"parameter with .astype({np.dtype(dtype).name}))")
    if value.shape != shape:
        raise ValueError(f"net.params[{key!r}] has shape {value.shape}; expected {shape} "
                         f"for this layer")


def check_finite_params(params, result, name):
    """Name a non-finite parameter when a run's `result` (y, or dx) is not finite: the scan of
    every parameter runs only then. A NaN parameter makes y NaN; an infinite one can leave y
    finite (tanh saturates) and makes the gradients NaN."""
    if np.isfinite(result).all():
        return
    bad = [key for key, value in params.items() if not np.isfinite(value).all()]
    if bad:
        raise ValueError(f"net.params[{bad[0]!r}] contains non-finite values (nan or inf), so "
                         f"{name} does too")
