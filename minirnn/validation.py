"""Input checks that turn bad arguments into clear errors naming the argument and the shape.

Shape legend: N batch, T time steps, D input features, L layers, H_l hidden units of layer l.
"""
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


# ---- StackedRNN's arguments ---------------------------------------------------------------------
def check_sizes(input_size, hidden_sizes):
    """(D, [H_1, ..., H_L]) as ints, from an int D and an int or a non-empty list of them."""
    if isinstance(hidden_sizes, (int, np.integer)):
        hidden_sizes = [hidden_sizes]
    sizes = [int(h) for h in hidden_sizes]
    if not sizes or min(sizes) < 1:
        raise ValueError(f"hidden_sizes must be a non-empty list of positive ints; "
                         f"got {hidden_sizes!r}")
    if int(input_size) < 1:
        raise ValueError(f"input_size must be a positive int; got {input_size!r}")
    return int(input_size), sizes


def check_rate(name, rate):
    """A dropout rate in [0, 1), as a float."""
    if not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"{name} must be in [0, 1); got {rate!r}")
    return float(rate)


def check_clock_periods(clock_periods, num_layers):
    """[p_1, ..., p_L] positive ints (all 1 for None)."""
    periods = [1] * num_layers if clock_periods is None else list(clock_periods)
    if len(periods) != num_layers or min(int(p) for p in periods) < 1:
        raise ValueError(f"clock_periods must hold {num_layers} positive ints (one per "
                         f"layer); got {clock_periods!r}")
    return [int(p) for p in periods]


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
