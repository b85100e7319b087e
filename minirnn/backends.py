"""Which implementation runs a layer's sequence loop: the NumPy reference or the Numba kernels.

Both have the same signatures and produce the same caches (a cell's `CellSpec.sequence_functions`
hands out either), so a network can switch per call. The default for running a network is the
MINIRNN_BACKEND environment variable, else "numba", the fast path. The tools a learner reads and
checks with (gradcheck, the Jacobians, saliency) run "numpy", the reference, unless asked.
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
