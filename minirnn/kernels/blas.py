"""Which kernels the BLAS behind Numba's np.dot runs here, and what follows for few-row products.

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
"""
import ctypes
import functools
import os

LOOP_FAMILIES = ("haswell", "zen")  # OpenBLAS kernel families that pack small matrices
FEW_ROWS = 8  # products of 2 to FEW_ROWS - 1 rows are the ones in question
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
