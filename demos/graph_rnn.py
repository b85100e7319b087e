"""Graph-recurrent forecasting: US state incomes on the contiguity graph, and congestion on a road
grid whose direction of propagation is known.

Part 1 (real data, `minirnn.data.load_us_income`): forecast each state's log-income growth next
year, g_{t+1} = log y_{t+1} - log y_t, from its past WINDOW years. The networks read each window
relative to its last year (g_s - g_t, standardised by the sd of the training years) and predict
the change g_{t+1} - g_t, so a network that outputs 0 is persistence. Targets 1992-1999 are the
validation years (early stopping), 2000-2009 the test years; every training target comes before
them. Compared, each from --seeds seeds: persistence (g_{t+1} = g_t), a per-state stacked GRU
that never sees the graph, the same stack with message passing on top, and a per-state GRU under
a graph GRU (minirnn.graph). Then the influence map of the graph model: ||d forecast_i / d g_{t,j}||
for every pair of states, from backward passes of the trained model (`minirnn.graph.influence`),
averaged over the test windows.

Part 2 (synthetic, `minirnn.data.road_grid_congestion`): jams travel east and south along a grid
of one-way streets and arrive DELAY steps later at the next intersection. The graph GRU is given
either the grid without directions (one symmetric support: every neighbour gets the same weight,
so it cannot tell upstream from downstream) or the street directions as two supports, along and
against the streets, each with its own weights (DCRNN's dual random walk), and must learn which
one matters. Printed per model and seed: test MAE, the upstream share of the neighbours'
influence, the lag at which the upstream influence peaks, and PASS if the dual-walk model puts
at least UPSTREAM_SHARE_TO_PASS of it upstream with the peak at DELAY for every seed.

    python demos/graph_rnn.py OUTPUT_DIR [--seeds 3] [--epochs N] [--congestion-steps 500]

Writes income_influence.png, congestion_influence.png and results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import data
from minirnn.graph import GraphRNN, hop_distances, influence, series_windows
from minirnn.optim import Adam
from minirnn.plot import add_note, pyplot, save
from minirnn.train import EarlyStopping, fit, predict

WINDOW, HIDDEN, HOPS = 8, 8, 1
VAL_YEARS, TEST_YEARS = (1992, 1999), (2000, 2009)
GRID, CONGESTION_STEPS, CONGESTION_WINDOW, DELAY = (4, 4), 500, 6, 2
INFLUENCE_WINDOWS = 20  # test windows averaged in the congestion influence maps
UPSTREAM_SHARE_TO_PASS = 0.75
INCOME_RECIPE = dict(epochs=150, batch_size=16, lr=0.01, patience=20)  # Adam, early stopping
CONGESTION_RECIPE = dict(epochs=60, batch_size=32, lr=0.02, patience=10)
NO_GRAPH = dict(hidden_sizes=[HIDDEN, HIDDEN], top=None)
GRAPH_GRU = dict(hidden_sizes=[HIDDEN], top="gru")
INCOME_GRAPH_MODEL = f"per-state GRU [{HIDDEN}] + graph GRU [{HIDDEN}]"
INCOME_MODELS = {  # name: GraphRNN arguments
    f"per-state GRU [{HIDDEN}, {HIDDEN}], no graph": NO_GRAPH,
    f"per-state GRU [{HIDDEN}, {HIDDEN}] + message passing":
        dict(hidden_sizes=[HIDDEN, HIDDEN], top="message"),
    INCOME_GRAPH_MODEL: GRAPH_GRU,
}
UNDIRECTED, DIRECTED = "graph GRU, undirected grid", "graph GRU, dual random walk"
CONGESTION_MODELS = {
    f"per-node GRU [{HIDDEN}, {HIDDEN}], no graph": NO_GRAPH,
    UNDIRECTED: dict(GRAPH_GRU, normalization="symmetric"),
    DIRECTED: dict(GRAPH_GRU, normalization="dual_random_walk"),
}


# ---- training and scoring, shared by both parts ------------------------------------------------
def train_models(models, adjacency, task, seeds, recipe):
    """Every model from every seed, fitted with Adam and early stopping on the validation loss.
    adjacency: {normalization: the graph to give a model with that normalization}; task: x, y
    and split {"train", "val", "test"}. Returns {name: [model per seed]} and
    {name: [test predictions per seed]}."""
    x, y, split = task["x"], task["y"], task["split"]
    train, val = (x[split["train"]], y[split["train"]]), (x[split["val"]], y[split["val"]])
    trained, predictions = {}, {}
    for name, arguments in models.items():
        graph = adjacency[arguments.get("normalization", "symmetric")]
        for seed in range(seeds):
            model = GraphRNN(graph, x.shape[-1], seed=seed, hops=HOPS, **arguments)
            fit(model, "mse", train, val, Adam(lr=recipe["lr"]), epochs=recipe["epochs"],
                batch_size=recipe["batch_size"], clip_norm=1.0,
                early_stopping=EarlyStopping(recipe["patience"]), seed=seed, progress=False)
            trained.setdefault(name, []).append(model)
            predictions.setdefault(name, []).append(predict(model, x[split["test"]]))
    return trained, predictions


def print_table(title, maes, trained, scale=1.0, unit="", digits=3):
    """maes: {name: [MAE per seed]}, printed times `scale`; trained: {name: [models]} (for the
    parameter counts)."""
    print(f"\n{title}")
    print(f"{'model':<46}{'parameters':>11}{'MAE' + unit:>12}{'sd':>8}   per seed")
    for name, values in maes.items():
        count = sum(p.size for p in trained[name][0].params.values()) if name in trained else 0
        mean, sd = scale * np.mean(values), scale * np.std(values)
        print(f"{name:<46}{count:>11}{mean:>12.{digits}f}{sd:>8.{digits}f}   "
              + " ".join(f"{scale * v:.{digits}f}" for v in values))


# ---- part 1: US state incomes --------------------------------------------------------------------
def income_windows(window=WINDOW):
    """The income task. Returns a dict: x (S, window, 48, 1) the windows' growth minus their last
    year's, standardised; y (S, 48, 1) the standardised change to the target year; last (S, 48)
    and target (S, 48), the raw growth of each window's last year and of its target year;
    target_years (S,); split {"train", "val", "test": index arrays into S}; sd (of the growth
    of the years before VAL_YEARS, the only years the training targets and inputs touch);
    growth_years; the loaded data set."""
    income = data.load_us_income()
    growth = np.diff(np.log(income["income"]), axis=0)  # (80, 48): year t against t-1
    growth_years = income["years"][1:]
    sd = growth[growth_years < VAL_YEARS[0]].std()
    windows, target, target_steps = series_windows(growth[:, :, None], window)
    last = windows[:, -1]  # (S, 48, 1)
    target_years = growth_years[target_steps]
    split = {"train": np.flatnonzero(target_years < VAL_YEARS[0]),
             "val": np.flatnonzero((target_years >= VAL_YEARS[0])
                                   & (target_years <= VAL_YEARS[1])),
             "test": np.flatnonzero(target_years >= TEST_YEARS[0])}
    return {"x": (windows - last[:, None]) / sd, "y": (target - last) / sd,
            "last": last[..., 0], "target": target[..., 0], "target_years": target_years,
            "split": split, "sd": sd, "growth_years": growth_years, "dataset": income}


def income_part(seeds, recipe):
    task = income_windows()
    test = task["split"]["test"]
    actual, last = task["target"][test], task["last"][test]
    adjacency = {"symmetric": task["dataset"]["adjacency"]}
    trained, predictions = train_models(INCOME_MODELS, adjacency, task, seeds, recipe)
    maes = {"persistence (g_{t+1} = g_t)": [float(np.mean(np.abs(last - actual)))]}
    for name, runs in predictions.items():  # forecast = last year's growth + predicted change
        maes[name] = [float(np.mean(np.abs(last + p[..., 0] * task["sd"] - actual)))
                      for p in runs]
    print_table(f"US states: next year's log-income growth, MAE over {TEST_YEARS[0]}-"
                f"{TEST_YEARS[1]} x 48 states, in percentage points, {seeds} seeds", maes,
                trained, scale=100, unit=" (pp)")
    graph_model = trained[INCOME_GRAPH_MODEL][0]
    influence_map = influence(graph_model, task["x"][test])  # (48, WINDOW, 48)
    by_hops = influence_by_hops(influence_map.sum(axis=1), adjacency["symmetric"])
    print("share of the influence on a state's forecast by hop distance of the source state "
          "(graph GRU, seed 0, test windows): "
          + ", ".join(f"{k} hops {100 * v:.2f}%" for k, v in by_hops.items()))
    return task, maes, influence_map, by_hops


def influence_by_hops(matrix, adjacency):
    """The share of the total influence (N, N) from sources 0, 1, 2 and >= 3 hops away."""
    hops = hop_distances(adjacency)
    total = matrix.sum()
    shares = {str(k): float(matrix[hops == k].sum() / total) for k in (0, 1, 2)}
    shares[">=3"] = float(matrix[hops >= 3].sum() / total)
    return shares


# ---- part 2: congestion on a road grid ---------------------------------------------------------
def congestion_windows(steps=CONGESTION_STEPS):
    """The grid series as windows, split in time order 70 / 15 / 15 % (train / val / test)."""
    grid = data.road_grid_congestion(*GRID, T=steps, delay=DELAY, seed=0)
    x, y, _ = series_windows(grid["series"], CONGESTION_WINDOW)
    cut = [int(0.7 * len(x)), int(0.85 * len(x))]
    split = {"train": np.arange(cut[0]), "val": np.arange(cut[0], cut[1]),
             "test": np.arange(cut[1], len(x))}
    return {"x": x, "y": y, "split": split, "grid": grid}


def direction(lagged, upstream):
    """From an influence map (N, T, N): the upstream share of the neighbours' influence and
    the lag (steps before the target) at which the upstream influence peaks."""
    total = lagged.sum(axis=1)
    along, against = total[upstream].sum(), total[upstream.T].sum()
    by_step = (lagged * upstream[:, None, :]).sum(axis=(0, 2))  # (T,): input step t
    return float(along / (along + against)), int(lagged.shape[1] - np.argmax(by_step))


def congestion_part(seeds, recipe, steps):
    task = congestion_windows(steps)
    grid, test = task["grid"], task["split"]["test"]
    upstream = grid["upstream"]
    adjacency = {"symmetric": grid["adjacency"], "dual_random_walk": upstream.astype(float)}
    trained, predictions = train_models(CONGESTION_MODELS, adjacency, task, seeds, recipe)
    actual = task["y"][test]
    maes = {"persistence": [float(np.mean(np.abs(task["x"][test, -1] - actual)))]}
    maes.update({name: [float(np.mean(np.abs(p - actual))) for p in runs]
                 for name, runs in predictions.items()})
    print_table(f"road grid {GRID[0]}x{GRID[1]}: next step's congestion, test MAE, {seeds} seeds",
                maes, trained, digits=4)
    windows = task["x"][test][:INFLUENCE_WINDOWS]
    runs = {name: [] for name in (UNDIRECTED, DIRECTED)}
    print(f"\ndirection: jams travel east and south, {DELAY} steps per intersection")
    print(f"{'model':<32}{'seed':>5}{'upstream share':>16}{'peak lag':>10}")
    for name in runs:
        for seed, model in enumerate(trained[name]):
            lagged = influence(model, windows)  # (N, CONGESTION_WINDOW, N)
            share, lag = direction(lagged, upstream)
            runs[name].append({"seed": seed, "upstream_share": share, "peak_lag": lag,
                               "lagged": lagged})
            print(f"{name:<32}{seed:>5}{share:>16.3f}{lag:>10}")
    passed = all(r["upstream_share"] >= UPSTREAM_SHARE_TO_PASS and r["peak_lag"] == DELAY
                 for r in runs[DIRECTED])
    print(f"direction recovered by the dual-walk model (upstream share >= "
          f"{UPSTREAM_SHARE_TO_PASS} and peak at lag {DELAY}, every seed): "
          f"{'PASS' if passed else 'FAIL'}")
    return grid, maes, runs, passed


# ---- figures -------------------------------------------------------------------------------------
def plot_income(path, task, influence_map):
    plt = pyplot()
    income = task["dataset"]
    matrix = influence_map.sum(axis=1)  # (target, source)
    own = np.trace(matrix) / matrix.sum()
    np.fill_diagonal(matrix, np.nan)  # a state's own past: drawn blank, its share in the note
    order = np.argsort(income["centroids"][:, 0])  # west to east
    labels = [income["abbreviations"][i] for i in order]
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 6.5), layout="constrained",
                                      gridspec_kw={"width_ratios": [1, 1.25]})
    image = left.imshow(matrix[np.ix_(order, order)], cmap="magma_r")
    left.set_xticks(range(len(order)), labels, fontsize=5, rotation=90)
    left.set_yticks(range(len(order)), labels, fontsize=5)
    left.set(xlabel="source state $j$ (west to east)", ylabel="forecast of state $i$",
             title="influence of state $j$'s past on state $i$'s forecast ($j \\neq i$)")
    fig.colorbar(image, ax=left, shrink=0.8,
                 label=r"$\sum_t \|\partial \hat g_i / \partial g_{t,j}\|$")
    target = int(np.argmax(income["adjacency"].sum(axis=1)))  # the state with most neighbours
    draw_map(right, income, matrix[target], target)
    fig.suptitle("graph GRU on US state incomes: whose past moves a state's forecast")
    add_note(fig, r"$\hat g_i$: the model's forecast of state $i$'s log growth next year; "
                  r"$g_{t,j}$: state $j$'s growth in year $t$ of the "
                  f"{WINDOW}-year window. The norm of the derivative, summed over the window and "
                  "averaged over the test windows (backward passes of the trained model, seed 0). "
                  f"A state's own past (blank) carries {100 * own:.0f}% of all influence.",
             f"Model: per-state GRU [{HIDDEN}] under a graph GRU [{HIDDEN}] with {HOPS}-hop "
             "convolutions on the symmetric-normalised contiguity graph, Dense(1) per state.")
    return save(fig, path)


def draw_map(ax, income, values, target):
    """States at their centroids, borders as grey lines, coloured by `values` (48,)."""
    lon, lat = income["centroids"].T
    for i, j in zip(*np.nonzero(np.triu(income["adjacency"]))):
        ax.plot([lon[i], lon[j]], [lat[i], lat[j]], color="0.8", linewidth=0.7, zorder=1)
    dots = ax.scatter(lon, lat, c=values, cmap=pyplot().get_cmap("magma_r").with_extremes(
        bad="white"), s=260, edgecolors="0.4", zorder=2, plotnonfinite=True)
    for k, name in enumerate(income["abbreviations"]):
        ax.text(lon[k], lat[k], name, ha="center", va="center", fontsize=6, zorder=3,
                color="white" if values[k] > 0.5 * np.nanmax(values) else "black")
    ax.scatter(lon[target], lat[target], s=520, facecolors="none", edgecolors="tab:blue",
               linewidths=2, zorder=3)
    ax.set(title=f"influence of each state on {income['names'][target]}'s forecast (ringed)",
           xlabel="longitude", ylabel="latitude", aspect=1.25)
    ax.figure.colorbar(dots, ax=ax, shrink=0.8, label=r"$\sum_t \|\partial \hat g_{target} / "
                                                      r"\partial g_{t,j}\|$")


def draw_grid_influence(ax, grid, lagged, title):
    """Each pair of neighbours as two arrows, along the street (red) and against it (blue),
    widths in proportion to the influence of the tail's past on the head's forecast."""
    total = lagged.sum(axis=1)  # (target, source)
    xy = grid["positions"][:, ::-1].astype(float)  # (column, row) of each node
    scale = max(total[grid["upstream"]].max(), total[grid["upstream"].T].max())
    for u, v in grid["edges"]:
        normal = 0.08 * (xy[v] - xy[u])[::-1]  # across the street: the pair side by side
        for src, dst, side, color in ((u, v, 1, "tab:red"), (v, u, -1, "tab:blue")):
            step = xy[dst] - xy[src]
            ax.annotate("", xy=xy[src] + 0.8 * step + side * normal,
                        xytext=xy[src] + 0.2 * step + side * normal,
                        arrowprops=dict(arrowstyle="-|>", color=color,
                                        linewidth=max(6 * total[dst, src] / scale, 0.2)))
    ax.scatter(xy[:, 0], xy[:, 1], s=60, color="k", zorder=3)
    ax.set(xlim=(-0.5, GRID[1] - 0.5), ylim=(GRID[0] - 0.5, -0.5), aspect="equal", title=title,
           xticks=range(GRID[1]), yticks=range(GRID[0]),
           xlabel="column (streets run east)", ylabel="row (streets run south)")


def plot_congestion(path, grid, runs):
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(16, 5), layout="constrained")
    for ax, name in zip(axes, (UNDIRECTED, DIRECTED)):
        run = runs[name][0]
        draw_grid_influence(ax, grid, run["lagged"], f"{name}\nupstream share "
                                                     f"{run['upstream_share']:.2f} (seed 0)")
    ax = axes[2]
    lags = np.arange(CONGESTION_WINDOW, 0, -1)  # input step t is this many steps before the target
    upstream = grid["upstream"]
    for k, run in enumerate(runs[DIRECTED]):
        ax.plot(lags, (run["lagged"] * upstream[:, None, :]).sum(axis=(0, 2)), "o-",
                color="tab:red", alpha=0.7, label="from upstream neighbours" if k == 0 else None)
        ax.plot(lags, (run["lagged"] * upstream.T[:, None, :]).sum(axis=(0, 2)), "s--",
                color="tab:blue", alpha=0.7,
                label="from downstream neighbours" if k == 0 else None)
    ax.axvline(DELAY, color="gray", linestyle=":", label=f"true delay ({DELAY} steps)")
    ax.set(xlabel="lag: steps before the forecast target", ylabel="summed influence",
           title=f"{DIRECTED}: influence by lag (each seed)")
    ax.invert_xaxis()
    ax.legend(fontsize=8)
    fig.suptitle("which neighbours' past moves an intersection's forecast: jams travel east and "
                 "south")
    add_note(fig, "Red arrows: influence along the direction jams travel (upstream to downstream); "
                  "blue: against it; width: "
                  r"$\sum_t \|\partial \hat c_i / \partial c_{t,j}\|$ (tail $j$, head $i$), "
                  f"averaged over {INFLUENCE_WINDOWS} test windows. The undirected model has one "
                  "weight for all neighbours; the dual random walk has one for the neighbours "
                  "along the streets and one for those against them.",
             f"Models: per-node GRU [{HIDDEN}] under a graph GRU [{HIDDEN}], {HOPS}-hop; "
             f"{CONGESTION_WINDOW}-step windows, one-step-ahead forecasts.")
    return save(fig, path)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=None,
                        help="at most this many epochs in both parts (default: the recipes')")
    parser.add_argument("--congestion-steps", type=int, default=CONGESTION_STEPS)
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    cap = {} if args.epochs is None else {"epochs": args.epochs}
    task, income_maes, influence_map, by_hops = income_part(args.seeds, dict(INCOME_RECIPE, **cap))
    plot_income(args.output_dir / "income_influence.png", task, influence_map)
    print(f"({time.time() - start:.0f} s)")
    grid, congestion_maes, runs, passed = congestion_part(
        args.seeds, dict(CONGESTION_RECIPE, **cap), args.congestion_steps)
    plot_congestion(args.output_dir / "congestion_influence.png", grid, runs)
    summary = {
        "income": {"mae": income_maes, "influence_by_hops": by_hops, "window": WINDOW,
                   "val_years": VAL_YEARS, "test_years": TEST_YEARS},
        "congestion": {"mae": congestion_maes, "passed": passed,
                       "direction": {name: [{k: v for k, v in r.items() if k != "lagged"}
                                            for r in rs] for name, rs in runs.items()}},
        "seconds": time.time() - start}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
