"""Width or depth at equal parameter counts: stacked tanh RNNs, GRUs and LSTMs on two spirals.

Each point of the plane is read as a sequence of its two coordinates, x at step 0 and y at step 1
(`minirnn.data.spirals`: neither coordinate alone tells the arm, so the state after step 0 must
carry x into step 1). A budget is the parameter count of one layer of width w with its Dense(2)
head; for each cell and budget, stacks of 2, 3 and 4 layers get the widths whose whole model,
head included, has the count nearest it (`stack_widths`, within a few percent). Every model trains
with one recipe (Adam, fixed epochs, no early stopping) from several seeds; a seed sets the
initial weights and the training sample, and the test set is one fixed sample.

    python demos/spiral.py OUTPUT_DIR [--seeds 5] [--full] [--widths W ...] [--epochs E]
                                      [--workers 2]

Default: one budget (w = 10), depths 1-4, three cells, 5 seeds, 150 epochs (35 s on two free
cores). --full: budgets w = 10, 16, 32 and 600 epochs (10 minutes; its output is committed in
demos/results/spiral_full.md).
Prints test accuracy (mean +- sd over seeds) per cell, budget and depth, the paired difference
of each deeper stack from the one-layer model of its cell and budget, and a verdict; writes
decision_regions_w<w>.png (a panel per cell and depth, seed 0), accuracy_vs_params.png and
results.json to OUTPUT_DIR.

Shape legend: N points, T = 2 steps, D = 1 feature, L layers, H_l the width of layer l, K = 2
classes. x: (N, 2, 1) -> StackedRNN -> (N, H_L), its state after step 1 -> Dense -> logits (N, K).
"""
import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.cells import get_cell
from minirnn.layers import Dense
from minirnn.losses import softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, pyplot, save
from minirnn.threads import run_jobs
from minirnn.train import accuracy, evaluate, fit, predict
from minirnn.validation import check_int

CELLS, DEPTHS = ("rnn", "gru", "lstm"), (1, 2, 3, 4)
# Radius 4, not 1: the same spirals, but the input weights start large enough to resolve the
# turns (with 2.5 turns, a one-layer GRU of width 10 reached 0.92 test accuracy in 300 epochs at
# radius 1, 0.99 at radius 4). The noise is 2% of the radius.
TASK = dict(classes=2, turns=3.0, radius=4.0, noise_std=0.08)
TRAIN_POINTS, TEST_POINTS, TEST_SEED = 1000, 2000, 10_000
RECIPE = dict(batch_size=250, lr=0.03)   # Adam at a constant rate
SETTINGS = {"default": dict(widths=[10], epochs=150), "full": dict(widths=[10, 16, 32], epochs=600)}
GRID = 121                                # decision regions: GRID x GRID points
EXTENT = 1.2 * TASK["radius"]             # over [-EXTENT, EXTENT]^2


# ---- matched parameter counts -------------------------------------------------------------------
def parameter_count(cell, hidden_sizes, input_size=1, classes=2):
    """Parameters of StackedRNN(cell, input_size, hidden_sizes) followed by Dense(H_L, classes):
    every layer's cell parameters (the shapes the cell registry gives) plus the head's W and b."""
    spec, total, D = get_cell(cell), 0, input_size
    for H in hidden_sizes:
        total += sum(int(np.prod(shape)) for shape in spec.param_shapes(D, H).values())
        D = H
    return total + D * classes + classes


def stack_widths(cell, depth, budget, input_size=1, classes=2):
    """The widths [H_1, ..., H_L] of a depth-L stack whose model (Dense head included) has the
    parameter count nearest `budget`: the k lowest layers H + 1 wide and the rest H, over every H
    and k = 0..L-1 (one common width for all layers missed the demo's budgets by up to 18%)."""
    depth, budget = check_int("depth", depth), check_int("budget", budget)
    candidates, H = [], 1
    while True:  # up to the first H whose uniform stack reaches the budget: wider is farther
        candidates += [[H + 1] * k + [H] * (depth - k) for k in range(depth)]
        if parameter_count(cell, [H] * depth, input_size, classes) >= budget:
            break
        H += 1
    return min(candidates, key=lambda sizes: abs(parameter_count(cell, sizes, input_size, classes)
                                                 - budget))


# ---- one model -----------------------------------------------------------------------------------
def build(cell, sizes, classes, seed):
    """StackedRNN(cell, 1, sizes) reading the 2-step sequences, then Dense(H_L, classes)."""
    net = StackedRNN(cell, 1, sizes, return_sequences=False, seed=seed)
    return Sequential([(cell, Recurrent(net)), ("head", Dense(sizes[-1], classes, seed=seed))])


def plane_grid():
    """The GRID x GRID points (GRID^2, 2) the decision regions are drawn on, row-major in y."""
    axis = np.linspace(-EXTENT, EXTENT, GRID)
    gx, gy = np.meshgrid(axis, axis)
    return np.stack([gx.ravel(), gy.ravel()], axis=1)


def train_one(job):
    """Train one (cell, w, depth, seed) model; its accuracies and, for seed 0, the predicted class
    on `plane_grid`."""
    cell, width, depth, seed, epochs = job
    classes = TASK["classes"]
    budget = parameter_count(cell, [width], classes=classes)
    sizes = stack_widths(cell, depth, budget, classes=classes)
    train = data.spirals(TRAIN_POINTS, seed=seed, **TASK)
    test = data.spirals(TEST_POINTS, seed=TEST_SEED, **TASK)
    model = build(cell, sizes, classes, seed)
    start = time.time()
    history = fit(model, softmax_cross_entropy, (train["x"], train["labels"]),
                  optimizer=Adam(RECIPE["lr"]), epochs=epochs, batch_size=RECIPE["batch_size"],
                  metric=accuracy, seed=seed, progress=False)
    result = {"cell": cell, "width": width, "depth": depth, "seed": seed, "hidden_sizes": sizes,
              "budget": budget, "params": int(sum(p.size for p in model.params.values())),
              "train_accuracy": history["train_metric"][-1],
              "test_accuracy": evaluate(model, softmax_cross_entropy,
                                        (test["x"], test["labels"]), accuracy)["metric"],
              "seconds": time.time() - start}
    if seed == 0:
        logits = predict(model, data.spiral_sequences(plane_grid()), batch_size=4096)
        result["regions"] = np.argmax(logits, axis=1).reshape(GRID, GRID).tolist()
    return result


# ---- summary -------------------------------------------------------------------------------------
def summarise(runs):
    """{(cell, w, depth): row} in table order: the accuracies over seeds (at least 2) and, for
    depth > 1, the paired difference from depth 1 of the same cell and budget, seed by seed."""
    rows = {}
    order = sorted(runs, key=lambda r: (CELLS.index(r["cell"]), r["width"], r["depth"], r["seed"]))
    for r in order:
        row = rows.setdefault((r["cell"], r["width"], r["depth"]),
                              {k: r[k] for k in ("cell", "width", "depth", "hidden_sizes",
                                                 "budget", "params")} | {"test": {}, "train": {}})
        row["test"][r["seed"]], row["train"][r["seed"]] = r["test_accuracy"], r["train_accuracy"]
    for (cell, width, depth), row in rows.items():
        test = np.array(list(row["test"].values()))
        row.update(test_mean=float(test.mean()), test_sd=float(test.std(ddof=1)),
                   train_mean=float(np.mean(list(row["train"].values()))))
        if depth > 1:
            diff = test - np.array([rows[(cell, width, 1)]["test"][s] for s in row["test"]])
            se = diff.std(ddof=1) / np.sqrt(len(diff))
            row.update(diff_mean=float(diff.mean()), diff_se=float(se),
                       wins=int((diff > 0).sum()), outcome=outcome(diff.mean(), se))
    return rows


def outcome(mean, se):
    """'deeper better' / 'deeper worse' when the paired mean difference is more than two
    standard errors from 0, else 'no clear difference'."""
    if mean - 2 * se > 0:
        return "deeper better"
    if mean + 2 * se < 0:
        return "deeper worse"
    return "no clear difference"


def answer(outcomes):
    """Does depth beat width, from paired outcomes: YES if at least half the deeper stacks are
    clearly better and none clearly worse, MIXED if at least half are clearly better but some
    clearly worse, NO if fewer than half are clearly better."""
    better, worse = outcomes.count("deeper better"), outcomes.count("deeper worse")
    if 2 * better < len(outcomes):
        return "NO"
    return "MIXED" if worse else "YES"


def verdict(rows):
    """The plain answer, overall and per cell, from the paired comparison of every deeper stack
    with the one-layer model of its cell and budget."""
    deeper = [row for row in rows.values() if row["depth"] > 1]
    outcomes = [row["outcome"] for row in deeper]
    lines = [f"does depth beat width at equal parameter counts here? {answer(outcomes)}: of "
             f"{len(deeper)} deeper stacks, {outcomes.count('deeper better')} are clearly better "
             f"than the one-layer model of their cell and budget, "
             f"{outcomes.count('deeper worse')} clearly worse, "
             f"{outcomes.count('no clear difference')} not clearly different (clearly: the "
             f"mean paired difference over seeds is more than 2 standard errors from 0)."]
    for cell in CELLS:
        mine = [row for row in deeper if row["cell"] == cell]
        budgets = []
        for width in sorted({row["width"] for row in mine}):
            by_outcome = {}
            for row in mine:
                if row["width"] == width:
                    by_outcome.setdefault(row["outcome"], []).append(str(row["depth"]))
            budgets.append(f"w={width}: " + "; ".join(
                f"{outcome} at depth {', '.join(depths)}"
                for outcome, depths in sorted(by_outcome.items())))
        lines.append(f"  {cell}: {answer([row['outcome'] for row in mine])} "
                     f"({' | '.join(budgets)})")
    return "\n".join(lines)


def table(rows, seeds):
    """The printed table, one line per cell, budget and depth."""
    lines = [f"{'cell':<6}{'w':>3}{'budget':>8}{'depth':>7}  {'widths':<17}{'params':>7}"
             f"{'(off)':>7}   {'test acc':<16}{'train':>6}   deeper - 1 layer, paired "
             f"(wins of {seeds})"]
    for (cell, width, depth), row in rows.items():
        off = 100 * (row["params"] - row["budget"]) / row["budget"]
        diff = (f"{row['diff_mean']:+.3f} +- {row['diff_se']:.3f} ({row['wins']}): "
                f"{row['outcome']}" if depth > 1 else "")
        lines.append(f"{cell:<6}{width:>3}{row['budget']:>8}{depth:>7}  "
                     f"{str(row['hidden_sizes']):<17}{row['params']:>7}{off:>+6.1f}%   "
                     f"{row['test_mean']:.3f} +- {row['test_sd']:.3f}{row['train_mean']:>8.3f}"
                     f"   {diff}")
    lines.append("test acc: mean +- sd over seeds; train: accuracy on the training batches in "
                 "the last epoch, mean over seeds; paired: mean +- standard error of the "
                 "seed-by-seed difference in test accuracy")
    return "\n".join(lines)


# ---- figures -------------------------------------------------------------------------------------
def recipe_note(epochs, seeds):
    return (f"Task: {TASK['classes']} spirals of {TASK['turns']:g} turns, radius "
            f"{TASK['radius']:g}, noise sd {TASK['noise_std']:g}; each point read as 2 steps (x, "
            f"then y) of 1 feature; {TRAIN_POINTS} training points per seed, {TEST_POINTS} fixed "
            f"test points. Training: Adam lr {RECIPE['lr']:g}, batches of "
            f"{RECIPE['batch_size']}, {epochs} epochs, {seeds} seeds.")


def plot_regions(runs, width, path, note):
    """Predicted class over the plane for every cell (row) and depth (column) at budget w."""
    plt = pyplot()
    from matplotlib.colors import ListedColormap
    test = data.spirals(TEST_POINTS, seed=TEST_SEED, **TASK)
    fig, axes = plt.subplots(len(CELLS), len(DEPTHS), figsize=(2.4 * len(DEPTHS),
                             2.5 * len(CELLS)), squeeze=False, layout="constrained")
    chosen = {(r["cell"], r["depth"]): r for r in runs if r["width"] == width and r["seed"] == 0}
    colours = ListedColormap(["#2b5fb4", "#c0282d"])   # class 0, class 1: points
    shades = ListedColormap(["#c6d5ef", "#f2c4c5"])    # and the regions, lighter
    for (row, cell), (col, depth) in itertools.product(enumerate(CELLS), enumerate(DEPTHS)):
        ax, r = axes[row, col], chosen[(cell, depth)]
        ax.imshow(np.array(r["regions"]), origin="lower", extent=(-EXTENT, EXTENT) * 2,
                  cmap=shades, vmin=0, vmax=TASK["classes"] - 1, interpolation="nearest")
        ax.scatter(*test["points"][:400].T, c=test["labels"][:400], cmap=colours, s=2,
                   vmin=0, vmax=TASK["classes"] - 1)
        ax.set(xticks=[], yticks=[], aspect="equal")
        ax.set_title(f"{cell}, {depth} layer{'s' * (depth > 1)} {r['hidden_sizes']}\n"
                     f"{r['params']} params, test acc {r['test_accuracy']:.3f}", fontsize=8)
    fig.suptitle(f"Decision regions at equal parameter counts (the budget of one layer of "
                 f"width {width}), seed 0")
    add_note(fig, "Shading: the class the model predicts at each point of the plane; dots: 400 "
                  "test points coloured by their true arm.", note)
    return save(fig, path)


def plot_accuracy(rows, path, note):
    """Test accuracy against parameter count, one panel per cell, one line per depth."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(CELLS), figsize=(4.2 * len(CELLS), 3.4), sharey=True,
                             squeeze=False, layout="constrained")
    for ax, cell in zip(axes[0], CELLS):
        for depth in DEPTHS:
            line = sorted((r for r in rows.values() if r["cell"] == cell and r["depth"] == depth),
                          key=lambda r: r["params"])
            ax.errorbar([r["params"] for r in line], [r["test_mean"] for r in line],
                        yerr=[r["test_sd"] for r in line], marker="o", capsize=3,
                        label=f"{depth} layer{'s' * (depth > 1)}")
        budgets = sorted({r["budget"] for r in rows.values() if r["cell"] == cell})
        ax.set(xscale="log", title=f"cell {cell!r}", xlabel="parameters (stack + Dense head)")
        ax.set_xticks(budgets, labels=[str(b) for b in budgets])
        ax.minorticks_off()
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel("test accuracy")
    axes[0, -1].legend(loc="lower right", fontsize=8)
    add_note(fig, "Points: the mean over seeds; bars: the sd. At each budget the deeper stacks' "
                  "widths are solved so that their counts match the one-layer model's within a "
                  "few percent.", note)
    return save(fig, path)


# ---- main ----------------------------------------------------------------------------------------
def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--full", action="store_true",
                        help="budgets w = 10, 16, 32 and 600 epochs")
    parser.add_argument("--widths", type=int, nargs="+",
                        help="the budgets, as one-layer widths w (default: the setting's)")
    parser.add_argument("--epochs", type=int, help="default: the setting's")
    parser.add_argument("--workers", type=int, default=2)
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    setting = SETTINGS["full" if args.full else "default"]
    widths = [check_int("--widths", w) for w in args.widths or setting["widths"]]
    epochs = check_int("--epochs", setting["epochs"] if args.epochs is None else args.epochs)
    seeds = check_int("--seeds", args.seeds, minimum=2)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    jobs = [(cell, width, depth, seed, epochs) for cell in CELLS for width in widths
            for depth in DEPTHS for seed in range(seeds)]
    # one BLAS thread per process: the matrices are tiny and the workers already fill the cores
    # (with threads on top, a batch-250 step ran 2x slower on 2 cores, a batch-1000 step 18x)
    runs = run_jobs(train_one, sorted(jobs, key=lambda job: -job[1] * job[2]),
                    check_int("--workers", args.workers), num_threads=1)
    rows = summarise(runs)
    note = recipe_note(epochs, seeds)
    print(f"{len(runs)} models trained in {time.time() - start:.0f} s ({args.workers} "
          f"workers)\n{note}\n\n{table(rows, seeds)}")
    text = verdict(rows)
    print(f"\nVerdict: {text}")
    figures = [plot_regions(runs, width, args.output_dir / f"decision_regions_w{width}.png", note)
               for width in widths]
    figures.append(plot_accuracy(rows, args.output_dir / "accuracy_vs_params.png", note))
    summary = {"task": TASK, "recipe": dict(RECIPE, epochs=epochs), "seeds": seeds,
               "train_points": TRAIN_POINTS, "test_points": TEST_POINTS, "widths": widths,
               "verdict": text, "seconds": time.time() - start, "models": list(rows.values()),
               "runs": [{k: v for k, v in r.items() if k != "regions"} for r in runs]}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures ({', '.join(Path(f).name for f in figures)}) and results.json in "
          f"{args.output_dir}; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
