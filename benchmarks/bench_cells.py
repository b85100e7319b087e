"""Time one full training step of a 2-layer stacked RNN/LSTM/GRU: minirnn-numba, minirnn-numpy
and torch.nn.{RNN,LSTM,GRU} on the CPU, side by side in one process.

A training step is the forward pass over all steps and layers, the loss sum(y * dy) for a fixed
random dy, and full BPTT (gradients of every parameter and of x). Each method is warmed up, then
timed `--repeats` times; the table reports the median in milliseconds, the ratios numba/torch and
numba/numpy, and GFLOP/s counted from the matrix products a step needs (elementwise work is not
counted). Two yardsticks put the numbers in context:

  * the GEMM roofline: NumPy's float32 and float64 matrix product speed on this machine;
  * the matmul floor: the time that exactly the step's matrix products take in NumPy and
    through np.dot inside Numba (per layer: x @ Wx once, T products h @ Wh, T products
    da @ Wh.T, and dx, dWx, dWh over all steps), for every configuration by default. Where the
    kernels cut a layer's batch into blocks on several threads (minirnn/kernels/parallel.py),
    the Numba floor makes the same products in the kernels' own schedule instead: per step and
    block, in calls on OpenBLAS's small-matrix path, side by side on the loop's threads.
    numba/floor says how close the kernels come to doing nothing but matrix products;
    floor/torch >= 1 means no kernel calling this BLAS can beat torch there.

A "Targets" section at the end checks the numbers against the goals of the fast-path issue.

    python benchmarks/bench_cells.py                 # the full grid, writes benchmarks/results.md
    python benchmarks/bench_cells.py --quick         # a small smoke test, prints only
    python benchmarks/bench_cells.py --cells lstm --sizes 128,512 --batches 32 --repeats 11

Run it on a quiet machine: other processes on the same cores change every number.
"""
import argparse
import datetime
import functools
import os
import platform
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

from minirnn import StackedRNN  # noqa: E402
from minirnn.allocator import keep_freed_memory  # noqa: E402

GATES = {"rnn": 1, "lstm": 4, "gru": 3}
DTYPES = {"float32": np.float32, "float64": np.float64}


# ---- what one configuration costs ------------------------------------------------------------
def step_flops(gates, H, N, T, layers):
    """Multiply-adds x 2 of a training step's matrix products (input size D = H every layer):
    forward x @ Wx and h @ Wh; backward the same two products twice (input and weight grads)."""
    per_layer = 2 * N * T * (H + H) * gates * H
    return 3 * per_layer * layers


def median_time(run, repeats, warmup, budget, pause=0.0):
    """(median seconds, page faults per call) of `run()` over `repeats` calls after `warmup`
    calls; fewer repeats (at least 3) when one call is so slow that `repeats` would exceed
    `budget` seconds. Sleeps `pause` seconds first, so that the worker threads of whatever ran
    before (OpenBLAS, OpenMP in torch) have stopped spinning and gone to sleep instead of
    competing for the cores. Page faults (first touches of memory the process got back from the
    OS) cost about 1.5 us each on a virtual machine: a visible share of a small step."""
    time.sleep(pause)
    start = time.perf_counter()
    for _ in range(warmup):
        run()
    one = (time.perf_counter() - start) / max(warmup, 1)
    repeats = max(3, min(repeats, int(budget / max(one, 1e-9))))
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    return statistics.median(times), faults / repeats


def minirnn_step(cell, H, N, T, layers, dtype, backend, rng):
    """A function running one training step of a StackedRNN on `backend`."""
    net = StackedRNN(cell, H, [H] * layers, dtype=dtype, seed=0, backend=backend)
    x = rng.standard_normal((N, T, H)).astype(dtype)
    dy = rng.standard_normal((N, T, H)).astype(dtype)

    def run():
        y, _, cache = net.forward(x)
        float(np.sum(y * dy))  # the loss; dLoss/dy = dy
        net.backward(dy, cache)
    return run


def torch_step(cell, H, N, T, layers, dtype, rng):
    """The same training step with torch.nn.RNN/LSTM/GRU (batch_first, gradient on x too)."""
    import torch
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    torch_dtype = {np.float32: torch.float32, np.float64: torch.float64}[dtype]
    net = module(H, H, num_layers=layers, batch_first=True).to(torch_dtype)
    x = torch.tensor(rng.standard_normal((N, T, H)), dtype=torch_dtype, requires_grad=True)
    dy = torch.tensor(rng.standard_normal((N, T, H)), dtype=torch_dtype)

    def run():
        x.grad = None
        for p in net.parameters():
            p.grad = None
        y, _ = net(x)
        (y * dy).sum().backward()
    return run


def matmul_floor_step(cell, H, N, T, layers, dtype, rng):
    """A function doing exactly the matrix products of one training step in NumPy."""
    G = GATES[cell]
    x_rows = rng.standard_normal((N * T, H)).astype(dtype)  # x or h_{t-1} for all steps
    da_rows = rng.standard_normal((N * T, G * H)).astype(dtype)
    Wx = rng.standard_normal((H, G * H)).astype(dtype)
    Wh = rng.standard_normal((H, G * H)).astype(dtype)
    h = rng.standard_normal((N, H)).astype(dtype)
    da = rng.standard_normal((N, G * H)).astype(dtype)
    a_out, dh_out = np.empty((N, G * H), dtype), np.empty((N, H), dtype)

    def run():
        for _ in range(layers):
            x_rows @ Wx                       # input projection, all steps
            for _ in range(T):
                np.dot(h, Wh, out=a_out)      # h_{t-1} @ Wh
            for _ in range(T):
                np.dot(da, Wh.T, out=dh_out)  # da_t @ Wh.T
            da_rows @ Wx.T                    # dx
            x_rows.T @ da_rows                # dWx
            x_rows.T @ da_rows                # dWh
    return run


@functools.lru_cache(maxsize=None)
def numba_products():
    """The floor's products as one compiled function (compiled once per dtype)."""
    from numba import njit

    @njit
    def products(x_rows, da_rows, Wx, Wh, h, da, a_out, dh_out, ax, dx, dWx, dWh, T, layers):
        for _ in range(layers):
            np.dot(x_rows, Wx, ax)
            for _ in range(T):
                np.dot(h, Wh, a_out)
            for _ in range(T):
                np.dot(da, Wh.T, dh_out)
            np.dot(da_rows, Wx.T, dx)
            np.dot(x_rows.T, da_rows, dWx)
            np.dot(x_rows.T, da_rows, dWh)
    return products


@functools.lru_cache(maxsize=None)
def block_products():
    """The per-step products of a split layer's forward and backward loops, for one block of
    rows, as the kernels make them (kernels/parallel.py): compiled once."""
    from numba import njit

    from minirnn.kernels.products import step_product

    @njit(nogil=True)
    def forward(x, Wx, h, Wh, ax, loop_below, rows, lo, hi):
        a_h = np.empty((hi - lo, Wh.shape[1]), x.dtype)
        for t in range(x.shape[0]):
            step_product(x[t, lo:hi], Wx, ax[t, lo:hi], loop_below, rows)
            step_product(h[t, lo:hi], Wh, a_h, loop_below, rows)

    @njit(nogil=True)
    def backward(da, Wh_T, Wx_T, dx, loop_below, rows, lo, hi):
        dprev_h = np.empty((hi - lo, Wh_T.shape[1]), da.dtype)
        for t in range(da.shape[0] - 1, -1, -1):
            step_product(da[t, lo:hi], Wh_T, dprev_h, loop_below, rows)
            step_product(da[t, lo:hi], Wx_T, dx[t, lo:hi], loop_below, rows)
    return forward, backward


def split_floor_step(cell, H, N, T, layers, dtype, rng):
    """The floor of a layer the kernels split into blocks of rows: the same products in the
    kernels' own schedule (calls of blas.rows_per_call rows, blocks side by side on the loop's
    threads, the weight gradients in parts and runs), or None when the layer does not split."""
    from minirnn.kernels import blas, parallel
    G = GATES[cell]
    rows, split = parallel.plan(N, T, H, H, G * H)
    if not split:
        return None
    x, h = (rng.standard_normal((T, N, H)).astype(dtype) for _ in range(2))
    da = rng.standard_normal((T, N, G * H)).astype(dtype)
    Wx, Wh = (rng.standard_normal((H, G * H)).astype(dtype) for _ in range(2))
    Wx_T, Wh_T = np.ascontiguousarray(Wx.T), np.ascontiguousarray(Wh.T)
    ax, dx = np.empty((T, N, G * H), dtype), np.empty((T, N, H), dtype)
    dWx, dWh, db = np.empty((H, G * H), dtype), np.empty((H, G * H), dtype), np.empty(G * H, dtype)
    forward, backward = block_products()
    loop_below = blas.few_rows_limit()

    def run():
        for _ in range(layers):
            parallel.run_rows(forward, N, rows, True, x, Wx, h, Wh, ax, loop_below, rows)
        for _ in range(layers):
            parallel.run_rows(backward, N, rows, True, da, Wh_T, Wx_T, dx, loop_below, rows)
            parallel.weight_gradients(x, da, h[0], h, da, dWx, dWh, db, True)
    return run


def numba_matmul_floor_step(cell, H, N, T, layers, dtype, rng):
    """The same products as `matmul_floor_step`, through np.dot inside Numba: the BLAS (SciPy's
    OpenBLAS) and the calls the kernels actually use; for a layer the kernels split, in their
    schedule (`split_floor_step`)."""
    split = split_floor_step(cell, H, N, T, layers, dtype, rng)
    if split is not None:
        return split
    G = GATES[cell]
    shapes = [(N * T, H), (N * T, G * H), (H, G * H), (H, G * H), (N, H), (N, G * H)]
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    outs = [np.empty(s, dtype) for s in [(N, G * H), (N, H), (N * T, G * H), (N * T, H),
                                         (H, G * H), (H, G * H)]]
    products = numba_products()
    return lambda: products(*arrays, *outs, T, layers)


def gemm_roofline(repeats):
    """{dtype name: GFLOP/s} of NumPy matrix products at two large shapes (the best of them)."""
    rng = np.random.default_rng(0)
    result = {}
    for name, dtype in DTYPES.items():
        best = 0.0
        for m, k, n in [(2048, 2048, 2048), (3200, 512, 2048)]:
            a = rng.standard_normal((m, k)).astype(dtype)
            b = rng.standard_normal((k, n)).astype(dtype)
            seconds, _ = median_time(lambda: a @ b, repeats, warmup=2, budget=10)
            best = max(best, 2 * m * k * n / seconds / 1e9)
        result[name] = best
    return result


# ---- the machine -----------------------------------------------------------------------------
def machine_description():
    """Lines describing the CPU, the library versions and the BLAS builds."""
    import numba
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else "?"
    lines = [f"- CPU: {cpu}; {os.cpu_count()} logical cores ({usable} usable)",
             f"- Python {platform.python_version()} on {platform.platform()}",
             f"- numpy {np.__version__}, numba {numba.__version__}"]
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    lines.append(f"- NumPy BLAS: {blas.get('name')} {blas.get('version')} "
                 f"({blas.get('openblas configuration', '').strip()})")
    try:
        import scipy
        sblas = scipy.show_config(mode="dicts")["Build Dependencies"]["blas"]
        lines.append(f"- SciPy {scipy.__version__} BLAS (used by np.dot inside Numba): "
                     f"{sblas.get('name')} {sblas.get('version')}")
        from minirnn.kernels.blas import few_rows_limit, scipy_openblas_family
        limit = few_rows_limit()
        lines.append(f"- OpenBLAS kernel family SciPy's OpenBLAS picked for this CPU: "
                     f"{scipy_openblas_family()} (products of 2 to 7 rows: "
                     f"{'the row loop' if limit else 'BLAS'})")
    except ImportError:
        lines.append("- SciPy: not installed (Numba's np.dot needs it)")
    try:
        import torch
        backends = "MKL" if torch.backends.mkl.is_available() else "no MKL"
        backends += ", oneDNN" if torch.backends.mkldnn.is_available() else ""
        lines.append(f"- torch {torch.__version__} ({backends}), "
                     f"{torch.get_num_threads()} intra-op threads")
    except ImportError:
        lines.append("- torch: not installed")
    prefixes = ("OMP_", "OPENBLAS_", "MKL_", "NUMBA_", "MALLOC_", "GLIBC_TUNABLES")
    settings = {k: v for k, v in sorted(os.environ.items()) if k.startswith(prefixes)}
    lines.append(f"- BLAS, thread and allocator settings in the environment: {settings or 'none'}")
    lines.append(f"- load average at start: {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
    return lines


# ---- the run ---------------------------------------------------------------------------------
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true",
                   help="smoke test: lstm and gru, H 16 and 64, batch 1 and 4, T 20, float64 and "
                        "float32, 3 repeats; prints only unless --output is given")
    p.add_argument("--cells", default="rnn,lstm,gru")
    p.add_argument("--sizes", default="16,64,128,256,512", help="hidden sizes H (D = H)")
    p.add_argument("--batches", default="1,32")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--T", type=int, default=100, help="time steps")
    p.add_argument("--layers", type=int, default=2)
    p.add_argument("--repeats", type=int, default=7)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--budget", type=float, default=30.0,
                   help="seconds per method and configuration; slow ones get fewer repeats (>= 3)")
    p.add_argument("--pause", type=float, default=1.0,
                   help="seconds of sleep before timing each method, for the thread pools of "
                        "the previous one to go idle")
    p.add_argument("--numpy-max-size", type=int, default=None,
                   help="skip the (slow) NumPy reference for H above this")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--torch-threads", type=int, default=2)
    p.add_argument("--floor", default="all",
                   help="HxN configurations whose matmul floor is measured, comma-separated, "
                        "or 'all' or 'none'")
    p.add_argument("--output", default=None,
                   help="markdown file to write (default: benchmarks/results.md for a full run, "
                        "none with --quick)")
    args = p.parse_args(argv)
    if args.quick:
        args.cells, args.sizes, args.batches, args.T = "lstm,gru", "16,64", "1,4", 20
        args.repeats, args.warmup, args.floor = 3, 1, "64x4"
    if args.output is None and not args.quick:
        args.output = str(Path(__file__).with_name("results.md"))
    return args


def run_grid(args):
    """Time every configuration; returns a list of row dicts."""
    cells = args.cells.split(",")
    sizes = [int(s) for s in args.sizes.split(",")]
    batches = [int(b) for b in args.batches.split(",")]
    floors = args.floor.split(",")
    have_torch = False
    if not args.no_torch:
        try:
            import torch
            torch.set_num_threads(args.torch_threads)
            have_torch = True
        except ImportError:
            print("torch is not installed: no torch column", file=sys.stderr)
    rows = []
    rng = np.random.default_rng(0)
    for cell in cells:
        for dtype_name in args.dtypes.split(","):
            dtype = DTYPES[dtype_name]
            for H in sizes:
                for N in batches:
                    shape = (cell, H, N, args.T, args.layers)
                    timing = lambda run: median_time(run, args.repeats, args.warmup, args.budget,
                                                     args.pause)
                    row = {"cell": cell, "dtype": dtype_name, "H": H, "N": N,
                           "flops": step_flops(GATES[cell], H, N, args.T, args.layers)}
                    steps = {"numba": minirnn_step(*shape, dtype, "numba", rng)}
                    if args.numpy_max_size is None or H <= args.numpy_max_size:
                        steps["numpy"] = minirnn_step(*shape, dtype, "numpy", rng)
                    if have_torch:
                        steps["torch"] = torch_step(*shape, dtype, rng)
                    if "all" in floors or f"{H}x{N}" in floors:
                        steps["floor"] = matmul_floor_step(*shape, dtype, rng)
                        steps["nbfloor"] = numba_matmul_floor_step(*shape, dtype, rng)
                    for method, run in steps.items():
                        row[method], row[f"{method} faults"] = timing(run)
                    rows.append(row)
                    print(format_row(row), flush=True)
    return rows


def ms(row, key):
    return f"{row[key] * 1e3:.2f}" if key in row else "-"


def ratio(row, a, b):
    return f"{row[a] / row[b]:.2f}" if a in row and b in row else "-"


def gflops(row, key):
    return f"{row['flops'] / row[key] / 1e9:.1f}" if key in row else "-"


def faults(row, key):
    return f"{row[key + ' faults']:.0f}" if key in row else "-"


TABLE_HEADER = ("| cell | dtype | H | batch | numba ms | numpy ms | torch ms | numba/torch "
                "| numba/numpy | floor ms | floor/torch | GFLOP/s numba | GFLOP/s torch "
                "| page faults numba | page faults torch |")


def format_row(row):
    """One line of the main table; the floor is the one through Numba's BLAS ('nbfloor')."""
    return (f"| {row['cell']} | {row['dtype']} | {row['H']} | {row['N']} | {ms(row, 'numba')} "
            f"| {ms(row, 'numpy')} | {ms(row, 'torch')} | {ratio(row, 'numba', 'torch')} "
            f"| {ratio(row, 'numba', 'numpy')} | {ms(row, 'nbfloor')} "
            f"| {ratio(row, 'nbfloor', 'torch')} | {gflops(row, 'numba')} "
            f"| {gflops(row, 'torch')} | {faults(row, 'numba')} | {faults(row, 'torch')} |")


def listing(rows, a, b):
    """'cell dtype H/batch a/b' for each row, comma-separated."""
    return ", ".join(f"{r['cell']} {r['dtype']} H={r['H']}/b{r['N']} {ratio(r, a, b)}"
                     for r in rows) or "none"


def target_summary(rows):
    """The issue's four targets, checked against the measured rows."""
    lines = ["## Targets", ""]
    with_torch = [r for r in rows if "torch" in r]
    if with_torch:
        slower = [r for r in with_torch if r["numba"] >= r["torch"]]
        lines.append(f"- numba faster than torch in {len(with_torch) - len(slower)} of "
                     f"{len(with_torch)} configurations. Slower (numba/torch): "
                     f"{listing(slower, 'numba', 'torch')}.")
        bound = [r for r in slower if "nbfloor" in r and r["nbfloor"] >= r["torch"]]
        lines.append(f"  Of these, the matrix products alone (floor through Numba's BLAS) "
                     f"already take longer than torch's whole step in {len(bound)} "
                     f"(floor/torch): {listing(bound, 'nbfloor', 'torch')}.")
        small = [r for r in with_torch if r["H"] <= 128]
        fused = [r for r in small if r["cell"] == "lstm" and r["dtype"] == "float32"]
        per_op = [r for r in small if r not in fused]
        for label, group, goal in [("3x faster than torch's fused float32 LSTM", fused, 1 / 3),
                                   ("10x faster than torch's per-op paths", per_op, 0.1)]:
            met = [r for r in group if r["numba"] / r["torch"] <= goal]
            bound = [r for r in group if r not in met and "nbfloor" in r
                     and r["nbfloor"] / r["torch"] > goal]
            lines.append(f"- H <= 128, {label} (numba/torch <= {goal:.2f}): met in {len(met)} "
                         f"of {len(group)}: {listing(met, 'numba', 'torch')}. Missed where "
                         f"even the floor is above {goal:.2f} x torch ({len(bound)}; "
                         f"floor/torch): {listing(bound, 'nbfloor', 'torch')}.")
    big = [r for r in rows if r["H"] == 512 and r["N"] == 32 and "floor" in r]
    if big:
        met = [r for r in big if r["numba"] / r["floor"] <= 1.15]
        lines.append(f"- H = 512, batch 32, within 1.15x of the NumPy matmul floor: met in "
                     f"{len(met)} of {len(big)}; numba/floor: {listing(big, 'numba', 'floor')}.")
    with_numpy = [r for r in rows if "numpy" in r]
    if with_numpy:
        slower = [r for r in with_numpy if r["numba"] >= r["numpy"]]
        lines.append(f"- numba never slower than numpy: slower in {len(slower)} of "
                     f"{len(with_numpy)} configurations; worst numba/numpy "
                     f"{max(r['numba'] / r['numpy'] for r in with_numpy):.2f}.")
    return lines


def report(args, rows, roofline, machine, seconds):
    """The markdown written to --output (and printed)."""
    lines = [f"# minirnn training-step benchmark ({datetime.date.today().isoformat()})", "",
             f"Command: `python benchmarks/bench_cells.py {' '.join(sys.argv[1:])}`", "",
             "## Machine", "", *machine,
             f"- load average at end: {' '.join(f'{v:.2f}' for v in os.getloadavg())}", "",
             f"## Training step, T={args.T}, {args.layers} layers, D=H "
             f"(median of up to {args.repeats} runs after {args.warmup} warm-up runs; "
             f"torch with {args.torch_threads} threads)", "",
             "Page faults are per training step.", "",
             TABLE_HEADER, "|" + "---|" * 15, *[format_row(r) for r in rows], "",
             "## GEMM roofline (NumPy matrix product, best of 2048^3 and 3200x512x2048)", ""]
    lines += [f"- {name}: {value:.1f} GFLOP/s" for name, value in roofline.items()]
    floor_rows = [r for r in rows if "floor" in r]
    if floor_rows:
        lines += ["", "## Matmul floor: the step's matrix products alone", "",
                  "In NumPy (the yardstick of the issue), and through np.dot inside Numba (the "
                  "BLAS and the calls the kernels use).", "",
                  "| cell | dtype | H | batch | floor ms (NumPy) | floor ms (in Numba) "
                  "| numba ms | numba/floor (NumPy) | numba/floor (in Numba) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        lines += [f"| {r['cell']} | {r['dtype']} | {r['H']} | {r['N']} | {ms(r, 'floor')} "
                  f"| {ms(r, 'nbfloor')} | {ms(r, 'numba')} | {ratio(r, 'numba', 'floor')} "
                  f"| {ratio(r, 'numba', 'nbfloor')} |" for r in floor_rows]
    lines += ["", *target_summary(rows), "", f"Total benchmark time: {seconds:.0f} s.", ""]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    keep_freed_memory()  # as fit does: training steps reuse freed memory (minirnn/allocator.py)
    start = time.perf_counter()
    machine = machine_description()
    print("\n".join(machine))
    roofline = gemm_roofline(args.repeats)
    print("GEMM roofline:", ", ".join(f"{k} {v:.1f} GFLOP/s" for k, v in roofline.items()))
    print(TABLE_HEADER)
    rows = run_grid(args)
    text = report(args, rows, roofline, machine, time.perf_counter() - start)
    print(text)
    if args.output:
        Path(args.output).write_text(text)
        print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
