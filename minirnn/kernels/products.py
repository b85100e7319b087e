"""The matrix products hoisted out of the time loop, shared by the three cells' kernels.

Shape legend: T time steps, N batch, D input features, H hidden units, G gates; every sequence
array is time-major, (T, N, ...), so all T*N rows form one matrix.

The input projection does not depend on the recurrence, so the forward pass computes it for all
steps at once; likewise, once the backward loop has stored the pre-activation gradients da_t of
every step, the parameter and input gradients are sums over steps, each one matrix product:

    ax  = x @ Wx + b                     (T*N, D) @ (D, G*H)
    dx  = da @ Wx.T                      (T*N, G*H) @ (G*H, D)
    dWx = x.T @ da      = sum_t x_t.T @ da_t
    dWh = h_prev.T @ da = sum_t h_{t-1}.T @ da_t       (h_{-1} = h0)
    db  = sum over the T*N rows of da

Inside the loop, each step multiplies one (N, K) slab by a recurrent weight matrix (K, M):
`recurrent_product`. `np.dot` inside Numba calls BLAS (SciPy's OpenBLAS), which wins for one row
(it switches to a matrix-vector product) and from about 8 rows on. In between it depends on the
kernel family OpenBLAS picked for the CPU, so the kernels take `loop_below` from blas.py: below
that many rows (and above one) the plain loop of `small_matmul` is used.

All products of the numba backend go through Numba, none through NumPy's own OpenBLAS: the two
libraries keep separate thread pools, and on a small machine the idle-spinning threads of one
slow the other down by 2x or more. Every result is written into an array the caller allocated
with NumPy (see arrays.py for why).
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


@jit
def recurrent_product(a, W, out, loop_below):
    """out = a @ W for one step's slab a: (N, K); W: (K, M) C-contiguous; out: (N, M). Through
    `small_matmul` when 1 < N < loop_below, else BLAS."""
    if 1 < a.shape[0] < loop_below:
        small_matmul(a, W, out)
    else:
        np.dot(a, W, out)


@jit
def column_sums(a, total):
    """total = the sum over the rows of a: (R, K) -> (K,)."""
    total[:] = 0.0
    for r in range(a.shape[0]):
        row = a[r]
        for k in range(a.shape[1]):
            total[k] += row[k]


@jit
def project_inputs(x, Wx, b, ax):
    """ax = x_t @ Wx + b for every step at once. x: (T, N, D), Wx: (D, G*H), b: (G*H,);
    writes ax: (T, N, G*H)."""
    T, N, D = x.shape
    ax_rows = ax.reshape(T * N, Wx.shape[1])
    np.dot(x.reshape(T * N, D), Wx, ax_rows)
    for r in range(T * N):
        row = ax_rows[r]
        for k in range(b.shape[0]):
            row[k] += b[k]


@jit
def input_gradients(x, Wx, da, dx, dWx, db):
    """Backward of `project_inputs`, from da: (T, N, G*H) = dLoss/d(x_t @ Wx + b) of every step.
    Writes dx: (T, N, D), dWx: (D, G*H) and db: (G*H,)."""
    T, N, D = x.shape
    da_rows = da.reshape(T * N, da.shape[2])
    np.dot(da_rows, Wx.T, dx.reshape(T * N, D))
    np.dot(x.reshape(T * N, D).T, da_rows, dWx)
    column_sums(da_rows, db)


@jit
def recurrent_weight_gradient(h0, h, dah, dWh):
    """dWh = sum_t h_{t-1}.T @ dah_t with h_{-1} = h0: h0: (N, H), h: (T, N, H) the states after
    each step, dah: (T, N, G*H) = dLoss/d(h_{t-1} @ Wh); writes dWh: (H, G*H). The steps t >= 1
    read h[t-1], rows that already lie contiguously in h: one product for all of them, then the
    step t = 0, which read h0, is added."""
    T, N, H = h.shape
    G = dah.shape[2]
    np.dot(h[:T - 1].reshape((T - 1) * N, H).T, dah[1:].reshape((T - 1) * N, G), dWh)
    for n in range(N):
        for k in range(H):
            h0_nk, dWh_k, dah_n = h0[n, k], dWh[k], dah[0, n]
            for j in range(G):
                dWh_k[j] += h0_nk * dah_n[j]


@jit
def dropped_recurrent_product(h, rmask, h_dropped, W, out, loop_below):
    """out = (h * rmask) @ W for one step's states h: (N, K) with the recurrent-dropout mask
    rmask: (N, K), or h @ W when rmask is empty, (0, 0) (no recurrent dropout). h_dropped: (N, K)
    scratch; loop_below: see `recurrent_product`."""
    if rmask.shape[0] == 0:
        recurrent_product(h, W, out, loop_below)
        return
    for n in range(h.shape[0]):
        for k in range(h.shape[1]):
            h_dropped[n, k] = h[n, k] * rmask[n, k]
    recurrent_product(h_dropped, W, out, loop_below)


@jit
def drop_rows(a, rmask):
    """a *= rmask in place (the backward of h * rmask); nothing when rmask is empty."""
    if rmask.shape[0] == 0:
        return
    for n in range(a.shape[0]):
        for k in range(a.shape[1]):
            a[n, k] *= rmask[n, k]
