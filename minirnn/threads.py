"""How many threads the BLAS under minirnn may use: `num_threads`.

minirnn's time loop runs on one thread; its matrix products go to OpenBLAS, which threads a
product by itself once it is large enough. Two OpenBLAS libraries are loaded: SciPy's (the one
the Numba kernels call through scipy.linalg.cython_blas) and NumPy's (the NumPy reference, the
Dense head, the losses). Both start with one thread per core. This module reads and sets that
count for both, through the `*_set_num_threads` functions the libraries export.

    set_num_threads(1)                  # from now on, in this process
    with thread_limit(1): fit(...)      # for the block only; `fit(..., num_threads=1)` does this
    MINIRNN_NUM_THREADS=1 python ...    # what fit uses when its num_threads is None
    run_jobs(train_one, jobs, workers=2, num_threads=1)   # a process pool, 1 BLAS thread each

The default (num_threads=None and no MINIRNN_NUM_THREADS) leaves OpenBLAS's own setting alone.
What the setting is for: OpenBLAS's worker threads wait for work by spinning, so when more
threads want the cores than there are cores (two training processes on a 2-core machine, or a
test suite beside a run) every product waits for a descheduled thread. One thread per process is
then far faster (benchmarks/results-threads.md has the measurements).
"""
import contextlib
import ctypes
import functools
import os
from multiprocessing import get_context

from .kernels.blas import openblas_libraries
from .validation import check_int

ENVIRONMENT_VARIABLE = "MINIRNN_NUM_THREADS"
SYMBOLS = (("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
           ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
           ("openblas_set_num_threads", "openblas_get_num_threads"),
           ("openblas_set_num_threads64_", "openblas_get_num_threads64_"))


@functools.cache
def blas_controls():
    """{library file name: (set, get)} for every OpenBLAS loaded (kernels/blas.py) that exports
    both functions."""
    controls = {}
    for name, library in openblas_libraries().items():
        for set_name, get_name in SYMBOLS:
            setter, getter = getattr(library, set_name, None), getattr(library, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes, getter.restype = [ctypes.c_int], ctypes.c_int
                controls[name] = (setter, getter)
                break
    return controls


def get_num_threads():
    """{library file name: its current thread count} for each OpenBLAS found ({} if none)."""
    return {name: int(get()) for name, (_, get) in blas_controls().items()}


def set_num_threads(n):
    """Let every OpenBLAS found use at most n threads; returns the counts before the change."""
    n = check_int("num_threads", n)
    before = {}
    for name, (set_threads, get_threads) in blas_controls().items():
        before[name] = int(get_threads())
        set_threads(n)
    return before


def resolve_num_threads(value):
    """num_threads as given, else MINIRNN_NUM_THREADS as an int, else None (leave BLAS alone)."""
    if value is not None:
        return check_int("num_threads", value)
    text = os.environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if not text:
        return None
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{ENVIRONMENT_VARIABLE} must be a positive int; got {text!r}")
    return int(text)


@contextlib.contextmanager
def thread_limit(n):
    """Run the block with at most n BLAS threads (n None: as resolve_num_threads says, and no
    change if that is None too); the previous counts come back afterwards."""
    n = resolve_num_threads(n)
    before = {} if n is None else set_num_threads(n)
    try:
        yield n
    finally:
        controls = blas_controls()
        for name, count in before.items():
            controls[name][0](count)


def run_jobs(function, jobs, workers=1, num_threads=1):
    """[function(job) for job in jobs], on a pool of `workers` spawned processes when workers > 1
    (function must be importable by name), every process with at most num_threads BLAS threads
    (None: as resolve_num_threads says). Workers and their BLAS threads then fill the cores
    without competing for them; in this process the previous counts come back afterwards."""
    workers = check_int("workers", workers)
    num_threads = resolve_num_threads(num_threads)
    if workers == 1:
        with thread_limit(num_threads):
            return [function(job) for job in jobs]
    setup = {} if num_threads is None else {"initializer": set_num_threads,
                                            "initargs": (num_threads,)}
    with get_context("spawn").Pool(workers, **setup) as pool:
        return pool.map(function, jobs, chunksize=1)
