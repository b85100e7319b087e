"""The matrix products of the three cells' kernels: each step's products, and the sums over steps.

Shape legend: T time steps, N batch, D input features, H hidden units, G gates; every sequence
array is time-major, (T, N, ...), so all T*N rows form one matrix.

The input projection does not depend on the recurrence, and once the backward loop has stored
the pre-activation gradients da_t of every step, the parameter and input gradients are sums over
steps:

    ax  = x @ Wx + b                     (T*N, D) @ (D, G*H)
    dx  = da @ Wx.T                      (T*N, G*H) @ (G*H, D)
    dWx = x.T @ da      = sum_t x_t.T @ da_t
    dWh = h_prev.T @ da = sum_t h_{t-1}.T @ da_t       (h_{-1} = h0)
    db  = sum over the T*N rows of da

When one product call per step covers the whole batch, ax and dx are one product each over all
steps (`project_inputs`, `input_gradient`); when the batch is cut into blocks of rows that run on
different cores (parallel.py), they are made step by step inside each block's loop
(`project_step`), since a block's rows are not contiguous across steps. The weight gradients are
summed over a part of the steps at a time, in runs of rows where OpenBLAS's small-matrix path
allows (`weight_gradients`; parallel.py adds the parts).

Inside the loop, each step multiplies one (N, K) slab by a weight matrix (K, M): `step_product`.
`np.dot` inside Numba calls BLAS (SciPy's OpenBLAS), which wins for one row (it switches to a
matrix-vector product) and from about 8 rows on. In between it depends on the kernel family
OpenBLAS picked for the CPU, so the kernels take `loop_below` from blas.py: below that many rows
(and above one) the plain loop of `small_matmul` is used. The slab goes in calls of `rows` rows
(blas.rows_per_call): on OpenBLAS's SkylakeX kernels a few calls that each stay on its
small-matrix path beat one call that does not, by up to 2x.

All products of the numba backend go through Numba, none through NumPy's own OpenBLAS: the two
libraries keep separate thread pools, and on a small machine the idle-spinning threads of one
slow the other down by 2x or more. Every result is written into an array the caller allocated
with NumPy (see arrays.py for why), or into a block's own scratch.
"""
import numpy as np

from .jit import jit


@jit
def small_matmul(a, W, out):
    """out = a @ W for a few rows: out[n] = sum_k a[n, k] * W[k]. a: (N, K), W: (K, M)
    C-contiguous, out: (N, M). Each row of W is read once and applied to every row of a while it
    sits in the cache; the inner loop runs along it."""
    for n in range(a.shape[0]):
        for j in range(out.shape[1]):
            out[n, j] = 0.0
    for k in range(a.shape[1]):
        W_k = W[k]
        for n in range(a.shape[0]):
            a_nk, out_n = a[n, k], out[n]
            for j in range(W_k.shape[0]):
                out_n[j] += a_nk * W_k[j]


@jit(nogil=True)
def transpose_into(W, out):
    """out = W.T for W: (K, M), out: (M, K), in tiles of 8 x 8: each tile's rows of W and of out
    stay in the cache while it is copied (3x faster than NumPy's copy of W.T for H >= 128)."""
    K, M = W.shape
    for k0 in range(0, K, 8):
        for j0 in range(0, M, 8):
            for j in range(j0, min(j0 + 8, M)):
                for k in range(k0, min(k0 + 8, K)):
                    out[j, k] = W[k, j]


@jit
def column_sums(a, total):
    """total = the sum over the rows of a: (R, K) -> (K,)."""
    total[:] = 0.0
    for r in range(a.shape[0]):
        row = a[r]
        for k in range(a.shape[1]):
            total[k] += row[k]


@jit
def step_product(a, W, out, loop_below, rows):
    """out = a @ W for one step's slab a: (N, K); W: (K, M) C-contiguous; out: (N, M), in calls
    of `rows` rows (blas.rows_per_call), each through `small_matmul` when it has
    1 < rows < loop_below, else BLAS."""
    for lo in range(0, a.shape[0], rows):
        hi = min(lo + rows, a.shape[0])
        if 1 < hi - lo < loop_below:
            small_matmul(a[lo:hi], W, out[lo:hi])
        else:
            np.dot(a[lo:hi], W, out[lo:hi])


@jit
def add_bias(a, b):
    """a += b on every row of a: (R, K); b: (K,)."""
    for r in range(a.shape[0]):
        row = a[r]
        for k in range(b.shape[0]):
            row[k] += b[k]


@jit
def project_step(x_t, Wx, b, ax_t, loop_below, rows):
    """ax_t = x_t @ Wx + b for one step's rows x_t: (N, D); writes ax_t: (N, G*H)."""
    step_product(x_t, Wx, ax_t, loop_below, rows)
    add_bias(ax_t, b)


@jit(nogil=True)
def project_inputs(x, Wx, b, ax):
    """ax = x_t @ Wx + b for every step at once. x: (T, N, D), Wx: (D, G*H), b: (G*H,);
    writes ax: (T, N, G*H)."""
    T, N, D = x.shape
    ax_rows = ax.reshape(T * N, Wx.shape[1])
    np.dot(x.reshape(T * N, D), Wx, ax_rows)
    add_bias(ax_rows, b)


@jit(nogil=True)
def input_gradient(da, Wx_T, dx):
    """dx = da @ Wx.T for every step at once: da: (T, N, G*H), Wx_T: (G*H, D) (Wx.T);
    writes dx: (T, N, D)."""
    T, N, G = da.shape
    np.dot(da.reshape(T * N, G), Wx_T, dx.reshape(T * N, Wx_T.shape[1]))


@jit
def summed_products(a, b, out, run):
    """out = a.T @ b for a: (R, K), b: (R, M), as one product per run of `run` rows of both,
    added in order (run >= R: one product). Runs short enough stay on OpenBLAS's small-matrix
    path (blas.gradient_rows)."""
    if a.shape[0] == 0:
        out[:] = 0.0
        return
    np.dot(a[:run].T, b[:run], out)
    if run >= a.shape[0]:
        return
    part = np.empty_like(out)
    for r0 in range(run, a.shape[0], run):
        np.dot(a[r0:r0 + run].T, b[r0:r0 + run], part)
        for k in range(out.shape[0]):
            out_k, part_k = out[k], part[k]
            for j in range(out.shape[1]):
                out_k[j] += part_k[j]


@jit(nogil=True)
def weight_gradients(x, dax, h0, h, dah, dWx, dWh, db, run, t0, t1):
    """The sums over the steps t0:t1: dWx = sum_t x_t.T @ dax_t, dWh = sum_t h_{t-1}.T @ dah_t
    with h_{-1} = h0, db = the sum of dax over those rows.
    x: (T, N, D); dax, dah: (T, N, G*H) = dLoss/d(x_t @ Wx + b), dLoss/d(h_{t-1} @ Wh) (the same
    array for RNN and LSTM); h0: (N, H), h: (T, N, H) the states as the recurrent product read
    them. Writes dWx: (D, G*H), dWh: (H, G*H), db: (G*H,). Each sum of products goes in runs of
    `run` rows (`summed_products`). The steps t >= 1 read h[t-1], rows that lie contiguously in h;
    step 0, which read h0, is added."""
    N, D = x.shape[1], x.shape[2]
    H, G = h.shape[2], dah.shape[2]
    dax_rows = dax[t0:t1].reshape((t1 - t0) * N, G)
    summed_products(x[t0:t1].reshape((t1 - t0) * N, D), dax_rows, dWx, run)
    column_sums(dax_rows, db)
    s = max(t0, 1)
    summed_products(h[s - 1:t1 - 1].reshape((t1 - s) * N, H), dah[s:t1].reshape((t1 - s) * N, G),
                    dWh, run)
    if t0 == 0:
        for n in range(N):
            for k in range(H):
                h0_nk, dWh_k, dah_n = h0[n, k], dWh[k], dah[0, n]
                for j in range(G):
                    dWh_k[j] += h0_nk * dah_n[j]


@jit
def dropped_recurrent_product(h, rmask, h_dropped, W, out, loop_below, rows):
    """out = (h * rmask) @ W for one step's states h: (N, K) with the recurrent-dropout mask
    rmask: (N, K), or h @ W when rmask is empty, (0, 0) (no recurrent dropout). h_dropped: (N, K)
    scratch; loop_below, rows: see `step_product`."""
    if rmask.shape[0] == 0:
        step_product(h, W, out, loop_below, rows)
        return
    for n in range(h.shape[0]):
        for k in range(h.shape[1]):
            h_dropped[n, k] = h[n, k] * rmask[n, k]
    step_product(h_dropped, W, out, loop_below, rows)


@jit
def drop_rows(a, rmask):
    """a *= rmask in place (the backward of h * rmask); nothing when rmask is empty."""
    if rmask.shape[0] == 0:
        return
    for n in range(a.shape[0]):
        for k in range(a.shape[1]):
            a[n, k] *= rmask[n, k]


@jit
def step_products(x_t, Wx, b, h_prev, rmask, h_dropped, Wh, ax_t, a_h, each_step, loop_below,
                  rows):
    """One step's products for a block of rows: ax_t = x_t @ Wx + b when each_step (else the
    loop made ax for all steps before it), and a_h = (h_{t-1} * m) @ Wh
    (`dropped_recurrent_product`)."""
    if each_step:
        project_step(x_t, Wx, b, ax_t, loop_below, rows)
    dropped_recurrent_product(h_prev, rmask, h_dropped, Wh, a_h, loop_below, rows)
