"""Forecasting the last 24 months of the airline passenger series with a stacked LSTM.

Box & Jenkins' monthly airline passengers, 1949-1960 (144 months). The first 120 months are
history; the last 24 (1959-1960) are forecast and scored. The network models the seasonal log
growth d_t = log y_t - log y_{t-12} (standardised): Stacked LSTM [16, 16] -> Dense(1) reads
d_12 .. d_t and predicts d_{t+1} at every step, trained on 24-month windows of the history with
the last 12 months of history held out for early stopping. The 24-month forecast is recursive:
each predicted d is fed back as the next input, and y_t = y_{t-12} * exp(d_t).
Baseline: the seasonal-naive forecast, which repeats the last observed year (1958) twice. A second
reference shows what the transform alone gives: seasonal naive times the mean yearly growth of the
history (a constant d_t), i.e. the forecast of a network that learned nothing but the mean.

    python demos/airline.py OUTPUT_DIR [--seeds 5]

Prints MAE / RMSE / MAPE of each seed's forecast and of their mean against the baseline, and
writes learning_curves.png, forecast.png, layer_states.png (every hidden unit of both layers
over the 144 months: which units follow the trend and which the forecast) and results.json.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, plot_learning_curves, pyplot, save
from minirnn.train import EarlyStopping, fit

HISTORY, HORIZON, SEASON, WINDOW, HIDDEN = 120, 24, 12, 24, [16, 16]


def windows(series, first_target, last_target):
    """Inputs (N, WINDOW, 1) and next-step targets (N, WINDOW, 1) for every window whose last
    target index lies in [first_target, last_target]."""
    ends = range(max(first_target, WINDOW), last_target + 1)
    x = np.stack([series[e - WINDOW:e] for e in ends])[..., None]
    y = np.stack([series[e - WINDOW + 1:e + 1] for e in ends])[..., None]
    return x, y


def scores(forecast, actual):
    error = forecast - actual
    return {"MAE": float(np.mean(np.abs(error))), "RMSE": float(np.sqrt(np.mean(error ** 2))),
            "MAPE %": float(100 * np.mean(np.abs(error) / actual))}


def layer_outputs(cache):
    """[layer 1 output (T, H), layer 2 output (T, H)] of the single sequence of a forward run."""
    outputs = cache.layers["lstm"].outputs
    return [outputs[l][0] for l in (1, 2)]


def forecast(model, z, mean, std, passengers):
    """Recursive 24-month forecast of the passenger counts and the per-step hidden states of
    every layer (from the run over the history and the fed-back predictions)."""
    out, cache = model.forward(z[None, :, None])  # warm up on the whole history of z
    states, prediction = cache.final_states["lstm"], out[0, -1, 0]
    hidden = [layer_outputs(cache)]
    log_y = list(np.log(passengers[:HISTORY]))
    for t in range(HISTORY, HISTORY + HORIZON):
        log_y.append(log_y[t - SEASON] + prediction * std + mean)  # y_t = y_{t-12} exp(d_t)
        out, cache = model.forward(np.array([[[prediction]]]), initial_states={"lstm": states})
        states, prediction = cache.final_states["lstm"], out[0, -1, 0]
        hidden.append(layer_outputs(cache))
    layer_states = [np.concatenate([h[l] for h in hidden]) for l in (0, 1)]  # (T, H) per layer
    return np.exp(log_y[HISTORY:]), layer_states


def describe_model(net):
    """The model and its training, for a figure's note."""
    return (f"Model: {describe_networks([net])} $\\to$ Dense(1), reading the standardised "
            f"seasonal log growth $d_t = \\log y_t - \\log y_{{t-12}}$ and predicting "
            f"$d_{{t+1}}$.   Training: {WINDOW}-month windows of the history, batches of 16, Adam "
            "lr 0.003, early stopping on the last 12 months of the history")


def plot(out_dir, months, passengers, runs, naive, mean_forecast, net):
    from matplotlib.ticker import MaxNLocator

    plot_learning_curves({f"seed {k}": run["history"] for k, run in enumerate(runs)},
                         out_dir / "learning_curves.png", about=describe_model(net))
    plt = pyplot()
    t = np.arange(len(passengers))
    fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
    ax.plot(t, passengers, "k", label="actual")
    for run in runs:
        ax.plot(t[HISTORY:], run["forecast"], color="tab:blue", alpha=0.3)
    ax.plot(t[HISTORY:], mean_forecast, color="tab:blue", label="stacked LSTM (mean of seeds)")
    ax.plot(t[HISTORY:], naive, color="tab:orange", label="seasonal naive")
    ax.axvline(HISTORY - 0.5, color="gray", linestyle=":")
    ax.set_xticks(t[::12], [m[:4] for m in months[::12]])
    ax.set(title=f"airline passengers: the last {HORIZON} months forecast from the {HISTORY} "
                 "before (dotted line)", ylabel="passengers (thousands)")
    ax.legend()
    add_note(fig, f"Pale blue: each of the {len(runs)} seeds' forecasts. The forecast is recursive: "
                  r"each predicted $d_t$ is fed back as the next input, and "
                  r"$y_t = y_{t-12}\,e^{d_t}$.   Seasonal naive: the last observed year repeated.",
             describe_model(net))
    save(fig, out_dir / "forecast.png")

    fig, axes = plt.subplots(2, 1, figsize=(9, 6), sharex=True, layout="constrained")
    for l, ax in enumerate(axes):
        states = runs[0]["layer_states"][l]  # (T, H) over months 12 .. 143
        image = ax.imshow(states.T, aspect="auto", cmap="RdBu_r", vmin=-1, vmax=1,
                          extent=(SEASON - 0.5, len(passengers) - 0.5, states.shape[1] - 0.5, -0.5))
        ax.axvline(HISTORY - 0.5, color="k", linestyle=":")
        ax.set(title=f"layer {l + 1}: hidden units over time (seed 0; forecast right of the line)",
               ylabel="unit $i$")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        fig.colorbar(image, ax=ax, label=f"$h_t^{l + 1}[i]$")
    axes[1].set_xticks(t[SEASON::12], [m[:4] for m in months[SEASON::12]])
    add_note(fig, r"$h_t^l[i]$: unit $i$ of layer $l$'s output at month $t$, from the run over "
                  "the history and then over the fed-back predictions.", describe_model(net))
    save(fig, out_dir / "layer_states.png")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args()
    args.output_dir.mkdir(parents=True, exist_ok=True)
    start = time.time()
    months, passengers = data.load_airline()
    growth = np.log(passengers[SEASON:]) - np.log(passengers[:-SEASON])  # d_t for t = 12..143
    known = growth[:HISTORY - SEASON]  # d_12 .. d_119: what the history shows
    mean, std = known.mean(), known.std()
    z = (known - mean) / std
    val_from = len(z) - SEASON  # windows whose last target is in the last 12 months of history
    train, val = windows(z, 0, val_from - 1), windows(z, val_from, len(z) - 1)
    actual = passengers[HISTORY:]
    naive = np.concatenate([passengers[HISTORY - SEASON:HISTORY]] * 2)  # 1958, twice
    # the same transform with a constant growth: what the LSTM would give if it learned only the mean
    drift = naive * np.exp(mean * np.repeat([1, 2], SEASON))
    runs = []
    for seed in range(args.seeds):
        net = StackedRNN("lstm", 1, HIDDEN, seed=seed)
        model = Sequential([("lstm", Recurrent(net)), ("dense", Dense(HIDDEN[-1], 1, seed=seed))])
        history = fit(model, mean_squared_error, train, val, Adam(lr=0.003), epochs=args.epochs,
                      batch_size=16, clip_norm=1.0, early_stopping=EarlyStopping(30), seed=seed,
                      progress=False)
        prediction, layer_states = forecast(model, z, mean, std, passengers)
        runs.append({"history": history, "forecast": prediction, "layer_states": layer_states,
                     "scores": scores(prediction, actual)})
        s = runs[-1]["scores"]
        print(f"seed {seed}: MAE {s['MAE']:.1f}, RMSE {s['RMSE']:.1f}, MAPE {s['MAPE %']:.1f}% "
              f"(best epoch {history['best_epoch'] + 1}; {time.time() - start:.0f} s)")
    mean_forecast = np.mean([r["forecast"] for r in runs], axis=0)
    table = {"seasonal naive (1958 repeated)": scores(naive, actual),
             "seasonal naive x mean yearly growth of history": scores(drift, actual),
             f"stacked LSTM {HIDDEN}, mean of {args.seeds} seeds' forecasts": scores(mean_forecast, actual),
             f"stacked LSTM {HIDDEN}, median seed": {
                 k: float(np.median([r["scores"][k] for r in runs])) for k in ("MAE", "RMSE", "MAPE %")}}
    print("\nforecast error over 1959-1960 (24 months, thousands of passengers)")
    print(f"{'':<52}{'MAE':>8}{'RMSE':>8}{'MAPE %':>8}")
    for name, s in table.items():
        print(f"{name:<52}{s['MAE']:>8.1f}{s['RMSE']:>8.1f}{s['MAPE %']:>8.1f}")
    plot(args.output_dir, months, passengers, runs, naive, mean_forecast, net)
    summary = {"table": table, "seconds": time.time() - start,
               "runs": [{"scores": r["scores"], "forecast": r["forecast"].tolist(),
                         "history": r["history"]} for r in runs]}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
