"""Input checks that turn bad arguments into clear errors naming the argument and the shape.

Shape legend: N batch, T time steps, D input features, H hidden units, G gates per cell.
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


def check_float_array(name, value):
    """Require a floating-point ndarray with only finite values."""
    if not isinstance(value, np.ndarray):
        raise TypeError(f"{name} must be a numpy ndarray; got {type(value).__name__}")
    if value.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point array (float32 or float64); "
                        f"got dtype {value.dtype}")
    if not np.isfinite(value).all():
        raise ValueError(f"{name} contains non-finite values (nan or inf)")


def check_shape(name, value, expected):
    """Require `value.shape` to match `expected`, where None in `expected` matches any size.

    `expected` may hold letters for free axes only in the message, e.g. ('N', 'T', 3)."""
    shape = value.shape
    if shape == expected:  # the common case, and the cheapest test
        return
    if len(shape) != len(expected) or any(
            isinstance(e, int) and e != s for e, s in zip(expected, shape)):
        raise ValueError(f"{name} must have shape {shape_str(expected)}; "
                         f"got shape {shape_str(value.shape)}")


def check_sequence(name, x, features):
    """x must be a finite float array of shape (N, T, features) with N >= 1 and T >= 1."""
    check_float_array(name, x)
    check_shape(name, x, ("N", "T", features))
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise ValueError(f"{name} must have at least one sequence and one time step; "
                         f"got shape {shape_str(x.shape)} (N={x.shape[0]}, T={x.shape[1]})")


def check_sequence_inputs(x, states0, Wx, Wh, gates):
    """Checks shared by the cells' sequence functions: x: (N, T, D), each initial state
    (N, H), Wx: (D, G*H), Wh: (H, G*H)."""
    H = Wh.shape[0]
    check_shape("Wh", Wh, (H, gates * H))
    check_shape("Wx", Wx, ("D", gates * H))
    check_sequence("x", x, Wx.shape[0])
    for name, state in states0.items():
        check_float_array(name, state)
        check_shape(name, state, (x.shape[0], H))
