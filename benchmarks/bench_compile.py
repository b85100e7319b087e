"""How long the numba backend takes to get going: import plus the first forward+backward call of
each cell and dtype, cold (nothing compiled yet) and warm (compiled code loaded from Numba's
on-disk cache, which every kernel uses: cache=True).

Each measurement runs in a fresh Python process. The cold run points NUMBA_CACHE_DIR at a new
empty temporary directory, so every kernel is compiled; the warm runs reuse that directory, so
they load what the cold run stored (exactly what a user's second session does with the cache
next to the installed package).

    python benchmarks/bench_compile.py              # 1 cold run, 3 warm runs (median shown)
    python benchmarks/bench_compile.py --warm 5
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CELLS = ("rnn", "lstm", "gru")
DTYPES = ("float64", "float32")


def child():
    """Runs in the fresh process: time the imports, then each (cell, dtype)'s first and second
    forward+backward call on a tiny problem. Prints one JSON line."""
    start = time.perf_counter()
    import numpy as np
    import numba  # noqa: F401  (timed apart: it is what importing the kernels costs anyway)
    times = {"import numpy+numba": time.perf_counter() - start}
    start = time.perf_counter()
    from minirnn.cells import get_cell
    kernels = {cell: get_cell(cell).sequence_functions("numba") for cell in CELLS}
    times["import minirnn and its kernels"] = time.perf_counter() - start
    rng = np.random.default_rng(0)
    N, T, D, H = 2, 3, 4, 5
    for cell in CELLS:
        spec, (forward, backward) = get_cell(cell), kernels[cell]
        for dtype in DTYPES:
            x = rng.standard_normal((N, T, D)).astype(dtype)
            states = [rng.standard_normal((N, H)).astype(dtype) for _ in spec.state_names]
            params = [rng.standard_normal(s).astype(dtype)
                      for s in spec.param_shapes(D, H).values()]
            for call in ("first", "second"):
                start = time.perf_counter()
                h, cache = forward(x, *states, *params)
                backward(np.ones_like(h), cache)
                times[f"{cell} {dtype} {call} call"] = time.perf_counter() - start
    print(json.dumps(times))


def run_child(cache_dir):
    """Run `child` in a fresh interpreter; returns (its timings, the process's wall time)."""
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir,
               PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    start = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child"], env=env, check=True,
                         capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    return json.loads(out.strip().splitlines()[-1]), wall


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--warm", type=int, default=3, help="number of warm runs (median reported)")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        child()
        return
    with tempfile.TemporaryDirectory(prefix="minirnn-numba-cache-") as cache_dir:
        cold, cold_wall = run_child(cache_dir)
        warm_runs = [run_child(cache_dir) for _ in range(args.warm)]
    warm = {k: statistics.median(run[k] for run, _ in warm_runs) for k in cold}
    warm_wall = statistics.median(wall for _, wall in warm_runs)
    rows = [("step", "cold (s)", f"warm, median of {args.warm} (s)")]
    rows += [(k, f"{cold[k]:.3f}", f"{warm[k]:.3f}") for k in cold]
    first_calls = [k for k in cold if k.endswith("first call")]
    rows.append(("all first calls", f"{sum(cold[k] for k in first_calls):.2f}",
                 f"{sum(warm[k] for k in first_calls):.2f}"))
    rows.append(("whole process (wall)", f"{cold_wall:.2f}", f"{warm_wall:.2f}"))
    width = max(len(r[0]) for r in rows)
    for name, c, w in rows:
        print(f"{name:<{width}}  {c:>10}  {w:>24}")


if __name__ == "__main__":
    main()
