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
much as the loops: see minirnn/allocator.py.

A compiled loop does not check its indices, so a wrong shape would read or write out of bounds:
every array's shape is checked here, in Python, before a loop sees it. The values (finite, 0/1
masks) are checked too, except when the caller says checked=True (the stack, which has checked
them once per call).
"""
import numpy as np

from ..cells.masking import check_mask, check_recurrent_mask
from ..cells.sequence import check_gradients, check_sequence_inputs
from ..validation import DTYPES, check_shape
from .products import transpose_into


def kernel_dtype(x):
    """The dtype the kernels compute in: x's, which must be float32 or float64."""
    if x.dtype not in DTYPES:
        raise TypeError(f"x must be float32 or float64 for the numba backend; got dtype {x.dtype} "
                        f"(use backend='numpy' for other floating types)")
    return x.dtype


def check_forward_inputs(spec, x, states0, params, mask, checked=False):
    """The reference's checks (cells/sequence.py): every shape always, since a compiled loop
    given a wrong one would run out of bounds; the values (finite, a 0/1 mask) unless the caller
    says checked=True. Returns the mask (bool or None) and the dtype to compute in (x's)."""
    check_sequence_inputs(spec, x, states0, params, values=not checked)
    if not checked:
        mask = check_mask(mask, x)
    return mask, kernel_dtype(x)


def check_backward(spec, dh, cache, dfinal_states, checked=False):
    """The reference's checks of dh and the final-state gradients (cells/sequence.py): shapes
    always, values unless checked=True. Returns the dtype to compute in (the cached x's) and
    (N, T, H)."""
    check_gradients(spec, dh, cache, dfinal_states, values=not checked)
    return kernel_dtype(cache["x"]), cache["h"].shape


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


def recurrent_weights_T(Wh, rows):
    """Wh.T (G*H, H) for the backward loops' da_t @ Wh.T. With one row per product call, a view:
    each step's product is then a matrix-vector product, which OpenBLAS makes from the view as
    fast as from a copy or faster (float32, H = 512, 100 steps: 3.4 ms against 5.8), and the
    copy itself would cost 3 ms. Otherwise a C-contiguous copy, since OpenBLAS's small-matrix
    path and `small_matmul` want rows of it, made in tiles (`transpose_into`)."""
    if rows == 1:
        return Wh.T
    Wh_T = np.empty(Wh.shape[::-1], Wh.dtype)
    transpose_into(Wh, Wh_T)
    return Wh_T
