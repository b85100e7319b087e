"""Depth and gating in a character-level language model, and the units that read code structure.

    python experiments/char_depth_gating.py --quick   # tiny text and nets: seconds (smoke test)
    python experiments/char_depth_gating.py           # 1 seed, every model, 2 epochs
    python experiments/char_depth_gating.py --full    # 3 seeds x {rnn, gru, lstm} x {1, 2, 3}
                                                      # layers, 10 epochs

Issue 15, part 3. Karpathy, Johnson & Fei-Fei (2015, "Visualizing and understanding recurrent
networks") train tanh-RNN, GRU and LSTM character models of 1, 2 and 3 layers at matched
parameter counts on War and Peace and the Linux kernel source, and report that the gated cells
beat the tanh RNN clearly and that a second layer helps (a third less consistently); they then
find single LSTM cells that track line position, quotes, brackets and indentation. Here:

    text        experiments/charlm.py: Python standard-library source read at run time (7 modules
                for training, subprocess.py held out).
    models      Embedding(V, E) -> StackedRNN(cell, E, [H] * L) -> Dense(H, V) on the top layer
                (as Karpathy et al.; no read-out of lower layers), H solved per (cell, L) so the
                whole model's parameter count (embedding and head included) is the closest to
                the budget: `width_for_budget`.
    training    charlm.train: truncated BPTT over streams, Adam, clip 1; held-out bits/char.
    units       on `probe_chars` held-out characters (cut into `probe_streams` streams), four
                targets per character, from Python's own `tokenize` (labels after reading the
                character): inside a string literal (0/1), bracket depth ((, [, { outside
                strings and comments), position in the line (column), indentation (leading
                spaces of the line read so far). Per layer (h, and c for the LSTM): the best
                single unit by |Pearson r| and a linear probe's held-out R^2
                (minirnn.analysis.linear_probe, whole streams held out).
"""
import argparse
import io
import json
import os
import sys
import time
import tokenize

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for folder in (REPO, HERE):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from charlm import (ALPHABET, CharModel, as_streams, bits_per_char, load_corpus,  # noqa: E402
                    train, windows)
from minirnn.analysis.probes import best_unit, linear_probe       # noqa: E402
from minirnn.analysis.states import layer_states                  # noqa: E402
from minirnn.cells import CELLS as CELL_SPECS                     # noqa: E402

CELLS = ("rnn", "gru", "lstm")
TARGETS = ("in_string", "bracket_depth", "column", "indent")
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")  # recorded with the results
SETTINGS = {   # what --quick, the default and --full set (any flag given explicitly wins)
    "quick": dict(seeds=1, layers=[1, 2], budget=4000, embed=8, epochs=1, max_chars=6000,
                  streams=8, window=20, probe_chars=2000, probe_streams=4, lr=3e-3),
    "default": dict(seeds=1, layers=[1, 2, 3], budget=60000, embed=16, epochs=2,
                    max_chars=None, streams=32, window=100, probe_chars=32000, probe_streams=16,
                    lr=3e-3),
    "full": dict(seeds=3, layers=[1, 2, 3], budget=60000, embed=16, epochs=10, max_chars=None,
                 streams=32, window=100, probe_chars=32000, probe_streams=16, lr=3e-3),
}


# ---- matched parameter counts -------------------------------------------------------------------
def count_params(cell, layers, width, embed, V=len(ALPHABET)):
    """Embedding V x E + L layers of `width` + Dense(width, V): the model's parameter count."""
    spec, total, D = CELL_SPECS[cell], V * embed + width * V + V, embed
    for _ in range(layers):
        total += sum(int(np.prod(s)) for s in spec.param_shapes(D, width).values())
        D = width
    return total


def width_for_budget(cell, layers, embed, budget):
    """The width H whose model has the parameter count closest to `budget`."""
    return min(range(1, 2049), key=lambda H: abs(count_params(cell, layers, H, embed) - budget))


# ---- what the units may track -------------------------------------------------------------------
def code_labels(text):
    """{target: (len(text),) float array}, each the value after reading that character.

    in_string: 1 from a string literal's first character (prefix or opening quote) up to, not
    including, its closing quote; bracket_depth: open minus closed (, [, { tokens (not inside
    strings or comments); column: characters since the last newline (0 on the newline);
    indent: the line's leading spaces read so far. Text that does not tokenize to the end (a
    cut-off file) keeps the labels found before the error."""
    n = len(text)
    starts = np.concatenate([[0], np.cumsum([len(line) for line in text.splitlines(True)])])
    offset = lambda pos: int(starts[pos[0] - 1] + pos[1])            # noqa: E731 (row, col)
    in_string, depth_step = np.zeros(n), np.zeros(n)
    fstrings = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            name = tokenize.tok_name[tok.type]
            if name == "STRING":
                in_string[offset(tok.start):offset(tok.end) - 1] = 1.0
            elif name == "FSTRING_START":                               # Python >= 3.12
                fstrings.append(offset(tok.start))
            elif name == "FSTRING_END" and fstrings:
                in_string[fstrings.pop():offset(tok.end) - 1] = 1.0
            elif name == "OP" and tok.string in "([{" and not fstrings:
                depth_step[offset(tok.start)] += 1.0
            elif name == "OP" and tok.string in ")]}" and not fstrings:
                depth_step[offset(tok.start)] -= 1.0
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    chars = np.array(list(text))
    newline = chars == "\n"
    line_start = np.maximum.accumulate(np.where(newline, np.arange(n), -1))   # last '\n' <= t
    column = np.arange(n) - line_start - 1.0
    column[newline] = 0.0
    # leading spaces: a space whose line has had nothing but spaces so far
    last_other = np.maximum.accumulate(np.where((chars != " ") & ~newline, np.arange(n), -1))
    leading = np.cumsum((chars == " ") & (last_other <= line_start))
    before_line = np.where(line_start >= 0, leading[np.maximum(line_start, 0)], 0)
    indent = np.where(newline, 0, leading - before_line).astype(float)
    return {"in_string": in_string, "bracket_depth": np.cumsum(depth_step), "column": column,
            "indent": indent}


def stream_states(model, streams, window):
    """{("h" | "c", layer): (N, S - 1, H_l)}: every layer's state after each input character
    (the last character is never an input), the state carried across windows."""
    states, chunks = None, {}
    net = model.net
    for _, ids in windows(streams, window):
        _, states, (_, cache, _) = model.forward(ids[:, :-1], states)
        for l in range(1, model.layers + 1):
            for name in net.spec.state_names:
                chunks.setdefault((name, l), []).append(layer_states(net, cache, l, name))
    return {key: np.concatenate(parts, axis=1) for key, parts in chunks.items()}


def unit_probes(model, data, cfg):
    """Rows {state, layer, target, unit, r, probe_r2} on the held-out probe text."""
    P = cfg["probe_chars"] // cfg["probe_streams"] * cfg["probe_streams"]
    streams = as_streams(data["held_out"][:P], cfg["probe_streams"])
    labels = code_labels(data["held_out_text"])
    states = stream_states(model, streams, cfg["window"])
    rows = []
    for (state, layer), features in states.items():
        for name in TARGETS:
            target = as_streams(labels[name][:P], cfg["probe_streams"])[:, :-1]
            unit, r = best_unit(features, target)
            probe = linear_probe(features, target, test_fraction=0.3, ridge=1e-3, seed=0)
            rows.append({"state": state, "layer": layer, "target": name, "unit": unit,
                         "r": r, "probe_r2": float(probe.r2_test)})
    return rows


# ---- one run ------------------------------------------------------------------------------------
def run_one(cell, layers, seed, data, cfg):
    started = time.perf_counter()
    width = width_for_budget(cell, layers, cfg["embed"], cfg["budget"])
    model = CharModel(cell, [width] * layers, cfg["embed"], seed, readout="top")
    history = train(model, as_streams(data["train"], cfg["streams"]), cfg["epochs"],
                    cfg["window"], lr=cfg["lr"])
    bpc = bits_per_char(model, as_streams(data["held_out"], cfg["streams"]), cfg["window"])
    return {"cell": cell, "layers": layers, "seed": seed, "width": width,
            "params": model.num_params, "train_loss": history, "held_out_bpc": float(bpc),
            "units": unit_probes(model, data, cfg),
            "seconds": round(time.perf_counter() - started, 1)}, model


def summarise(runs, cells, layer_counts):
    """Rows per (cell, L): width, params, held-out bpc mean and sd over seeds."""
    rows = []
    for cell in cells:
        for L in layer_counts:
            mine = [r for r in runs if r["cell"] == cell and r["layers"] == L]
            bpc = np.array([r["held_out_bpc"] for r in mine])
            rows.append({"cell": cell, "layers": L, "width": mine[0]["width"],
                         "params": mine[0]["params"], "seeds": len(mine),
                         "bpc_mean": float(bpc.mean()),
                         "bpc_sd": float(bpc.std(ddof=1)) if len(bpc) > 1 else 0.0})
    return rows


def unit_summary(runs):
    """Per (cell, L, state, layer, target): mean over seeds of the best |r| and the probe R^2."""
    groups = {}
    for run in runs:
        for u in run["units"]:
            key = (run["cell"], run["layers"], u["state"], u["layer"], u["target"])
            groups.setdefault(key, []).append((abs(u["r"]), u["probe_r2"]))
    return [{"cell": k[0], "layers": k[1], "state": k[2], "layer": k[3], "target": k[4],
             "best_unit_abs_r": float(np.mean([v[0] for v in vals])),
             "probe_r2": float(np.mean([v[1] for v in vals]))} for k, vals in groups.items()]


def verdicts(rows, cells, layer_counts):
    """The three claims, from the mean bpc: gated cells beat the tanh RNN at every depth; a 2nd
    layer helps (per cell: 2 layers below 1 by more than the larger sd); a 3rd layer helps."""
    bpc = {(r["cell"], r["layers"]): (r["bpc_mean"], r["bpc_sd"]) for r in rows}
    out = {}
    if "rnn" in cells and len(cells) > 1:
        gated = [c for c in cells if c != "rnn"]
        wins = [bpc[(c, L)][0] < bpc[("rnn", L)][0] for c in gated for L in layer_counts]
        out["gated_beat_rnn"] = "held" if all(wins) else "partly" if any(wins) else "did not hold"
    for lower, upper, key in ((1, 2, "second_layer_helps"), (2, 3, "third_layer_helps")):
        if lower in layer_counts and upper in layer_counts:
            per_cell = {}
            for c in cells:
                (m1, s1), (m2, s2) = bpc[(c, lower)], bpc[(c, upper)]
                per_cell[c] = ("helps" if m2 < m1 - max(s1, s2) else
                               "hurts" if m2 > m1 + max(s1, s2) else "no clear change")
            kinds = set(per_cell.values())
            out[key] = {"per_cell": per_cell,
                        "verdict": "held" if kinds == {"helps"} else
                        "did not hold" if "helps" not in kinds else "partly"}
    return out


# ---- figures ------------------------------------------------------------------------------------
def plot_bpc(rows, cells, path):
    from minirnn.plot import pyplot, save
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for cell in cells:
        mine = [r for r in rows if r["cell"] == cell]
        ax.errorbar([r["layers"] for r in mine], [r["bpc_mean"] for r in mine],
                    yerr=[r["bpc_sd"] for r in mine], marker="o", capsize=3, label=cell)
    ax.set_xlabel("layers (same parameter count)")
    ax.set_ylabel("held-out bits per character")
    ax.set_xticks(sorted({r["layers"] for r in rows}))
    ax.legend()
    ax.set_title(f"character model on Python source, ~{rows[0]['params']:,} parameters")
    save(fig, path)


def plot_probes(summary, cells, layer_count, path):
    """Probe R^2 per (state, layer) x target for each cell's `layer_count`-layer model."""
    from minirnn.plot import pyplot, save
    plt = pyplot()
    fig, axes = plt.subplots(1, len(cells), figsize=(4.8 * len(cells), 3.4), squeeze=False)
    fig.subplots_adjust(wspace=0.55)
    for ax, cell in zip(axes[0], cells):
        mine = [s for s in summary if s["cell"] == cell and s["layers"] == layer_count]
        keys = sorted({(s["state"], s["layer"]) for s in mine}, key=lambda k: (k[0] != "h", k[1]))
        grid = np.array([[next(s["probe_r2"] for s in mine if (s["state"], s["layer"]) == k
                               and s["target"] == t) for t in TARGETS] for k in keys])
        image = ax.imshow(grid, vmin=0, vmax=1, cmap="viridis", aspect="auto")
        for (i, j), v in np.ndenumerate(grid):
            ax.text(j, i, f"{v:.2f}", ha="center", va="center",
                    color="white" if v < 0.6 else "black", fontsize=8)
        ax.set_xticks(range(len(TARGETS)), [t.replace("_", "\n") for t in TARGETS], fontsize=8)
        ax.set_yticks(range(len(keys)), [f"{s} layer {l}" for s, l in keys], fontsize=8)
        ax.set_title(f"{cell}, {layer_count} layers: probe $R^2$")
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.8)
    save(fig, path)


def plot_unit_on_code(model, run, data, cfg, target, path, chars=1100):
    """One unit's activation as the background of each character of a held-out snippet: the
    unit of `run` (seed, cell, L) most correlated with `target` in the top layer's h."""
    from minirnn.plot import pyplot, save
    rows = [u for u in run["units"] if u["target"] == target and u["state"] == "h"]
    best = max(rows, key=lambda u: abs(u["r"]))
    text = data["held_out_text"]
    start = text.index("\n", len(text) // 3) + 1                # a whole-line start
    ids = data["held_out"][start:start + chars + 1][None, :]
    states = stream_states(model, ids, cfg["window"])[("h", best["layer"])][0, :, best["unit"]]
    plt = pyplot()
    snippet = text[start:start + chars]
    lines = snippet.split("\n")[:-1]
    fig, ax = plt.subplots(figsize=(11, 0.22 * len(lines) + 0.8))
    lo, hi = float(states.min()), float(states.max())
    shade = lambda v: plt.get_cmap("coolwarm")((v - lo) / (hi - lo + 1e-12))   # noqa: E731
    k = 0
    for row, line in enumerate(lines):
        for col, ch in enumerate(line + "\n"):
            if col < 100:
                ax.add_patch(plt.Rectangle((col, -row - 0.5), 1, 1,
                                           color=shade(states[k])))
                if ch != "\n":
                    ax.text(col + 0.5, -row, ch, ha="center", va="center", fontsize=6,
                            family="monospace")
            k += 1
    ax.set_xlim(0, 100)
    ax.set_ylim(-len(lines) + 0.5, 0.5)
    ax.axis("off")
    ax.set_title(f"{run['cell']}, {run['layers']} layers, seed {run['seed']}: layer "
                 f"{best['layer']} unit {best['unit']} (|r| = {abs(best['r']):.2f} with "
                 f"{target}); blue = {lo:.2f}, red = {hi:.2f}", fontsize=9)
    save(fig, path)


# ---- writing ------------------------------------------------------------------------------------
def write_results(path_base, result):
    with open(path_base + ".json", "w") as f:
        json.dump(result, f, separators=(",", ":"))  # compact: the .md is the readable copy
    info, cfg = result["data"], result["settings"]
    lines = ["# Depth and gating on a character model (Karpathy et al. 2015), issue 15 part 3", "",
             f"Command: `{result['command']}`  ", f"Wall time: {result['wall_seconds']:.0f} s  ",
             f"BLAS thread settings: {result['blas_threads']}  ",
             f"Python {info['python']}; train {info['train_chars']} chars, held out "
             f"{info['held_out_chars']} chars; text sha256 {info['sha256'][:16]}", "",
             f"Budget {cfg['budget']:,} parameters, E = {cfg['embed']}, {cfg['epochs']} epochs, "
             f"{cfg['streams']} streams x windows of {cfg['window']}, Adam lr {cfg['lr']}, seeds "
             f"{cfg['seeds']}; held-out bits/char, mean +- sd over seeds.", "",
             "| cell | layers | width | params | held-out bpc |", "|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['cell']} | {r['layers']} | {r['width']} | {r['params']:,} | "
                     f"{r['bpc_mean']:.3f} +- {r['bpc_sd']:.3f} |")
    lines += ["", f"Verdicts: {json.dumps(result['verdicts'])}", "",
              "Units (mean over seeds): best single unit |r| / linear probe held-out R^2", "",
              "| cell | L | state | layer | " + " | ".join(TARGETS) + " |",
              "|---|---|---|---|" + "---|" * len(TARGETS)]
    keys = sorted({(s["cell"], s["layers"], s["state"], s["layer"]) for s in result["units"]},
                  key=lambda k: (CELLS.index(k[0]), k[1], k[2] != "h", k[3]))
    for key in keys:
        cells = [next(s for s in result["units"] if (s["cell"], s["layers"], s["state"],
                                                     s["layer"]) == key and s["target"] == t)
                 for t in TARGETS]
        lines.append(f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | " + " | ".join(
            f"{c['best_unit_abs_r']:.2f} / {c['probe_r2']:.2f}" for c in cells) + " |")
    with open(path_base + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    for key in ("seeds", "budget", "embed", "epochs", "max_chars", "streams", "window",
                "probe_chars", "probe_streams"):  # ints; --lr, --layers below
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=None)
    parser.add_argument("--layers", type=int, nargs="+", default=None)
    parser.add_argument("--lr", type=float, default=None, help="Adam's learning rate")
    parser.add_argument("--tag", default=None, help="appended to the result files' names")
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--output-dir", default=os.path.join(HERE, "results"))
    parser.add_argument("--silent", action="store_true")
    args = parser.parse_args(argv)
    cfg = dict(SETTINGS["quick" if args.quick else "full" if args.full else "default"])
    cfg.update({k: v for k, v in vars(args).items() if k in cfg and v is not None})
    say = (lambda *a, **k: None) if args.silent else print
    started = time.perf_counter()
    data, data_info = load_corpus(cfg["max_chars"])
    runs, models = [], {}
    for seed in range(cfg["seeds"]):
        for cell in args.cells:
            for L in cfg["layers"]:
                run, model = run_one(cell, L, seed, data, cfg)
                runs.append(run)
                models[(cell, L, seed)] = model
                say(f"{cell} x {L} (H = {run['width']}, {run['params']} params) seed {seed}: "
                    f"bpc {run['held_out_bpc']:.3f}, {run['seconds']} s", flush=True)
    rows = summarise(runs, args.cells, cfg["layers"])
    summary = unit_summary(runs)
    os.makedirs(args.output_dir, exist_ok=True)
    base = os.path.join(args.output_dir, "char_depth_gating" + (f"_{args.tag}" if args.tag else ""))
    deepest = max(cfg["layers"])
    plot_bpc(rows, args.cells, base + "_bpc.png")
    plot_probes(summary, args.cells, deepest, base + "_probes.png")
    shown = "lstm" if "lstm" in args.cells else args.cells[0]
    shown_run = next(r for r in runs if (r["cell"], r["layers"], r["seed"]) == (shown, deepest, 0))
    for target in ("in_string", "bracket_depth"):
        plot_unit_on_code(models[(shown, deepest, 0)], shown_run, data, cfg, target,
                          f"{base}_unit_{target}.png")
    command = "python experiments/char_depth_gating.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    result = {"command": command.strip(), "wall_seconds": round(time.perf_counter() - started, 1),
              "settings": cfg, "data": data_info, "rows": rows,
              "blas_threads": {k: os.environ.get(k) for k in BLAS_THREAD_VARIABLES},
              "verdicts": verdicts(rows, args.cells, cfg["layers"]), "units": summary,
              "runs": runs}
    write_results(base, result)
    say(open(base + ".md").read())
    return result


if __name__ == "__main__":
    main()
