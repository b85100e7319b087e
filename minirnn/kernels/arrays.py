"""What the compiled loops need from their Python callers: the reference's input checks, one
floating dtype, C-contiguous time-major arrays, and the arrays to write into.

Shape legend: N batch, T time steps, D input features, H hidden units, G gates per cell.

The kernels work time-major, (T, N, ...), so that the slab of one step, a[t], is a contiguous
(N, ...) matrix that BLAS reads in place. Public arrays stay batch-first: `batch_major` hands back
(N, T, ...) views of the time-major results, and `time_major` turns such a view back into its
contiguous time-major array without copying.

Every array a kernel writes is allocated here, with NumPy, not inside the compiled code: NumPy
asks Linux for transparent huge pages for large arrays, which makes the first write to a fresh
52 MB array about 5x cheaper than through Numba's allocator (4 ms instead of 18 ms here).

Every call returns fresh arrays (they go into the cache), so the allocator's policy matters as
much as the loops: see `keep_freed_memory`.

A compiled loop does not check its indices, so a wrong shape would read or write out of bounds:
every array's shape is checked here, in Python, before a loop sees it. The values (finite, 0/1
masks) are checked by the public functions, and not again when the stack, which has checked
them once, calls the trusted entry points (`check_shapes`, `check_backward_shapes`).
"""
import ctypes
import os

import numpy as np

from ..cells.masking import check_mask, check_recurrent_mask
from ..validation import DTYPES, check_float_array, check_sequence_inputs, check_shape

MALLOC_SETTINGS = {"M_TRIM_THRESHOLD": (-1, 64 << 20), "M_MMAP_THRESHOLD": (-3, 32 << 20)}


def keep_freed_memory():
    """Let glibc's malloc keep freed blocks of up to 32 MiB for reuse instead of handing their
    pages back to the OS.

    By default glibc serves every block over 128 KiB with a fresh mmap and trims the heap once
    128 KiB lie free at its top, so the arrays of each training step arrive as new pages, and
    every first write to a page is a page fault (over 1 us on a virtual machine): 970 faults,
    1.1 ms of a 5 ms LSTM step at H=16, batch 32, float64, T=100, 2 layers. glibc raises both
    thresholds by itself, to these very values, once the process has freed one 32 MiB block
    (mallopt(3), "dynamic mmap threshold"); this sets them from the start. Blocks of more than
    32 MiB are still mapped afresh (NumPy asks for huge pages for those). Nothing is changed when
    the process is not using glibc, or when the user set a MALLOC_*_ variable of mallopt(3) or a
    glibc.malloc tunable.
    """
    if (any(name.startswith("MALLOC_") and name.endswith("_") for name in os.environ)
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return
    for param, value in MALLOC_SETTINGS.values():
        mallopt(param, value)


def kernel_dtype(x):
    """The dtype the kernels compute in: x's, which must be float32 or float64."""
    if x.dtype not in DTYPES:
        raise TypeError(f"x must be float32 or float64 for the numba backend; got dtype {x.dtype} "
                        f"(use backend='numpy' for other floating types)")
    return x.dtype


def check_parameter(name, value, shape=None):
    """A floating-point ndarray (of `shape`, if given). Finiteness is not checked: the reference
    does not check its parameters either, and scanning them costs time on every call."""
    if not isinstance(value, np.ndarray) or value.dtype.kind != "f":
        raise TypeError(f"{name} must be a floating-point numpy ndarray; got "
                        f"{getattr(value, 'dtype', type(value).__name__)}")
    if shape is not None:
        check_shape(name, value, shape)


def check_forward_inputs(x, states0, Wx, Wh, gates, mask):
    """The reference's checks: x: (N, T, D) finite, each state (N, H) finite, Wx: (D, G*H),
    Wh: (H, G*H), mask None or (N, T) 0/1. Returns the mask as bool, or None."""
    check_parameter("Wx", Wx)
    check_parameter("Wh", Wh)
    check_sequence_inputs(x, states0, Wx, Wh, gates)
    return check_mask(mask, x)


def check_shapes(x, states0, Wx, Wh, biases, gates):
    """What a compiled loop needs to stay in bounds, without scanning any values: floating-point
    parameters, x: (N, T, D) float32 or float64, each state (N, H), Wx: (D, G*H), Wh: (H, G*H)
    and the biases, {name: (array, k)} for a bias of shape (k*H,). Returns the dtype to compute
    in (x's)."""
    check_parameter("Wx", Wx)
    check_parameter("Wh", Wh)
    N, _, D = x.shape
    H = Wh.shape[0]
    check_shape("Wh", Wh, (H, gates * H))
    check_shape("Wx", Wx, (D, gates * H))
    for name, state in states0.items():
        check_shape(name, state, (N, H))
    for name, (value, blocks) in biases.items():
        check_parameter(name, value, (blocks * H,))
    return kernel_dtype(x)


def check_backward_inputs(dh, final_grads):
    """dh and each final-state gradient, {name: array or None}, must be finite float arrays (their
    shapes: `check_backward_shapes`)."""
    check_float_array("dh", dh)
    for name, value in final_grads.items():
        if value is not None:
            check_float_array(name, value)


def check_backward_shapes(dh, h, final_grads):
    """dh must match the forward output h: (N, T, H); each final-state gradient (N, H)."""
    check_shape("dh", dh, h.shape)
    N, _, H = h.shape
    for name, value in final_grads.items():
        if value is not None:
            check_shape(name, value, (N, H))


def contiguous(dtype, *arrays):
    """Each array as a C-contiguous array of `dtype` (no copy when it already is one)."""
    return [np.ascontiguousarray(a, dtype=dtype) for a in arrays]


def time_major(a, dtype):
    """(N, T, ...) -> C-contiguous (T, N, ...) in `dtype`; free for a `batch_major` view."""
    return np.ascontiguousarray(a.swapaxes(0, 1), dtype=dtype)


def batch_major(a):
    """(T, N, ...) -> an (N, T, ...) view."""
    return a.swapaxes(0, 1)


def loop_mask(mask, N, T):
    """The (T, N) bool array the loops read: True where a sequence takes the step (all True for
    mask=None)."""
    if mask is None:
        return np.ones((T, N), dtype=np.bool_)
    check_shape("mask", mask, (N, T))
    return np.ascontiguousarray(mask.T, dtype=np.bool_)


def final_gradient(value, N, H, dtype):
    """A gradient on a final state as a fresh contiguous (N, H) array, zeros for None. The
    backward loops update it in place, step by step, into the gradient on the initial state."""
    if value is None:
        return np.zeros((N, H), dtype=dtype)
    return np.array(value, dtype=dtype, order="C", copy=True)


def empty(dtype, *shapes):
    """One new uninitialised array of `dtype` per shape."""
    return [np.empty(shape, dtype=dtype) for shape in shapes]


def recurrent_mask_array(recurrent_mask, h0, dtype):
    """The (N, H) recurrent-dropout mask the loops read, checked against h0: (N, H); an empty
    (0, 0) array stands for None (no recurrent dropout)."""
    if check_recurrent_mask(recurrent_mask, h0) is None:
        return np.empty((0, 0), dtype=dtype)
    return np.ascontiguousarray(recurrent_mask, dtype=dtype)


def dropped_states(h0, h, rmask):
    """The states as the recurrent product read them, for dWh: (h0 * m, h * m) with h: (T, N, H)
    time-major, or (h0, h) when rmask is empty."""
    if rmask.size == 0:
        return h0, h
    return h0 * rmask, h * rmask
