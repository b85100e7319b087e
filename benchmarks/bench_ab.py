"""Before/after: the training step of this checkout against an earlier revision of minirnn, both
imported into one process and timed in alternation, so that the machine's drift hits both alike.

Two full runs of bench_cells.py on a shared 2-core virtual machine differ by 15% (median) and up to
2x per configuration, which hides any change smaller than that. Here the revision's package is
exported (`git archive`) into benchmarks/.ab-cache/<rev>/ as the package `minirnn_before`, both
networks are built with the same seed, and each configuration alternates before/after in rounds
(the order flipped every round) after a warm-up. The report gives, per configuration, the median
time of each, the median of the per-round ratios after/before, the ratio of the best rounds, and an
A/A figure: "before" against itself (odd rounds over even rounds), the noise of this very
measurement.

    python benchmarks/bench_ab.py --against a7148f0               # writes benchmarks/ab_results.md
    python benchmarks/bench_ab.py --against HEAD~1 --cells lstm --sizes 16x1,128x32 --rounds 12

The earlier revision must import as a package with relative imports only (minirnn always has).
"""
import argparse
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from io import BytesIO
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run from a checkout


def export_revision(rev):
    """benchmarks/.ab-cache/<sha>/minirnn_before: the package at `rev` (kept, so that Numba's
    on-disk cache of its kernels survives between runs). Returns the folder to put on sys.path."""
    sha = subprocess.run(["git", "rev-parse", rev], cwd=ROOT, check=True, capture_output=True,
                         text=True).stdout.strip()
    folder = ROOT / "benchmarks" / ".ab-cache" / sha[:12]
    package = folder / "minirnn_before"
    if not package.exists():
        archive = subprocess.run(["git", "archive", sha, "minirnn"], cwd=ROOT, check=True,
                                 capture_output=True).stdout
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder)
        shutil.move(folder / "minirnn", package)
        own_kernels(package / "cells" / "spec.py")
    return folder, sha[:12]


def own_kernels(spec_file):
    """Revisions before the fix in cells/spec.py loaded their kernels as `minirnn.kernels.<cell>`,
    that is, this checkout's: make the exported copy load its own."""
    text = spec_file.read_text()
    spec_file.write_text(text.replace('import_module(f"minirnn.kernels.{cell}")',
                                      'import_module(f"..kernels.{cell}", __package__)'))


def training_step(package, cell, H, N, dtype, backend, T):
    """A function running one forward + backward of a 2-layer stack built by `package`."""
    net = package.StackedRNN(cell, H, [H, H], dtype=dtype, backend=backend, seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, T, H)).astype(dtype)
    dy = rng.standard_normal((N, T, H)).astype(dtype)

    def run():
        _, _, cache = net.forward(x)
        net.backward(dy, cache)
    return run


def compare(steps, rounds, budget):
    """{name: [ms per step, one per round]} for the two steps, alternating in rounds."""
    for run in steps.values():
        run()
        run()
    start = time.perf_counter()
    next(iter(steps.values()))()
    reps = max(1, min(50, int(budget / max(time.perf_counter() - start, 1e-9))))
    times = {name: [] for name in steps}
    for r in range(rounds):
        order = list(steps) if r % 2 == 0 else list(reversed(steps))
        for name in order:
            start = time.perf_counter()
            for _ in range(reps):
                steps[name]()
            times[name].append((time.perf_counter() - start) / reps * 1e3)
    return times


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--against", required=True, help="git revision to compare with")
    p.add_argument("--cells", default="rnn,lstm,gru")
    p.add_argument("--sizes", default="16x1,16x32,64x1,64x32,128x32,256x1,512x32",
                   help="HxN configurations (D = H)")
    p.add_argument("--dtypes", default="float32,float64")
    p.add_argument("--backends", default="numba", help="numba, numpy or numba,numpy")
    p.add_argument("--numpy-sizes", default="16x32,128x1", help="HxN for the numpy backend")
    p.add_argument("--T", type=int, default=100)
    p.add_argument("--rounds", type=int, default=8)
    p.add_argument("--budget", type=float, default=0.12, help="seconds per timed block")
    p.add_argument("--output", default=str(ROOT / "benchmarks" / "ab_results.md"))
    args = p.parse_args(argv)

    folder, sha = export_revision(args.against)
    sys.path.insert(0, str(folder))
    import minirnn
    import minirnn_before
    from minirnn.allocator import keep_freed_memory
    keep_freed_memory()  # both packages then run under the same malloc settings
    configs = []
    for backend in args.backends.split(","):
        sizes = args.sizes if backend == "numba" else args.numpy_sizes
        for cell in args.cells.split(","):
            for dtype in args.dtypes.split(","):
                for size in sizes.split(","):
                    H, N = (int(v) for v in size.split("x"))
                    configs.append((backend, cell, dtype, H, N))
    lines = [f"# Before/after: this checkout against {args.against} ({sha})", "",
             f"Command: `python benchmarks/bench_ab.py {' '.join(sys.argv[1:])}`", "",
             f"2 layers, D = H, T = {args.T}; {args.rounds} alternating rounds per configuration.",
             "", "| backend | cell | dtype | H | batch | before ms | after ms | after/before "
             "(median of rounds) | best after / best before | A/A (before vs before) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    print("\n".join(lines), flush=True)
    ratios = []
    for backend, cell, dtype, H, N in configs:
        steps = {name: training_step(package, cell, H, N, np.dtype(dtype), backend, args.T)
                 for name, package in (("before", minirnn_before), ("after", minirnn))}
        times = compare(steps, args.rounds, args.budget)
        before, after = times["before"], times["after"]
        ratio = statistics.median(a / b for a, b in zip(after, before))
        aa = statistics.median(before[1::2]) / statistics.median(before[0::2])
        ratios.append(ratio)
        line = (f"| {backend} | {cell} | {dtype} | {H} | {N} | {statistics.median(before):.3f} "
                f"| {statistics.median(after):.3f} | {ratio:.3f} | {min(after) / min(before):.3f} "
                f"| {aa:.3f} |")
        lines.append(line)
        print(line, flush=True)
    summary = (f"\nafter/before over {len(ratios)} configurations: median "
               f"{statistics.median(ratios):.3f}, from {min(ratios):.3f} to {max(ratios):.3f}.")
    lines.append(summary)
    print(summary)
    Path(args.output).write_text("\n".join(lines) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
