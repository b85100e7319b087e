"""Numba kernels: the compiled fast path for the cells' sequence loops (backend="numba").

Each cell's forward and backward over a whole sequence has exactly the signature, the checks,
the cache and the gradients of its NumPy reference in minirnn/cells, so the stack can switch
backend per call and either backward accepts either forward's cache. A cell's CellSpec finds its
kernels (`kernels=compiled_kernels("lstm")` at the bottom of cells/lstm.py, which imports them only
when backend="numba" is first used). What is compiled, and why it is fast, is told in each module:

    rnn.py, lstm.py, gru.py   the sequence loops of one cell (time-major inside)
    products.py               the matrix products hoisted out of the time loop
    blas.py                   which kernels SciPy's OpenBLAS runs, and so how few-row products go
    jit.py                    the compile options every kernel function shares
    scalar.py                 exp, sigmoid and tanh that vectorize inside a compiled loop
    loops.py                  small loops over one batch row
    arrays.py                 input checks, dtype and layout, done in Python before a loop runs
    optimizers.py             Adam's update and a gradient's squared norm, one pass each (optim.py)

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
