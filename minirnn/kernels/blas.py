"""Which kernels the BLAS behind Numba's np.dot runs here, and what follows for few-row products
and for how many rows each per-step product call takes.

Numba's np.dot calls SciPy's BLAS (scipy.linalg.cython_blas). SciPy's wheels bundle an OpenBLAS
built for many CPUs that picks one family of kernels when it loads ('Haswell', 'SkylakeX', ...,
or the one OPENBLAS_CORETYPE names); its build string names only the baseline it was compiled
for. The family decides how a product of 2 to 7 rows is best done (products.py):

    Haswell/Zen (AVX2) kernels   pack all of the weight matrix on every call: the plain loop of
                                 `small_matmul` took 0.3-0.5x OpenBLAS's time for H <= 256
                                 (float32, (4, 128) @ (128, 512): 27 us in OpenBLAS)
    SkylakeX (AVX-512) kernels   have a small-matrix path: OpenBLAS took 0.3-0.5x the loop's
                                 time ((4, 128) @ (128, 512): 3.3 us against 11.8 us)

Both measured on one Intel Xeon with AVX-512, switching families with OPENBLAS_CORETYPE.
Anything else (another BLAS, a family not measured, no way to tell) gets OpenBLAS's own path,
the usual choice.

The SkylakeX small-matrix path only serves products of at most about a million multiply-adds
(rows * K * M); above that OpenBLAS packs, and one call on more rows is slower than several on
fewer. Measured on a 2-core AMD EPYC (Zen 4, which OpenBLAS runs on SkylakeX kernels), one
thread, float32 (128, 512) as in an LSTM with H = 128: 4, 8 or 12 rows per call 113 GFLOP/s,
16 rows 55, 32 rows 72; float64 57 against 35 and 45. So on that path the kernels make each
step's products in calls of `rows_per_call` rows: the most of 16, 8 or 4 that stays on it; else
one call for the whole batch. Blocks of rows that run on different cores (parallel.py) are runs
of whole calls, which is what makes the results independent of the thread count.
"""
import ctypes
import functools
import os

LOOP_FAMILIES = ("haswell", "zen")  # OpenBLAS kernel families that pack small matrices
FEW_ROWS = 8  # products of 2 to FEW_ROWS - 1 rows are the ones in question
SMALL_PATH_FAMILIES = ("skylakex", "cooperlake", "sapphirerapids")  # with a small-matrix path
SMALL_PRODUCT = 1_000_000  # the most multiply-adds (rows * K * M) it served, measured
CALL_ROWS = (16, 8, 4)  # rows per call tried, most first (3, 6, 7 rows ran 20-40% slower)
GRADIENT_ROWS = range(256, 31, -16)  # rows per run of a weight-gradient sum, most first
CORENAME_SYMBOLS = ("scipy_openblas_get_corename", "openblas_get_corename")


def loaded_libraries():
    """Paths of the shared libraries this process has loaded (Linux; [] elsewhere)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {fields[5] for fields in map(str.split, maps) if len(fields) >= 6}
    except OSError:
        return []
    return sorted(path for path in paths if ".so" in os.path.basename(path))


@functools.cache
def openblas_libraries():
    """{file name: ctypes handle} of every OpenBLAS this process has loaded, in path order, once
    SciPy's BLAS is loaded (NumPy's is loaded with NumPy). Files that cannot be opened again (for
    example deleted since they were loaded) are left out."""
    import scipy.linalg.cython_blas  # noqa: F401  (loads SciPy's BLAS)
    libraries = {}
    for path in loaded_libraries():
        name = os.path.basename(path)
        if "openblas" not in name.lower():
            continue
        try:
            libraries[name] = ctypes.CDLL(path)
        except OSError:  # e.g. a file deleted since it was loaded, or a path with spaces
            continue
    return libraries


@functools.cache
def scipy_openblas_family():
    """The kernel family SciPy's OpenBLAS picked ('SkylakeX', 'Haswell', ...), or None when SciPy
    does not use an OpenBLAS this can ask (only the 32-bit-integer interface is asked: NumPy's
    OpenBLAS has the 64-bit one)."""
    for library in openblas_libraries().values():
        for symbol in CORENAME_SYMBOLS:
            corename = getattr(library, symbol, None)
            if corename is not None:
                corename.restype = ctypes.c_char_p
                return corename().decode()
    return None


def loop_below(family):
    """Products with 1 < rows < loop_below(family) go through `small_matmul` instead of BLAS:
    FEW_ROWS for the families in LOOP_FAMILIES, 0 (never) otherwise."""
    return FEW_ROWS if family is not None and family.lower() in LOOP_FAMILIES else 0


@functools.cache
def few_rows_limit():
    """`loop_below` for this process's BLAS (the argument the kernels take)."""
    return loop_below(scipy_openblas_family())


def usable_cores():
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def small_path_rows(family, K, M, candidates):
    """The first of `candidates` (row counts, most first) whose product (rows, K) @ (K, M) stays
    on the small-matrix path of a family in SMALL_PATH_FAMILIES; None if none does or the family
    has no such path."""
    if family is None or family.lower() not in SMALL_PATH_FAMILIES:
        return None
    return next((rows for rows in candidates if rows * K * M <= SMALL_PRODUCT), None)


def call_rows(family, N, K, M):
    """Rows per call for a per-step product (rows, K) @ (K, M) of a batch of N rows: the most of
    CALL_ROWS on the small path (`small_path_rows`), else N (one call)."""
    return small_path_rows(family, K, M, CALL_ROWS) or max(N, 1)


def rows_per_call(N, K, M):
    """`call_rows` for this process's BLAS (the argument the kernels take)."""
    return call_rows(scipy_openblas_family(), N, K, M)


def gradient_rows(family, K, M):
    """Rows per run of a weight-gradient sum a.T @ b, (R, K) and (R, M) with R large: the most of
    GRADIENT_ROWS on the small path (`small_path_rows`; the sums are made run by run and added),
    else 0 (one product). Fewer than 32 rows per run were slower than one product. Measured on
    the AMD EPYC, one thread, R = 1,600, float32 (K, M) = (64, 256): one product 81 GFLOP/s, runs
    of 48 rows 99; (16, 64): 50 against 104; (128, 512), where no run of 32 rows fits: one
    product."""
    return small_path_rows(family, K, M, GRADIENT_ROWS) or 0


def rows_per_run(K, M):
    """`gradient_rows` for this process's BLAS (the argument the kernels take)."""
    return gradient_rows(scipy_openblas_family(), K, M)
