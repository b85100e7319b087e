"""Predictive coding against a plain stacked LSTM and persistence: next-step forecasts of two real
series, and the prediction error each layer passes up.

    python demos/predictive_coding.py OUTPUT_DIR [--seeds 3] [--epochs-scale 1.0] [--workers 2]

Series (each standardised with the mean and sd of its training part only):
  airline   Box & Jenkins' monthly passengers 1949-1960; modelled as the monthly log growth
            d_t = log y_t - log y_{t-1} (143 values, D = 1). The last 24 months are the test.
  weather   Seattle's daily weather 2012-2015 (NOAA, via vega_datasets); D = 4: log(1 + mm of
            precipitation), highest and lowest temperature, wind. The last 365 days (2015) are the
            test.
Everything before the test trains, cut into overlapping windows; the first steps of each window
start from zero states and are left out of every loss. Every model trains for the same number of
epochs (no early stopping: there is no validation part to stop on).

Models, all with 3 LSTM layers of the same width, trained with Adam (>= 3 seeds each):
  PC end to end      PredictiveCodingStack, BPTT through the whole stack on the sum of the layer
                     losses
  PC data loss       the same, on the data loss alone (layer 1's error)
  PC local           each layer on its own error, no gradient crossing layers
  stacked LSTM       StackedRNN + Dense head, trained on the next-step squared error; once
                     with the PC stacks' batches (all windows: one update per epoch), once with
                     quarter batches (4x the updates)
  persistence        the next value of the observed series is its last value (airline: next
                     month's passengers = this month's, i.e. d = 0; weather: tomorrow = today)
Every forecast is one step ahead, from the true past only, over the whole series from zero states;
scored on the test steps: RMSE of the modelled series (standardised units, over all D) and the
MAE in the series' own unit (airline: thousands of passengers; weather: the highest temperature,
deg C).

Then the question of the predictive-coding texts, "only the news is passed up": the RMS of each
layer's error e^l over the test (layer 0: the data itself, layer 1's input), and its lag-1
autocorrelation (near 0: nothing left that the next step could predict from the last).

Prints both tables; writes next_step_errors.png, layer_errors.png and results.json to OUTPUT_DIR.
"""
import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, pyplot, save
from minirnn.predictive_coding import (Learner, PredictiveCodingStack,
                                       prediction_error_loss)
from minirnn.threads import run_jobs
from minirnn.train import fit

CELL, LAYERS = "lstm", 3
RECIPE = dict(lr=0.01, clip_norm=5.0)
LSTM_VARIANTS = {"stacked LSTM": 1, "stacked LSTM, 4x updates": 4}  # updates per PC update
VARIANTS = {"PC end to end": ("end_to_end", None),
            "PC data loss": ("end_to_end", (1.0,) + (0.0,) * (LAYERS - 1)),
            "PC local": ("local", None)}


@dataclass
class Series:
    """A modelled series z: (T, D), standardised, and how to train and score on it."""
    name: str
    z: np.ndarray
    test_start: int      # z[:test_start] trains, z[test_start:] tests
    width: int           # hidden units per layer
    window: int          # training window length
    stride: int          # steps between window starts
    warmup: int          # first steps of a window left out of the loss
    batch_size: int      # all the windows: one update per epoch
    epochs: int
    mean: np.ndarray     # (D,) z = (modelled values - mean) / sd, both from the part
    sd: np.ndarray       #      before the test
    natural: np.ndarray  # the observed series in its own unit, one value per step of z


def standardise(values, test_size):
    """z-scores of values (T, D) with the mean and sd of values[:-test_size] only, so nothing
    of the test part reaches the inputs of training. Returns z, mean, sd."""
    known = values[:-test_size]
    mean, sd = known.mean(axis=0), known.std(axis=0)
    return (values - mean) / sd, mean, sd


def airline_series():
    _, passengers = data.load_airline()
    growth = np.diff(np.log(passengers))[:, None]  # d_t, months 1 .. 143
    z, mean, sd = standardise(growth, 24)
    return Series("airline", z, len(z) - 24, width=8, window=24, stride=1, warmup=6,
                  batch_size=96, epochs=100, mean=mean, sd=sd, natural=passengers[1:])


def weather_series():
    weather = data.load_seattle_weather()
    values = np.stack([np.log1p(weather["precipitation"]), weather["temp_max"],
                       weather["temp_min"], weather["wind"]], axis=1)
    z, mean, sd = standardise(values, 365)
    return Series("weather", z, len(z) - 365, width=16, window=40, stride=10, warmup=10,
                  batch_size=106, epochs=40, mean=mean, sd=sd, natural=weather["temp_max"])


def training_windows(series):
    """Windows z[s:s + window] (N, window, D) for s = 0, stride, 2 stride, ..., all of them
    before the test."""
    starts = range(0, series.test_start - series.window + 1, series.stride)
    return np.stack([series.z[s:s + series.window] for s in starts])


# ---- training ------------------------------------------------------------------------------------
def next_step_loss(warmup):
    """Squared error of a next-step forecast after the warm-up, for the stacked LSTM."""
    def loss(out, target, mask=None):
        steps = np.broadcast_to(np.arange(out.shape[1]) >= warmup, out.shape[:2])
        return mean_squared_error(out, target, steps if mask is None else steps & mask)
    return loss


def train(model, loss, train_data, batch_size, seed, epochs):
    return fit(model, loss, train_data, optimizer=Adam(lr=RECIPE["lr"]), epochs=epochs,
               batch_size=batch_size, clip_norm=RECIPE["clip_norm"], seed=seed, progress=False)


def train_pc(series, rule, weights, seed, epochs):
    """A PC stack trained by `rule`; returns its errors over the whole series (T, L, D) (e^1_t is
    the error of the forecast of z_t)."""
    stack = PredictiveCodingStack(CELL, series.z.shape[1], [series.width] * LAYERS, seed=seed,
                                  forget_bias=1.0)
    x = training_windows(series)
    target = np.zeros(x.shape[:2] + (LAYERS, x.shape[2]))  # every error's target is 0
    train(Learner(stack, rule), prediction_error_loss(weights, series.warmup), (x, target),
          series.batch_size, seed, epochs)
    errors, _ = stack.forward(series.z[None])
    return errors[0]


def train_lstm(series, seed, epochs, updates=1):
    """The plain stacked LSTM, with `updates` times the PC stacks' updates per epoch (smaller
    batches); returns its next-step errors (T, D) (row 0: z_0 itself, no forecast)."""
    D = series.z.shape[1]
    net = StackedRNN(CELL, D, [series.width] * LAYERS, seed=seed, forget_bias=1.0)
    model = Sequential([("lstm", Recurrent(net)), ("head", Dense(series.width, D, seed=seed))])
    x = training_windows(series)
    train(model, next_step_loss(series.warmup - 1), (x[:, :-1], x[:, 1:]),
          -(-series.batch_size // updates), seed, epochs)
    out, _ = model.forward(series.z[None, :-1])
    return np.concatenate([series.z[:1], series.z[1:] - out[0]])


# ---- scores --------------------------------------------------------------------------------------
def natural_forecast(series, forecast):
    """The forecast of the observed series at every step t >= 1 from the forecast of z_t."""
    values = forecast * series.sd + series.mean
    if series.name == "airline":  # y_t = y_{t-1} exp(d_t)
        return series.natural[:-1] * np.exp(values[1:, 0])
    return values[1:, 1]  # the highest temperature


def scores(series, errors):
    """RMSE (standardised, all D) and natural-unit MAE of next-step errors (T, D) over the test."""
    test = slice(series.test_start, None)
    forecast = series.z - errors
    natural = natural_forecast(series, forecast)
    return {"rmse": float(np.sqrt(np.mean(errors[test] ** 2))),
            "mae": float(np.mean(np.abs(natural[series.test_start - 1:]
                                        - series.natural[test])))}


def persistence_errors(series):
    """Errors (T, D) of 'the next observed value is the last one' in the modelled units."""
    if series.name == "airline":  # y_t = y_{t-1}: growth 0
        return series.z - (0.0 - series.mean) / series.sd
    return np.concatenate([series.z[:1], np.diff(series.z, axis=0)])


def layer_statistics(series, errors):
    """Per layer (0: the data) over the test: RMS and the lag-1 autocorrelation (mean over D)."""
    test = slice(series.test_start, None)
    signals = [series.z[test]] + [errors[test, k] for k in range(errors.shape[1])]
    rms = [float(np.sqrt(np.mean(s ** 2))) for s in signals]
    lag1 = [float(np.mean([np.corrcoef(s[:-1, d], s[1:, d])[0, 1] for d in range(s.shape[1])]))
            for s in signals]
    return {"rms": rms, "lag1": lag1}


def mean_sd(values):
    return float(np.mean(values)), float(np.std(values))


# ---- figures -------------------------------------------------------------------------------------
def plot_scores(table, path, about):
    plt = pyplot()
    fig, axes = plt.subplots(1, len(table), figsize=(5 * len(table), 3.6), layout="constrained")
    for ax, (name, rows) in zip(np.atleast_1d(axes), table.items()):
        labels = list(rows)
        means = [rows[m]["rmse"][0] for m in labels]
        sds = [rows[m]["rmse"][1] for m in labels]
        ax.barh(labels, means, xerr=sds,
                color=["tab:blue"] * len(VARIANTS) + ["tab:green"] * len(LSTM_VARIANTS)
                + ["tab:gray"])
        ax.invert_yaxis()
        ax.set(title=f"{name}: next-step error over the test", xlabel="RMSE (standardised)")
    add_note(fig, "Bars: mean over seeds, whiskers: one sd. Every forecast is one step ahead from "
                  "the true past. PC: the predictive-coding stack (layer 1's prediction).", about)
    return save(fig, path)


def plot_layers(results, path, about):
    """Per series: |e^l_t| over time (seed 0, end to end; a running mean) and the RMS per layer of
    each PC variant over the test."""
    plt = pyplot()
    fig, axes = plt.subplots(len(results), 2, figsize=(11, 3.4 * len(results)),
                             layout="constrained", squeeze=False, width_ratios=(2, 1))
    for (left, right), (name, r) in zip(axes, results.items()):
        errors, span = np.array(r["seed0_errors"]), r["smooth"]
        kernel = np.ones(span) / span
        magnitude = [np.sqrt(np.mean(series ** 2, axis=1)) for series in
                     [np.array(r["z"])] + [errors[:, k] for k in range(errors.shape[1])]]
        every = max(1, span // 5)  # one point in 5 per span: the curve, not a heavy file
        steps = np.arange(span - 1, len(magnitude[0]))[::every]  # where each mean ends
        for l, m in enumerate(magnitude):
            left.plot(steps, np.convolve(m, kernel, mode="valid")[::every], lw=1.2,
                      label="data $x$ (layer 1's input)" if l == 0 else f"$e^{l}$")
        left.axvline(r["test_start"], color="gray", linestyle=":")
        left.set(title=f"{name}: $|e^l_t|$, mean of the last {span} steps (PC end to end, seed 0;"
                       " test right of the line)", xlabel="step $t$", ylabel="RMS over features")
        left.legend(fontsize=8, ncol=2)
        layers = np.arange(LAYERS + 1)
        for k, variant in enumerate(VARIANTS):
            rms = np.array(r["layers"][variant]["rms"])  # (seeds, L + 1)
            right.errorbar(layers + 0.08 * (k - 1), rms.mean(axis=0), yerr=rms.std(axis=0),
                           marker="os^"[k], capsize=3, label=variant)
        right.set(title=f"{name}: RMS per layer over the test", xlabel="layer $l$ (0: data)",
                  ylabel=r"RMS of $e^l$", xticks=layers)
        right.legend(fontsize=8)
    add_note(fig, r"$e^l_t = u^l_t - p^l_{t-1}$: what layer $l$ failed to predict of its input "
                  r"$u^l_t$ ($u^1 = x$, $u^{l+1} = e^l$); only $e^l$ is passed up. Whiskers: one "
                  "sd over seeds.", about)
    return save(fig, path)


# ---- main ----------------------------------------------------------------------------------------
SERIES = {"airline": airline_series, "weather": weather_series}
SMOOTHING = {"airline": 3, "weather": 30}  # steps of the running mean in layer_errors.png


def run_seed(job):
    """Every model on one series with one seed: their test scores, the PC variants' per-layer
    statistics and, for seed 0, the end-to-end stack's errors over the whole series."""
    name, seed, epochs_scale = job
    series = SERIES[name]()
    epochs = max(1, round(series.epochs * epochs_scale))
    result = {"series": name, "seed": seed, "scores": {}, "layers": {}}
    for variant, (rule, weights) in VARIANTS.items():
        errors = train_pc(series, rule, weights, seed, epochs)
        result["scores"][variant] = scores(series, errors[:, 0])
        result["layers"][variant] = layer_statistics(series, errors)
        if seed == 0 and variant == "PC end to end":
            result["errors"] = errors.tolist()
    for model, updates in LSTM_VARIANTS.items():
        errors = train_lstm(series, seed, epochs, updates)
        result["scores"][model] = scores(series, errors)
    return result


def summarise(runs, seeds):
    """The score table {series: {model: {"rmse", "mae": (mean, sd)}}} and, per series, the
    per-layer statistics {variant: {"rms", "lag1": (seeds, L + 1)}} and the figure's inputs."""
    table, details = {}, {}
    for name, make in SERIES.items():
        mine = sorted((r for r in runs if r["series"] == name), key=lambda r: r["seed"])
        series = make()
        rows = {model: {key: mean_sd([r["scores"][model][key] for r in mine])
                        for key in ("rmse", "mae")} for model in mine[0]["scores"]}
        rows["persistence"] = {key: (value, 0.0) for key, value in
                               scores(series, persistence_errors(series)).items()}
        table[name] = rows
        details[name] = {"layers": {variant: {key: [r["layers"][variant][key] for r in mine]
                                              for key in ("rms", "lag1")} for variant in VARIANTS},
                         "seed0_errors": mine[0]["errors"], "z": series.z.tolist(),
                         "test_start": series.test_start, "smooth": SMOOTHING[name]}
    return table, details


def print_tables(table, details, seeds):
    print(f"\nnext-step error over the test ({seeds} seeds: mean +- sd)")
    print(f"{'series':<9}{'model':<26}{'RMSE (standardised)':>22}{'MAE (own unit)':>20}")
    for name, rows in table.items():
        for model, s in rows.items():
            print(f"{name:<9}{model:<26}{s['rmse'][0]:>13.3f} +- {s['rmse'][1]:.3f}"
                  f"{s['mae'][0]:>13.2f} +- {s['mae'][1]:.2f}")
    print("\nprediction error per layer over the test: RMS (lag-1 autocorrelation); layer 0 is "
          "the data")
    print(f"{'series':<9}{'variant':<26}"
          + "".join(f"{f'layer {l}':>17}" for l in range(LAYERS + 1)))
    for name, r in details.items():
        for variant, stats in r["layers"].items():
            rms, lag1 = np.mean(stats["rms"], axis=0), np.mean(stats["lag1"], axis=0)
            print(f"{name:<9}{variant:<26}"
                  + "".join(f"{a:>9.3f} ({b:+.2f})" for a, b in zip(rms, lag1)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs-scale", type=float, default=1.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    jobs = [(name, seed, args.epochs_scale) for name in ("weather", "airline")
            for seed in range(args.seeds)]
    # one BLAS thread per process: the stack steps through time in small products, where BLAS
    # threads only spin (and collapse when the 2 cores are shared)
    table, details = summarise(run_jobs(run_seed, jobs, args.workers, num_threads=1), args.seeds)
    print_tables(table, details, args.seeds)
    about = (f"Models: {LAYERS} LSTM layers of 8 (airline) or 16 (weather) units each, Adam lr "
             f"{RECIPE['lr']}, 100 (airline) or 40 (weather) epochs; {args.seeds} seeds.")
    plot_scores(table, args.output_dir / "next_step_errors.png", about)
    plot_layers(details, args.output_dir / "layer_errors.png", about)
    seconds = time.time() - start
    summary = {"table": table, "layers": {name: r["layers"] for name, r in details.items()},
               "seeds": args.seeds, "epochs_scale": args.epochs_scale, "seconds": seconds}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {seconds:.0f} s "
          f"({args.workers} workers)")
    return summary


if __name__ == "__main__":
    main()
