"""An explicit, process-wide allocator setting that makes training steps cheaper on Linux.

Nothing in minirnn changes the allocator on import. `train.fit` and the benchmarks call
`keep_freed_memory()` once before they start; call it yourself before a loop of your own
forward/backward calls if you want the same. To opt out, set any of glibc's MALLOC_*_ variables
(mallopt(3)) or a glibc.malloc tunable in GLIBC_TUNABLES: then it changes nothing.
"""
import ctypes
import os

MALLOC_SETTINGS = {"M_TRIM_THRESHOLD": (-1, 64 << 20), "M_MMAP_THRESHOLD": (-3, 32 << 20)}


def keep_freed_memory():
    """Let glibc's malloc keep freed blocks of up to 32 MiB for reuse instead of handing their
    pages back to the OS.

    By default glibc serves every block over 128 KiB with a fresh mmap and trims the heap once
    128 KiB lie free at its top, so the arrays of each training step arrive as new pages, and
    every first write to a page is a page fault (over 1 us on a virtual machine): 970 faults,
    1.1 ms of a 5 ms LSTM step at H=16, batch 32, float64, T=100, 2 layers. glibc raises both
    thresholds by itself, to these very values, once the process has freed one 32 MiB block
    (mallopt(3), "dynamic mmap threshold"); this sets them from the start. Blocks of more than
    32 MiB are still mapped afresh (NumPy asks for huge pages for those). Nothing is changed when
    the process is not using glibc, or when the user set a MALLOC_*_ variable of mallopt(3) or a
    glibc.malloc tunable.
    """
    if (any(name.startswith("MALLOC_") and name.endswith("_") for name in os.environ)
            or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", "")):
        return
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return
    for param, value in MALLOC_SETTINGS.values():
        mallopt(param, value)
