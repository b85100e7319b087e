"""Numba kernels: the compiled fast path for the cells' sequence loops (backend="numba").

Each cell's forward and backward over a whole sequence has exactly the signature, the checks,
the cache and the gradients of its NumPy reference in minirnn/cells, so the stack can switch
backend per call and either backward accepts either forward's cache. What is compiled, and why
it is fast, is told in each module's docstring:

    rnn.py, lstm.py, gru.py   the sequence loops of one cell (time-major inside)
    products.py               the matrix products hoisted out of the time loop
    blas.py                   which kernels SciPy's OpenBLAS runs, and so how few-row products go
    jit.py                    the compile options every kernel function shares
    scalar.py                 exp, sigmoid and tanh that vectorize inside a compiled loop
    loops.py                  small loops over one batch row
    arrays.py                 input checks, dtype and layout, done in Python before a loop runs;
                              the allocator settings applied when this package is imported

Every compiled function is cached on disk (cache=True), so only the first process to use a
kernel pays for compiling it. Numba checks a cached function against its own source file only:
after editing a helper module (scalar.py, loops.py, products.py, jit.py), delete
minirnn/kernels/__pycache__ so that the kernels that inline it are compiled again.

Numba's np.dot calls BLAS through SciPy, so the numba backend needs SciPy installed.
"""
try:
    import scipy.linalg.cython_blas  # noqa: F401  (what np.dot inside Numba calls)
except ImportError as error:
    raise ImportError("the numba backend needs SciPy: Numba calls BLAS through it "
                      "(pip install scipy), or use backend='numpy'") from error

from .arrays import keep_freed_memory
from .gru import gru_backward, gru_backward_trusted, gru_forward, gru_forward_trusted
from .lstm import lstm_backward, lstm_backward_trusted, lstm_forward, lstm_forward_trusted
from .rnn import rnn_backward, rnn_backward_trusted, rnn_forward, rnn_forward_trusted

keep_freed_memory()

KERNELS = {
    "rnn": (rnn_forward, rnn_backward),
    "lstm": (lstm_forward, lstm_backward),
    "gru": (gru_forward, gru_backward),
}

# For callers that have checked their inputs themselves (the stack): see backends.py.
TRUSTED_KERNELS = {
    "rnn": (rnn_forward_trusted, rnn_backward_trusted),
    "lstm": (lstm_forward_trusted, lstm_backward_trusted),
    "gru": (gru_forward_trusted, gru_backward_trusted),
}

__all__ = ["KERNELS", "TRUSTED_KERNELS", "rnn_forward", "rnn_backward", "lstm_forward",
           "lstm_backward", "gru_forward", "gru_backward"]
