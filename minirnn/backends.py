"""Which implementation runs a layer's sequence loop: the NumPy reference or the Numba kernels.

Both have the same signatures and produce the same caches, so the stack can switch per call.
The default is the MINIRNN_BACKEND environment variable, else "numba".
"""
import os

BACKENDS = ("numpy", "numba")


def resolve_backend(backend=None):
    """`backend`, or the default when None; a clear ValueError for an unknown name."""
    if backend is None:
        backend = os.environ.get("MINIRNN_BACKEND", "numba")
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS} (or set MINIRNN_BACKEND to one); "
                         f"got {backend!r}")
    return backend


def sequence_functions(spec, backend, trusted=False):
    """(forward, backward) over a whole sequence for the cell `spec` on `backend`.

    trusted=True is for a caller that has checked the sequences, states, masks and gradients it
    passes (StackedRNN): the kernels then skip the scans of their values and check only what
    keeps the compiled loops in bounds. The NumPy reference always checks everything."""
    if resolve_backend(backend) == "numpy":
        return spec.forward, spec.backward
    from .kernels import KERNELS, TRUSTED_KERNELS  # compiled lazily: importing minirnn stays cheap
    return (TRUSTED_KERNELS if trusted else KERNELS)[spec.name]
