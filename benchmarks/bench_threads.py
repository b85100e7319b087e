"""Threads and training-step time: num_threads 1 against 2, alone and beside a second run.

`set_num_threads(n)` limits both the kernels' time loop (blocks of rows on n threads,
minirnn/kernels/parallel.py) and OpenBLAS's own threads (minirnn/threads.py). This times one
training step (bench_cells.minirnn_step: forward over T = 100 steps and 2 layers, a loss, full
BPTT; the Numba kernels) for each configuration with num_threads 1 and 2, in two situations:

    alone     nothing else runs (the machine should be quiet);
    beside    a second process runs the same step in a loop with the same thread setting, as
              when two experiments (or a test suite and a run) share the cores.

Each cell is the median over `--repeats` steps; the ratio is 2 threads / 1 thread (above 1:
two threads are slower). Writes benchmarks/results-threads.md.

    python benchmarks/bench_threads.py             # the grid below, ~3 min on 2 cores
    python benchmarks/bench_threads.py --quick     # two small configurations, prints only
"""
import argparse
import datetime
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_cells import DTYPES, machine_description, median_time, minirnn_step  # noqa: E402
from minirnn.allocator import keep_freed_memory  # noqa: E402
from minirnn.threads import set_num_threads  # noqa: E402

GRID = [("lstm", "float32", 64, 32), ("lstm", "float32", 256, 32), ("lstm", "float32", 512, 32),
        ("lstm", "float64", 128, 1), ("gru", "float32", 128, 8), ("rnn", "float64", 256, 32)]
QUICK = [("gru", "float32", 32, 8), ("lstm", "float64", 64, 4)]
T, LAYERS = 100, 2


def competitor(config, threads, stop):
    """The second process: the same step in a loop until `stop` is set."""
    cell, dtype, H, N = config
    set_num_threads(threads)
    run = minirnn_step(cell, H, N, T, LAYERS, DTYPES[dtype], "numba",
                       np.random.default_rng(1))
    while not stop.is_set():
        run()


def timed(config, threads, repeats, beside):
    """Median seconds of one step with num_threads `threads`, alone or beside a competitor."""
    cell, dtype, H, N = config
    set_num_threads(threads)
    run = minirnn_step(cell, H, N, T, LAYERS, DTYPES[dtype], "numba", np.random.default_rng(0))
    other, stop = None, None
    if beside:
        stop = multiprocessing.get_context("fork").Event()
        other = multiprocessing.get_context("fork").Process(
            target=competitor, args=(config, threads, stop), daemon=True)
        other.start()
        time.sleep(1.0)                     # the competitor compiles (from cache) and starts
    try:
        seconds, _ = median_time(run, repeats, warmup=2, budget=20.0, pause=0.5)
    finally:
        if other is not None:
            stop.set()
            other.join()
    return seconds


def report(rows, machine, seconds, args):
    lines = ["# Threads: one training step with num_threads 1 and 2", "",
             f"Run {datetime.date.today()} with `python benchmarks/bench_threads.py"
             f"{' --quick' if args.quick else ''}` in {seconds:.0f} s; T = {T}, {LAYERS} layers, "
             f"the Numba kernels; medians of up to {args.repeats} steps.", "", *machine, "",
             "| cell | dtype | H | N | alone, 1 thread | alone, 2 threads | 2 / 1 alone "
             "| beside, 1 thread | beside, 2 threads | 2 / 1 beside |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['dtype']} | {r['H']} | {r['N']} | "
                     f"{1e3 * r['alone'][1]:.1f} ms | {1e3 * r['alone'][2]:.1f} ms | "
                     f"{r['alone'][2] / r['alone'][1]:.2f} | {1e3 * r['beside'][1]:.1f} ms | "
                     f"{1e3 * r['beside'][2]:.1f} ms | {r['beside'][2] / r['beside'][1]:.2f} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args(argv)
    keep_freed_memory()
    machine = machine_description()
    started, rows = time.perf_counter(), []
    for config in QUICK if args.quick else GRID:
        row = dict(zip(("cell", "dtype", "H", "N"), config))
        for situation in ("alone", "beside"):
            row[situation] = {n: timed(config, n, args.repeats, situation == "beside")
                              for n in (1, 2)}
        rows.append(row)
        print(f"{config}: alone 1/2 threads {row['alone'][1] * 1e3:.1f}/"
              f"{row['alone'][2] * 1e3:.1f} ms, beside {row['beside'][1] * 1e3:.1f}/"
              f"{row['beside'][2] * 1e3:.1f} ms", flush=True)
    text = report(rows, machine, time.perf_counter() - started, args)
    print(text)
    if not args.quick:
        Path(__file__).with_name("results-threads.md").write_text(text)


if __name__ == "__main__":
    main()
