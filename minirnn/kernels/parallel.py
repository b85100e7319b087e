"""The kernels on several cores: the batch cut into blocks of rows, one thread per block.

Shape legend: T time steps, N batch rows, D input features, H hidden units, G gates.

The sequences of a batch meet only in the weight gradients; through the time loop each row runs
on its own. So each thread can take a block of rows through the whole forward or backward time
loop with its own workspace, with nothing synchronised per step (`run_rows`). A block's rows are
not contiguous across steps, so the input projection x_t @ Wx + b and the input gradient
da_t @ Wx.T are then made step by step inside the loops. The weight gradients are sums over all
rows: the steps are cut into one part per core, made side by side, and the parts are added in
order (`weight_gradients`); within a part, each sum goes in runs of rows that stay on OpenBLAS's
small-matrix path where one fits (blas.rows_per_run).

When it pays (`splits`): the batch must take more than one product call per step on OpenBLAS's
small-matrix path (blas.rows_per_call), and the layer must have enough work to cover the thread
handoffs. Otherwise the kernels run as one block on this thread, make ax, dx and the weight
gradients as one product each, and let OpenBLAS thread its products itself (for one row, its
threaded matrix-vector product beats anything a block split could do).

While blocks run, OpenBLAS is held to one thread: its own worker threads, once woken by a
product large enough to thread, spin for a while after it, and a loop thread sharing a core
with a spinning worker runs at half speed. Measured on 2 cores (float32 LSTM, H = 128, N = 32,
T = 100, the forward loop after the input projection): 8.2 ms on two loop threads with OpenBLAS
at two, 4.6 ms with OpenBLAS at one, 6.5 ms on one loop thread.

Results do not depend on the thread count:
  * whether the rows split, and how many rows each product call takes, depends on the shapes
    and the BLAS only; a block is a run of whole calls at fixed offsets, and every other
    operation in the loops is per row;
  * the steps' parts for the weight gradients are one per core of the machine, however many
    threads run them, and added in the same order.
One thread or several run exactly the same BLAS calls and row sweeps, only on different cores.
(Without a split, OpenBLAS's own thread count may change the last bits of its large products,
as it always could.)

The blocks run on a pool of Python threads; the compiled loops release the GIL (nogil=True).
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..threads import loop_threads, restore_blas_threads, set_blas_threads
from .blas import rows_per_call, rows_per_run, usable_cores
from .products import weight_gradients as weight_gradients_part

MIN_SPLIT_WORK = 20_000_000  # multiply-adds of a layer's loop (T * N * (D + H) * G) worth a split
pools = {}  # {(process id, workers): ThreadPoolExecutor}; a forked child makes its own


def splits(N, rows, work):
    """Whether a layer's N rows are cut into blocks: more than one product call per step, and at
    least MIN_SPLIT_WORK multiply-adds (work = T * N * (D + H) * G). Shapes only, never the
    thread count. When they are, the loops make ax and dx step by step."""
    return N > rows and work >= MIN_SPLIT_WORK


def plan(N, T, D, H, M):
    """(rows, split) for a layer of T steps, N rows, D inputs, H units and M = G*H gate columns:
    the rows per product call (blas.rows_per_call for (rows, H) @ (H, M)) and whether the rows
    are cut into blocks (`splits`, the work being T * N * (D + H) * M multiply-adds)."""
    rows = rows_per_call(N, H, M)
    return rows, splits(N, rows, T * N * (D + H) * M)


def even_parts(count, parts):
    """[(a, b), ...]: range(count) cut into min(parts, count) runs as even as can be (at least
    one run)."""
    parts = max(1, min(parts, count))
    edges = [count * part // parts for part in range(parts + 1)]
    return list(zip(edges[:-1], edges[1:]))


def row_blocks(N, rows, threads):
    """[(lo, hi), ...]: the N rows cut into at most `threads` blocks of whole calls of `rows`
    rows, as even as whole calls allow."""
    return [(a * rows, min(N, b * rows)) for a, b in even_parts(-(-N // rows), threads)]


def thread_pool(workers):
    """A pool of `workers` threads for this process, made once."""
    key = (os.getpid(), workers)
    if key not in pools:
        pools[key] = ThreadPoolExecutor(workers, thread_name_prefix="minirnn")
    return pools[key]


def run_side_by_side(calls):
    """function(*args) for each (function, args) in calls, on up to `loop_threads()` threads
    (this one and a pool), with OpenBLAS held to one thread; returns when all are done."""
    threads = min(loop_threads(), len(calls))
    before = set_blas_threads(1)
    try:
        if threads == 1:
            for function, args in calls:
                function(*args)
            return
        pool = thread_pool(threads - 1)
        others = [pool.submit(function, *args) for function, args in calls[1:]]
        calls[0][0](*calls[0][1])
        for other in others:
            other.result()
    finally:
        restore_blas_threads(before)


def run_rows(loop, N, rows, split, *args):
    """loop(*args, lo, hi) over the N rows: one block (0, N) on this thread when not split, else
    blocks of whole calls of `rows` rows side by side on up to `loop_threads()` threads."""
    if not split:
        loop(*args, 0, N)
        return
    blocks = row_blocks(N, rows, loop_threads())
    run_side_by_side([(loop, args + block) for block in blocks])


def weight_gradients(x, dax, h0, h, dah, dWx, dWh, db, split):
    """dWx, dWh, db (products.weight_gradients) summed over all T steps. Not split: one product
    each. Split: each sum in runs of rows on the small path where one fits (blas.rows_per_run);
    one part of the steps per core, side by side, the parts added in order."""
    (T, N, D), (H, G) = x.shape, dWh.shape
    if not split:
        weight_gradients_part(x, dax, h0, h, dah, dWx, dWh, db, T * N, 0, T)
        return
    run = rows_per_run(max(D, H), G) or T * N
    parts = even_parts(T, usable_cores())  # parts of the steps
    sums = [(dWx, dWh, db)] + [(np.empty_like(dWx), np.empty_like(dWh), np.empty_like(db))
                               for _ in parts[1:]]
    run_side_by_side([(weight_gradients_part, (x, dax, h0, h, dah, *part_sums, run, t0, t1))
                      for part_sums, (t0, t1) in zip(sums, parts)])
    for part_dWx, part_dWh, part_db in sums[1:]:
        dWx += part_dWx
        dWh += part_dWh
        db += part_db
