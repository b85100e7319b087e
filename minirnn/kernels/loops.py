"""Small compiled helpers the kernels share: loops over one batch row (inlined into the per-step
sweeps) and taking the rows that stepped."""
from .jit import jit


@jit(inline="always")
def copy_into(dst, src):
    """dst[:] = src, as a plain loop (no temporary, whatever the arrays)."""
    for j in range(dst.shape[0]):
        dst[j] = src[j]


@jit(inline="always")
def add_into(acc, more):
    """acc += more."""
    for j in range(acc.shape[0]):
        acc[j] += more[j]


@jit(inline="always")
def fill(dst, value):
    """dst[:] = value."""
    for j in range(dst.shape[0]):
        dst[j] = value


@jit
def take_rows(dst, src, steps):
    """dst[n] = src[n] for the rows that took the step (steps: (N,) bool); others keep theirs."""
    for n in range(dst.shape[0]):
        if steps[n]:
            copy_into(dst[n], src[n])
