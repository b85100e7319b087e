"""How many threads minirnn may use: `num_threads`.

Two kinds of threads do minirnn's work. When a layer's batch is large enough, the kernels'
time loop runs its rows in blocks, one thread per block (kernels/parallel.py; OpenBLAS is held
to one thread meanwhile); otherwise OpenBLAS threads a matrix product by itself once it is large
enough. Two OpenBLAS libraries are loaded: SciPy's (the one the Numba kernels call through
scipy.linalg.cython_blas) and NumPy's (the NumPy reference, the Dense head, the losses). Both
start with one thread per core. `num_threads` sets all three counts at once:

    set_num_threads(1)                  # from now on, in this process
    with thread_limit(1): fit(...)      # for the block only; `fit(..., num_threads=1)` does this
    MINIRNN_NUM_THREADS=1 python ...    # what is used when nothing was set
    run_jobs(train_one, jobs, workers=2, num_threads=1)   # a process pool, 1 thread each

The default (nothing set and no MINIRNN_NUM_THREADS): the time loop uses every core this
process may run on (`loop_threads`), and OpenBLAS keeps its own setting (one thread per core).
The time loop's count never changes a result: it changes only which core runs which block of
rows, never the arithmetic (kernels/parallel.py says how). OpenBLAS's count can change the last
bits of the large products it threads itself, as it always could.

When to set it lower: OpenBLAS's worker threads wait for work by spinning, so when more threads
want the cores than there are cores (two training processes on a 2-core machine, or a test suite
beside a run) every product waits for a descheduled thread. One thread per process is then far
faster (benchmarks/results-threads.md has the measurements).
"""
import contextlib
import ctypes
import functools
import os
from multiprocessing import get_context

from .kernels.blas import openblas_libraries, usable_cores
from .validation import check_int

ENVIRONMENT_VARIABLE = "MINIRNN_NUM_THREADS"
SYMBOLS = (("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
           ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
           ("openblas_set_num_threads", "openblas_get_num_threads"),
           ("openblas_set_num_threads64_", "openblas_get_num_threads64_"))
chosen = {"loop": None}  # the time loop's count as set_num_threads left it (None: not set)


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


def loop_threads():
    """How many threads the kernels' time loop may use now: what set_num_threads chose, else
    MINIRNN_NUM_THREADS, else the cores this process may run on."""
    if chosen["loop"] is not None:
        return chosen["loop"]
    from_environment = resolve_num_threads(None)
    return usable_cores() if from_environment is None else from_environment


def set_blas_threads(n):
    """Let every OpenBLAS found use at most n threads; returns the counts before the change (for
    `restore_blas_threads`)."""
    before = get_num_threads()
    for set_threads, _ in blas_controls().values():
        set_threads(n)
    return before


def restore_blas_threads(before):
    """Put back the OpenBLAS counts `set_blas_threads` returned."""
    controls = blas_controls()
    for name, count in before.items():
        controls[name][0](count)


def set_num_threads(n):
    """Let the time loop and every OpenBLAS found use at most n threads; returns the OpenBLAS
    counts before the change."""
    n = check_int("num_threads", n)
    chosen["loop"] = n
    return set_blas_threads(n)


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
    """Run the block with at most n threads in the time loop and in each OpenBLAS (n None: as
    resolve_num_threads says, and no change if that is None too); the previous counts come back
    afterwards."""
    n = resolve_num_threads(n)
    loop_before = chosen["loop"]
    before = {} if n is None else set_num_threads(n)
    try:
        yield n
    finally:
        chosen["loop"] = loop_before
        restore_blas_threads(before)


def run_jobs(function, jobs, workers=1, num_threads=1):
    """[function(job) for job in jobs], on a pool of `workers` spawned processes when workers > 1
    (function must be importable by name), every process with at most num_threads threads
    (set_num_threads; None: as resolve_num_threads says). Workers and their threads then fill
    the cores without competing for them; in this process the previous counts come back
    afterwards."""
    workers = check_int("workers", workers)
    num_threads = resolve_num_threads(num_threads)
    if workers == 1:
        with thread_limit(num_threads):
            return [function(job) for job in jobs]
    setup = {} if num_threads is None else {"initializer": set_num_threads,
                                            "initargs": (num_threads,)}
    with get_context("spawn").Pool(workers, **setup) as pool:
        return pool.map(function, jobs, chunksize=1)
