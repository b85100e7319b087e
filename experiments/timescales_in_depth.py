"""Timescales in depth: do higher layers of a stacked RNN keep a perturbation longer?

    python experiments/timescales_in_depth.py --quick      # tiny text and nets, < 30 s
    python experiments/timescales_in_depth.py              # default: 1 seed, 3 layers, 2 epochs
    python experiments/timescales_in_depth.py --full       # 3 seeds x {tanh RNN, LSTM}, 3 layers,
                                                           # 3 epochs: ~5 min on 2 cores

Issue 15, part 2. Hermans & Schrauwen (2013, "Training and analysing deep recurrent neural
networks", NIPS) train a deep RNN as a character-level language model and find that the layers
settle into a hierarchy of timescales: a change to one input character is felt longer in the
higher layers. This script runs that analysis as far as minirnn allows:

    text        Python source read at run time from the standard library's own directory (the
                directory of the `os` module): TRAIN_FILES for training, HELD_OUT_FILES held out
                (split by file). Characters outside printable ASCII + newline map to one '?'.
                The Python version and the files' sizes go into the results.
    network     Embedding(V, E) -> StackedRNN(cell, E, [H] * L) (the input enters layer 1
                only, as in H & S's DRNN) -> logits = Dense over the *concatenation of every
                layer's output* (H & S's output layer reads all layers; minirnn's
                `backward(..., dlayers=...)` routes each layer's part of the gradient).
    training    the training text cut into `streams` parallel contiguous streams, windows of
                `window` steps, the state carried from window to window (truncated BPTT, no
                gradient between windows); softmax_cross_entropy, Adam, gradient-norm clip 1.
    bits/char   held-out text run the same way (carried state); mean cross-entropy / ln 2.
    perturbation  `probes` positions p in the held-out text; a sequence runs from p - burn_in
                to p + horizon, once as it is and once with the character at p replaced by a
                different random character. d_l(k) = mean over probes of ||h_l' - h_l|| at delay
                k = t - p (also the LSTM cell state c). tau_l = minirnn.analysis.impulse.
                decay_time_constant(d_l): steps from the peak until the upper envelope falls
                below peak / e. Also reported: d_l(k) / peak at k = 10 and 50, and the
                centre of mass of d_l over k >= 0 (a measure without a threshold).
    library probes  minirnn.analysis.impulse_response on the recurrent stack, kicking the
                embedded held-out text (the baseline input) at one step along the direction
                between two characters' embeddings; minirnn.analysis.frequency_response on the
                stack around the mean embedding (preferred frequency by gain per layer).

Departures from H & S (their full text was not available here; details from memory of it
beyond the abstract are marked in experiments/README.md): Python source instead of Wikipedia
text; H = 64 instead of hundreds of units per layer; Adam and minutes of training instead of
SGD for days; 3 layers (5 in H & S).
"""
import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
for folder in (REPO, HERE):
    if folder not in sys.path:
        sys.path.insert(0, folder)

from charlm import ALPHABET, CharModel, as_streams, bits_per_char, load_corpus, train  # noqa: E402
from minirnn.analysis.frequency import frequency_response         # noqa: E402
from minirnn.analysis.impulse import decay_time_constant, impulse_response   # noqa: E402
from minirnn.analysis.states import layer_states                  # noqa: E402

CELLS = ("rnn", "lstm")
SETTINGS = {   # what --quick, the default and --full set (any flag given explicitly wins)
    "quick": dict(seeds=1, layers=3, hidden=8, embed=8, epochs=1, max_chars=6000, streams=8,
                  window=20, probes=16, burn_in=10, horizon=30),
    "default": dict(seeds=1, layers=3, hidden=64, embed=16, epochs=2, max_chars=None,
                    streams=32, window=100, probes=200, burn_in=100, horizon=150),
    "full": dict(seeds=3, layers=3, hidden=64, embed=16, epochs=3, max_chars=None,
                 streams=32, window=100, probes=200, burn_in=100, horizon=150),
}


# ---- the perturbation analysis -----------------------------------------------------------------
def perturbation_curves(model, held_out, probes, burn_in, horizon, rng):
    """d[state]: (L, burn_in + horizon) mean over probes of ||s_l' - s_l|| per step, where s'
    runs on the text with the character at index burn_in replaced by another one."""
    V = len(ALPHABET)
    starts = rng.integers(0, len(held_out) - burn_in - horizon, size=probes)
    ids = np.stack([held_out[s:s + burn_in + horizon] for s in starts])       # (P, T)
    changed = ids.copy()
    changed[:, burn_in] = (ids[:, burn_in] + rng.integers(1, V, size=probes)) % V  # never equal
    x, _ = model.embed.forward(np.concatenate([ids, changed]))
    _, _, cache = model.net.forward(x)
    curves = {}
    for name in model.net.spec.state_names:
        rows = []
        for l in range(1, model.layers + 1):
            s = layer_states(model.net, cache, l, name).reshape(2, probes, burn_in + horizon, -1)
            rows.append(np.linalg.norm(s[1] - s[0], axis=-1).mean(axis=0))
        curves[name] = np.array(rows)
    return curves, ids


def timescale_row(curve, burn_in):
    """Numbers for one layer's curve (T,): tau, decay at k = 10 and 50, centre of mass."""
    after = curve[burn_in:]
    peak = after.max()
    k = np.arange(len(after))
    return {"tau": float(decay_time_constant(after)), "peak": float(peak),
            "peak_delay": int(np.argmax(after)),
            "ratio_k10": float(after[10] / peak) if len(after) > 10 else None,
            "ratio_k50": float(after[50] / peak) if len(after) > 50 else None,
            "centre_of_mass": float((k * after).sum() / after.sum()),
            "before_max": float(curve[:burn_in].max())}


def library_probes(model, probe_ids, burn_in, horizon):
    """impulse_response on the stack with the embedded text as the baseline, kicked at burn_in
    along the (normalised) difference of the embeddings of 'e' and ' '; frequency_response
    around the mean embedding."""
    W = model.embed.params["W"]
    direction = W[ALPHABET.index("e")] - W[ALPHABET.index(" ")]
    magnitude = float(np.linalg.norm(direction))
    x, _ = model.embed.forward(probe_ids)
    impulse = impulse_response(model.net, t0=burn_in, x=x, magnitude=magnitude,
                               direction=direction / magnitude)
    freqs = np.pi * np.logspace(-2.5, 0, 24)
    freq = frequency_response(model.net, freqs, amplitude=0.1 * magnitude,
                              direction=direction / magnitude, offset=W.mean(axis=0))
    return {"impulse_tau": impulse.time_constant.tolist(),
            "impulse_persistence": impulse.persistence.tolist(),
            "frequencies": freqs.tolist(), "gain": freq.gain.tolist(),
            "preferred_frequency": np.asarray(freq.preferred_frequencies("gain")).tolist(),
            "half_gain_frequency": [half_gain_frequency(freqs, g) for g in freq.gain]}


def half_gain_frequency(freqs, gain):
    """The first grid frequency above the gain's peak where it falls below half the peak (nan if
    it never does): a low-pass layer's bandwidth; lower = slower."""
    peak = int(np.argmax(gain))
    below = np.nonzero(gain[peak:] < gain[peak] / 2)[0]
    return float(freqs[peak + below[0]]) if below.size else float("nan")


# ---- one run ------------------------------------------------------------------------------
def run_one(cell, seed, data, cfg):
    started = time.perf_counter()
    model = CharModel(cell, [cfg["hidden"]] * cfg["layers"], cfg["embed"], seed)
    train_streams = as_streams(data["train"], cfg["streams"])
    history = train(model, train_streams, cfg["epochs"], cfg["window"])
    bpc = bits_per_char(model, as_streams(data["held_out"], cfg["streams"]), cfg["window"])
    rng = np.random.default_rng(1000 + seed)
    curves, probe_ids = perturbation_curves(model, data["held_out"], cfg["probes"],
                                            cfg["burn_in"], cfg["horizon"], rng)
    rows = {name: [timescale_row(c, cfg["burn_in"]) for c in curve]
            for name, curve in curves.items()}
    probes = library_probes(model, probe_ids, cfg["burn_in"], cfg["horizon"])
    return {"cell": cell, "seed": seed, "layers": cfg["layers"], "train_loss": history,
            "held_out_bpc": float(bpc), "timescales": rows,
            "curves": {k: v.tolist() for k, v in curves.items()}, "library_probes": probes,
            "seconds": round(time.perf_counter() - started, 1)}


def summarise(runs, cells, layers):
    """Rows (cell, state, layer) with the mean and spread (min..max) of each measure over seeds."""
    out = []
    for cell in cells:
        mine = [r for r in runs if r["cell"] == cell]
        for name in mine[0]["timescales"]:
            for l in range(layers):
                def stat(key, src=name):
                    v = np.array([r["timescales"][src][l][key] for r in mine], float)
                    return [float(np.mean(v)), float(v.min()), float(v.max())]
                # the library probes read h only (impulse_response state='h')
                imp = np.array([r["library_probes"]["impulse_tau"][l] if name == "h" else np.nan
                                for r in mine], float)
                pf = np.array([r["library_probes"]["half_gain_frequency"][l] if name == "h"
                               else np.nan for r in mine], float)
                out.append({"cell": cell, "state": name, "layer": l + 1, "seeds": len(mine),
                            "tau": stat("tau"), "ratio_k10": stat("ratio_k10"),
                            "ratio_k50": stat("ratio_k50"),
                            "centre_of_mass": stat("centre_of_mass"),
                            "impulse_tau": [float(np.mean(imp)), float(imp.min()),
                                            float(imp.max())],
                            "half_gain_frequency": [float(np.median(pf))],
                            "bpc": [float(np.mean([r["held_out_bpc"] for r in mine]))]})
    return out


def rises(taus):
    return all(b > a for a, b in zip(taus, taus[1:]))


def cell_verdicts(runs, cells):
    """Per cell, on h: 'held' if tau rises with depth in every seed; 'partly' if the top layer is
    slower than the first in every seed (or the mean tau rises); 'did not hold' otherwise."""
    out = {}
    for cell in cells:
        taus = np.array([[t["tau"] for t in r["timescales"]["h"]] for r in runs
                         if r["cell"] == cell])                    # (seeds, L)
        out[cell] = ("held" if all(rises(t) for t in taus) else
                     "partly" if np.all(taus[:, -1] > taus[:, 0]) or rises(taus.mean(axis=0))
                     else "did not hold")
    return out


def verdict(per_cell):
    kinds = set(per_cell.values())
    return kinds.pop() if len(kinds) == 1 else "partly"


def fmt(triple, digits=1):
    mean, lo, hi = triple
    return f"{mean:.{digits}f} ({lo:.{digits}f}..{hi:.{digits}f})"


def write_results(path_base, command, seconds, cfg, data_info, runs, rows, cells):
    per_seed = {cell: [rises([t["tau"] for t in r["timescales"]["h"]]) for r in runs
                       if r["cell"] == cell] for cell in cells}
    per_cell = cell_verdicts(runs, cells)
    result = {"command": command, "wall_seconds": round(seconds, 1), "settings": cfg,
              "data": data_info, "rows": rows, "verdict": verdict(per_cell),
              "verdict_per_cell": per_cell, "tau_rises_with_depth_per_seed": per_seed,
              "runs": runs}
    with open(path_base + ".json", "w") as f:
        json.dump(result, f, separators=(",", ":"))  # compact: the .md is the readable copy
    lines = [f"# Timescales in depth (Hermans & Schrauwen 2013), issue 15 part 2", "",
             f"Command: `{command}`  ", f"Wall time: {seconds:.0f} s  ",
             f"Python {data_info['python']}; train {data_info['train_chars']} chars "
             f"({', '.join(data_info['train_files'])}), held out {data_info['held_out_chars']} "
             f"chars ({', '.join(data_info['held_out_files'])}); text sha256 "
             f"{data_info['sha256'][:16]}", "",
             f"{cfg['layers']} layers x H = {cfg['hidden']}, E = {cfg['embed']}, {cfg['epochs']} "
             f"epochs, {cfg['streams']} streams x windows of {cfg['window']}; {cfg['probes']} "
             f"perturbed characters per net; seeds {cfg['seeds']}. Mean (min..max) over seeds.", "",
             "| cell | state | layer | held-out bpc | tau (1/e), steps | d(10)/peak | d(50)/peak "
             "| centre of mass | impulse_response tau | half-gain freq (rad/step, median) |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['cell']} | {r['state']} | {r['layer']} | {r['bpc'][0]:.3f} | "
                     f"{fmt(r['tau'])} | {fmt(r['ratio_k10'], 2)} | {fmt(r['ratio_k50'], 2)} | "
                     f"{fmt(r['centre_of_mass'])} | {fmt(r['impulse_tau'])} | "
                     f"{r['half_gain_frequency'][0]:.3f} |")
    lines += ["", f"tau(h) rises with depth, per seed: {per_seed}", "",
              f"Verdict, 'higher layers are slower' (on h): **{result['verdict']}** "
              f"(per cell: {per_cell}; held = tau rises layer by layer in every seed, partly = "
              f"the top layer is slower than the first in every seed or the mean tau rises)", ""]
    with open(path_base + ".md", "w") as f:
        f.write("\n".join(lines))
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--full", action="store_true")
    for key in ("seeds", "layers", "hidden", "embed", "epochs", "max_chars", "streams", "window",
                "probes", "burn_in", "horizon"):
        parser.add_argument("--" + key.replace("_", "-"), type=int, default=None)
    parser.add_argument("--cells", nargs="+", default=list(CELLS), choices=CELLS)
    parser.add_argument("--output-dir", default=os.path.join(REPO, "experiments", "results"))
    parser.add_argument("--tag", default=None)
    args = parser.parse_args(argv)
    cfg = dict(SETTINGS["quick" if args.quick else "full" if args.full else "default"])
    cfg.update({k: v for k, v in vars(args).items() if k in cfg and v is not None})
    started = time.perf_counter()
    data, data_info = load_corpus(cfg["max_chars"])
    runs = []
    for seed in range(cfg["seeds"]):
        for cell in args.cells:
            runs.append(run_one(cell, seed, data, cfg))
            r = runs[-1]
            print(f"{cell} seed {seed}: bpc {r['held_out_bpc']:.3f}, tau(h) "
                  f"{[round(t['tau'], 1) for t in r['timescales']['h']]}, {r['seconds']} s",
                  flush=True)
    rows = summarise(runs, args.cells, cfg["layers"])
    seconds = time.perf_counter() - started
    name = "timescales_in_depth" + (f"_{args.tag}" if args.tag else "")
    os.makedirs(args.output_dir, exist_ok=True)
    command = "python experiments/timescales_in_depth.py " + " ".join(
        sys.argv[1:] if argv is None else argv)
    result = write_results(os.path.join(args.output_dir, name), command.strip(), seconds, cfg,
                           data_info, runs, rows, args.cells)
    print(open(os.path.join(args.output_dir, name + ".md")).read())
    return result


if __name__ == "__main__":
    main()
