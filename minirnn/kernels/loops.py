"""Small compiled helpers the kernels share: loops over one batch row (inlined into the per-step
sweeps) and taking the rows that stepped."""
from numba import njit


@njit(inline="always", error_model="numpy", cache=True)
def copy_into(dst, src):
    """dst[:] = src, as a plain loop (no temporary, whatever the arrays)."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@njit(inline="always", error_model="numpy", cache=True)
def add_into(acc, more):
    """acc += more."""
    for j in range(acc.shape[0]):
        acc[j] += more[j]


@njit(inline="always", error_model="numpy", cache=True)
def fill(dst, value):
    """dst[:] = value."""
    for j in range(dst.shape[0]):
        dst[j] = value


@njit(error_model="numpy", cache=True)
def take_rows(dst, src, steps):
    """dst[n] = src[n] for the rows that took the step (steps: (N,) bool); others keep theirs."""
    for n in range(dst.shape[0]):
        if steps[n]:
            copy_into(dst[n], src[n])
