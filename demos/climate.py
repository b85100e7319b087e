"""Climate: fast weather, slow teleconnections. Do a stacked LSTM's lower layers carry the fast
weather and its upper layers the slow cycles (the annual cycle; the 2-7 year El Nino band)?

Three NOAA series (public domain), each forecast several steps ahead:
    seattle  daily highest temperature in Seattle, 2012-2015 (vega_datasets); test: 2015
    elnino   monthly Nino 1+2 sea-surface temperature, 1950-2010 (statsmodels); test: 2001-2010
    co2      weekly Mauna Loa CO2, 1958-2001 (statsmodels; 59 missing weeks filled linearly),
             less a quadratic trend fitted on the training years; test: 1996-2001
Each series is standardised with its training part's mean and sd; every model below sees the
same standardised series z and is scored, on the held-out final years, by the RMSE in the
series' own unit of its forecast of z_{t+h} from z_0 .. z_t (forecast origins t in the test).

Model: Stacked LSTM [12, 12, 12] -> Dense(K), one output per horizon h_1 .. h_K, trained with
`fit` (Adam, squared error) on windows of the training part only, one network per seed. Its
only input is z_t: no calendar, so any season it knows it has to keep in its state.
Baselines, fitted on the training part by least squares:
    persistence          z_{t+h} = z_t
    climatology          z_{t+h} = the mean annual cycle, c + sum_{k<=3} a_k cos(2 pi k y) +
                         b_k sin(2 pi k y) at the target's decimal year y
    seasonal AR          per horizon, z_{t+h} ~ the climatology's harmonics + z_t .. z_{t-p+1}
                         + z_{t+h-s} (s: one year of steps), a direct multi-step forecast

The claim, measured on each trained stack (layer 1 the lowest, layer L the top):
    tau          impulse_response on windows of the training part: tau_h(L) > tau_h(1), and
                 by a larger factor than in the same seed's untrained stack
    frequency    frequency_response, gain of h: the slow/fast gain ratio (mean gain at periods
                 >= 0.8 years over the mean gain at periods < 0.25 years) is larger at layer L,
                 and by a larger factor than in the untrained stack
    horizon      lesion_recurrence(memoryless=True) of each layer: the relative rise of the test
                 MSE at the shortest horizon minus that at the longest is larger for layer 1
    band         the same lesions: the share of the forecast's power each changes in the fast
                 band (periods < 0.25 y) over its share in the slow bands (annual 0.8-1.25 y,
                 El Nino 2-7 y) is larger for layer 1
The untrained stack of each seed is the control of the first two checks: a gain multiplies down
a stack of low-pass layers, so tau and the slow/fast ratio grow with depth before any training.
A check holds on a series when it holds for most seeds; the claim held if every check holds on
most series, did not hold if no check holds on any series, partly otherwise.

    python demos/climate.py OUTPUT_DIR [--seeds 5] [--first-seed 0] [--epochs 50]

Shape legend: T time steps of a series, K horizons, L layers, F frequencies, N windows.

Prints the forecast table, the per-layer probe table and the verdict; writes spectra.png,
lesions.png, forecasts.png and results.json.
"""
import argparse
import json
import time
from pathlib import Path

import numpy as np

from minirnn import StackedRNN, data
from minirnn.analysis import frequency_response, impulse_response, lesion_recurrence
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.plot import add_note, describe_networks, pyplot, save
from minirnn.threads import set_num_threads
from minirnn.train import fit

HIDDEN = [12, 12, 12]
HARMONICS = 3          # of the annual cycle, in the climatology and the seasonal AR
WARMUP = 24            # steps of each window (and of each full run) left out of the loss / bands
BANDS = {"fast": (0.0, 0.25), "annual": (0.8, 1.25), "El Nino": (2.0, 7.0)}  # periods, years
SLOW_PERIOD = 0.8      # the frequency check's slow side: periods >= this many years
IMPULSE = dict(t0=20, num_steps=220)
SERIES = {  # test years, horizons (steps), AR lags, training window (length, stride), longest
            # period of the frequency sweep (steps)
    "seattle": dict(title="Seattle daily highest temperature", unit="deg C", test_years=1,
                    horizons=(1, 3, 7, 30), lags=3, window=(180, 15), longest=730),
    "elnino": dict(title="Nino 1+2 SST (monthly)", unit="deg C", test_years=10,
                   horizons=(1, 3, 6, 12), lags=3, window=(120, 6), longest=96),
    "co2": dict(title="Mauna Loa CO2 (weekly, detrended)", unit="ppm", test_years=6,
                horizons=(1, 4, 13, 26), lags=4, window=(208, 13), longest=365),
}
CHECKS = ("tau", "frequency", "horizon", "band")


# ---------------------------------------------------------------- the series

def load_series(name):
    """{"dates", "years" (T,) decimal years, "values" (T,) in the unit, "trend" (T,) removed,
    "train_end", "steps_per_year"} for one of SERIES."""
    if name == "seattle":
        weather = data.load_seattle_weather()
        dates, values = weather["date"], weather["temp_max"]
    elif name == "elnino":
        nino = data.load_elnino()
        dates, values = nino["date"], nino["sst"]
    else:
        co2 = data.load_co2()
        dates, values = co2["date"], data.fill_gaps(co2["co2"])
    years = data.decimal_year(dates)
    train_end = data.final_years_split(dates, SERIES[name]["test_years"])
    trend = np.zeros(len(values))
    if name == "co2":  # a quadratic in time, fitted on the training years only
        trend = np.polyval(np.polyfit(years[:train_end], values[:train_end], 2), years)
    return {"dates": dates, "years": years, "values": values, "trend": trend,
            "train_end": train_end, "steps_per_year": 1.0 / np.median(np.diff(years))}


def standardise(values, train_end):
    """(z (T,), mean, sd): values in units of the training part's mean and sd."""
    mean, sd = values[:train_end].mean(), values[:train_end].std()
    return (values - mean) / sd, mean, sd


def horizon_targets(z, horizons):
    """(T, K) z_{t+h_k} at each origin t; NaN past the end."""
    targets = np.full((len(z), len(horizons)), np.nan)
    for k, h in enumerate(horizons):
        targets[:len(z) - h, k] = z[h:]
    return targets


def training_windows(z, train_end, horizons, length, stride):
    """Inputs (N, length, 1), targets (N, length, K) and mask (N, length) from windows whose
    every target lies in the training part; the first WARMUP steps of a window are masked."""
    targets = horizon_targets(z[:train_end], horizons)
    last = train_end - max(horizons) - length
    if last < 0:
        raise ValueError(f"the training part ({train_end} steps) must hold a window of {length} "
                         f"steps and its longest horizon {max(horizons)}")
    starts = range(0, last + 1, stride)
    x = np.stack([z[s:s + length] for s in starts])[..., None]
    y = np.stack([targets[s:s + length] for s in starts])
    mask = np.ones(x.shape[:2], dtype=bool)
    mask[:, :WARMUP] = False
    return x, y, mask


# ---------------------------------------------------------------- baselines

def harmonics(years, count=HARMONICS):
    """(T, 2 count) cos(2 pi k y), sin(2 pi k y) for k = 1 .. count at decimal years y (T,)."""
    angle = 2 * np.pi * np.outer(years, np.arange(1, count + 1))
    return np.concatenate([np.cos(angle), np.sin(angle)], axis=1)


def seasonal_ar_design(z, years, horizon, lags, season, count=HARMONICS):
    """The direct seasonal AR's design at every origin t: (T, 1 + 2 count + lags + 1) rows
    [1, harmonics(y_{t+h}), z_t, .., z_{t-lags+1}, z_{t+h-season}] (NaN where a lag falls before
    the start; season 0 drops the last column) and the target z_{t+h} (T,) (NaN past the end)."""
    T = len(z)
    step = np.median(np.diff(years))
    lagged = np.full((T, lags), np.nan)
    for i in range(lags):
        lagged[i:, i] = z[:T - i]
    columns = [np.ones((T, 1)), harmonics(years + horizon * step, count), lagged]
    if season:
        seasonal = np.full((T, 1), np.nan)
        back = season - horizon  # z_{t+h-s} = z_{t-(s-h)}
        if back < 0:
            raise ValueError(f"season must be >= horizon (the seasonal lag is in the past); "
                             f"got season={season}, horizon={horizon}")
        seasonal[back:, 0] = z[:T - back]
        columns.append(seasonal)
    target = np.full(T, np.nan)
    target[:T - horizon] = z[horizon:]
    return np.concatenate(columns, axis=1), target


def fit_seasonal_ar(z, years, train_end, horizon, lags, season, count=HARMONICS):
    """Least-squares coefficients of the direct seasonal AR on the origins whose target lies in
    z[:train_end]; returns (coefficients (1 + 2 count + lags + [1],), forecasts (T,))."""
    if len(z) != len(years):
        raise ValueError(f"z and years must have the same length; got {len(z)} and {len(years)}")
    design, target = seasonal_ar_design(z, years, horizon, lags, season, count)
    rows = np.isfinite(design).all(axis=1) & (np.arange(len(z)) + horizon < train_end)
    coefficients = np.linalg.lstsq(design[rows], target[rows], rcond=None)[0]
    return coefficients, design @ coefficients


def baseline_forecasts(z, years, train_end, horizons, lags, steps_per_year):
    """{baseline name: (T, K) forecasts of z_{t+h_k} at each origin t}."""
    climatology = np.stack([fit_seasonal_ar(z, years, train_end, h, 0, 0)[1]
                            for h in horizons], axis=1)
    season = int(round(steps_per_year))
    return {"persistence": np.repeat(z[:, None], len(horizons), axis=1),
            "climatology": climatology,
            "seasonal AR": np.stack([fit_seasonal_ar(z, years, train_end, h, lags, season)[1]
                                     for h in horizons], axis=1)}


def test_rmse(forecasts, targets, train_end, sd):
    """(K,) RMSE in the series' unit over the test origins (t >= train_end, target known)."""
    errors = (forecasts[train_end:] - targets[train_end:]) ** 2
    return np.sqrt(np.nanmean(errors, axis=0)) * sd


# ---------------------------------------------------------------- the model and its probes

def new_stack(seed):
    return StackedRNN("lstm", 1, HIDDEN, seed=seed, forget_bias=1.0)


def train_forecaster(z, train_end, horizons, window, epochs, seed):
    """Stacked LSTM -> Dense(K) trained on windows of the training part; returns the model."""
    net = new_stack(seed)
    model = Sequential([("lstm", Recurrent(net)),
                        ("head", Dense(HIDDEN[-1], len(horizons), seed=seed))])
    fit(model, mean_squared_error, training_windows(z, train_end, horizons, *window), None,
        Adam(lr=0.005), epochs=epochs, batch_size=16, clip_norm=1.0, seed=seed,
        progress=False, num_threads=1)
    return model


def run_forecasts(model, net, z):
    """(T, K) the model's forecasts over the whole series, with `net` as its recurrent part (one
    run from zero states: the test years are read after the training years)."""
    out, _ = Sequential([("lstm", Recurrent(net)), ("head", model.layers["head"])]).forward(
        z[None, :, None])
    return out[0]


def band_power(signal, steps_per_year):
    """{band: the power of signal (T,) at periods in the band (years); nan if no FFT bin}."""
    power = np.abs(np.fft.rfft(signal - signal.mean())) ** 2
    cycles = np.fft.rfftfreq(len(signal), d=1.0 / steps_per_year)  # per year
    with np.errstate(divide="ignore"):
        periods = 1.0 / cycles
    return {band: float(power[(periods >= lo) & (periods < hi)].sum())
            if np.any((periods >= lo) & (periods < hi)) else np.nan
            for band, (lo, hi) in BANDS.items()}


def lesion_effects(model, z, targets, train_end, steps_per_year):
    """Per layer l, the memoryless lesion of l: "mse_rise" (K,) the relative rise of the test
    MSE per horizon, and "band_change" {band: the power of the forecast change over the intact
    forecast's power in the band, summed over horizons}."""
    net = model.layers["lstm"].net
    intact = run_forecasts(model, net, z)
    intact_mse = np.nanmean((intact[train_end:] - targets[train_end:]) ** 2, axis=0)
    effects = []
    for l in range(1, net.num_layers + 1):
        lesioned = run_forecasts(model, lesion_recurrence(net, l, memoryless=True), z)
        mse = np.nanmean((lesioned[train_end:] - targets[train_end:]) ** 2, axis=0)
        change, base = {}, {}
        for k in range(intact.shape[1]):
            for band, power in band_power(lesioned[WARMUP:, k] - intact[WARMUP:, k],
                                          steps_per_year).items():
                change[band] = change.get(band, 0.0) + power
            for band, power in band_power(intact[WARMUP:, k], steps_per_year).items():
                base[band] = base.get(band, 0.0) + power
        effects.append({"mse_rise": mse / intact_mse - 1,
                        "band_change": {b: change[b] / base[b] for b in BANDS}})
    return intact, effects


def sweep_periods(longest):
    """(F,) periods in steps, log-spaced from 2 to `longest`."""
    return np.geomspace(2.0, longest, 28)


def layer_probes(net, z, train_end, longest, steps_per_year):
    """{"tau": (L,) impulse time constants of h on windows of the training part; "gain": (L, F)
    frequency-response gain of h at sweep_periods; "slow_fast": (L,) mean gain at periods >=
    SLOW_PERIOD years over mean gain at periods < 0.25 years}."""
    length = IMPULSE["num_steps"]
    if train_end < length:
        raise ValueError(f"the training part ({train_end} steps) must hold the impulse run's "
                         f"{length} steps")
    starts = range(0, train_end - length + 1, max(1, (train_end - length) // 8))
    x = np.stack([z[s:s + length] for s in starts])[..., None]
    tau = impulse_response(net, x=x, **IMPULSE).time_constant
    periods = sweep_periods(longest)
    response = frequency_response(net, 2 * np.pi / periods, amplitude=0.1,
                                  num_steps=200 + 2 * int(longest), transient=200)
    years = periods / steps_per_year
    slow, fast = years >= SLOW_PERIOD, years < BANDS["fast"][1]
    return {"tau": tau, "gain": response.gain,
            "slow_fast": response.gain[:, slow].mean(axis=1) / response.gain[:, fast].mean(axis=1)}


def claim_checks(probes, untrained, effects, has_slow_band):
    """{check: bool} for one trained stack and its untrained control (module docstring)."""
    first, top = effects[0], effects[-1]
    horizon_bias = [e["mse_rise"][0] - e["mse_rise"][-1] for e in effects]

    def fast_over_slow(effect):
        slow = [v for b, v in effect["band_change"].items() if b != "fast" and np.isfinite(v)]
        return effect["band_change"]["fast"] / max(np.mean(slow), 1e-12)

    def top_over_bottom(values):
        return values[-1] / values[0]

    return {"tau": bool(probes["tau"][-1] > probes["tau"][0] and top_over_bottom(probes["tau"])
                        > top_over_bottom(untrained["tau"])),
            "frequency": bool(probes["slow_fast"][-1] > probes["slow_fast"][0]
                              and top_over_bottom(probes["slow_fast"])
                              > top_over_bottom(untrained["slow_fast"])),
            "horizon": bool(horizon_bias[0] > horizon_bias[-1]),
            "band": bool(has_slow_band and fast_over_slow(first) > fast_over_slow(top))}


# ---------------------------------------------------------------- one series, all seeds

def run_series(name, seeds, epochs, limit=None):
    """Baselines, and per seed a trained stack with its probes, lesions and checks. limit: keep
    only the last `limit` steps (a small test setting)."""
    settings = SERIES[name]
    series = load_series(name)
    if limit is not None:
        cut = max(0, len(series["values"]) - limit)
        series = {key: value[cut:] if isinstance(value, np.ndarray) else value
                  for key, value in series.items()}
        series["train_end"] -= cut
    train_end, steps_per_year = series["train_end"], series["steps_per_year"]
    z, mean, sd = standardise(series["values"] - series["trend"], train_end)
    horizons = settings["horizons"]
    targets = horizon_targets(z, horizons)
    baselines = baseline_forecasts(z, series["years"], train_end, horizons, settings["lags"],
                                   steps_per_year)
    rmse = {b: test_rmse(f, targets, train_end, sd) for b, f in baselines.items()}
    runs = []
    for seed in seeds:
        model = train_forecaster(z, train_end, horizons, settings["window"], epochs, seed)
        intact, effects = lesion_effects(model, z, targets, train_end, steps_per_year)
        probes = layer_probes(model.layers["lstm"].net, z, train_end, settings["longest"],
                              steps_per_year)
        untrained = layer_probes(new_stack(seed), z, train_end, settings["longest"],
                                 steps_per_year)
        has_slow = any(np.isfinite(v) for b, v in effects[0]["band_change"].items() if b != "fast")
        runs.append({"seed": seed, "model": model, "forecast": intact,
                     "rmse": test_rmse(intact, targets, train_end, sd), "probes": probes,
                     "untrained": untrained,
                     "effects": effects, "checks": claim_checks(probes, untrained, effects, has_slow)})
    return {"series": series, "z": z, "sd": sd, "mean": mean, "targets": targets,
            "baselines": baselines, "baseline_rmse": rmse, "runs": runs}


def series_checks(result):
    """{check: True if it held for most seeds}."""
    runs = result["runs"]
    return {c: sum(r["checks"][c] for r in runs) > len(runs) / 2 for c in CHECKS}


def verdict(held):
    """held: {series: {check: bool}} -> 'held', 'partly' or 'did not hold'."""
    by_check = [sum(h[c] for h in held.values()) > len(held) / 2 for c in CHECKS]
    if all(by_check):
        return "held"
    if not any(any(h.values()) for h in held.values()):
        return "did not hold"
    return "partly"


# ---------------------------------------------------------------- printing

def print_forecasts(results):
    print("\nforecast RMSE on the held-out final years (series' unit; LSTM: mean +- sd over "
          "seeds)")
    for name, result in results.items():
        settings, series = SERIES[name], result["series"]
        test = series["dates"][series["train_end"]]
        print(f"\n{settings['title']} ({settings['unit']}); train {series['dates'][0]} .. "
              f"{series['dates'][series['train_end'] - 1]}, test {test} .. "
              f"{series['dates'][-1]}")
        print(f"  {'model':<14}" + "".join(f"{'h=' + str(h):>14}" for h in settings["horizons"]))
        rmse = np.array([r["rmse"] for r in result["runs"]])
        print(f"  {'stacked LSTM':<14}" + "".join(f"{m:8.3f} +-{s:4.2f}"
                                                  for m, s in zip(rmse.mean(0), rmse.std(0))))
        for baseline, values in result["baseline_rmse"].items():
            print(f"  {baseline:<14}" + "".join(f"{v:14.3f}" for v in values))


def print_probes(results):
    print("\nper layer, mean over seeds: impulse tau_h (steps); slow/fast gain ratio; lesion "
          "(memoryless) -> relative test-MSE rise at the shortest / longest horizon; forecast "
          "power changed in the fast / annual / El Nino band")
    for name, result in results.items():
        runs = result["runs"]
        print(f"\n{SERIES[name]['title']}")
        print(f"  {'layer':<6}{'tau_h':>8}{'slow/fast':>11}{'rise h_1':>10}{'rise h_K':>10}"
              + "".join(f"{b:>10}" for b in BANDS))
        for l in range(len(HIDDEN)):
            tau = np.mean([r["probes"]["tau"][l] for r in runs])
            ratio = np.mean([r["probes"]["slow_fast"][l] for r in runs])
            rise = np.mean([r["effects"][l]["mse_rise"][[0, -1]] for r in runs], axis=0)
            bands = [np.mean([r["effects"][l]["band_change"][b] for r in runs]) for b in BANDS]
            print(f"  {l + 1:<6}{tau:8.2f}{ratio:11.3g}{rise[0]:+10.2f}{rise[1]:+10.2f}"
                  + "".join(f"{v:10.3g}" for v in bands))
        tau = np.mean([r["untrained"]["tau"] for r in runs], axis=0)
        ratio = np.mean([r["untrained"]["slow_fast"] for r in runs], axis=0)
        print("  untrained stacks (same seeds): tau_h " + ", ".join(f"{v:.2f}" for v in tau)
              + "; slow/fast " + ", ".join(f"{v:.3g}" for v in ratio))
        print("  checks held (seeds): " + ", ".join(
            f"{c} {sum(r['checks'][c] for r in runs)}/{len(runs)}" for c in CHECKS))


# ---------------------------------------------------------------- figures

def data_spectrum(z, train_end, steps_per_year):
    """(cycles per year (F',), periodogram (F',)) of the training part of z, DC dropped."""
    part = z[:train_end] - z[:train_end].mean()
    return (np.fft.rfftfreq(len(part), d=1.0 / steps_per_year)[1:],
            np.abs(np.fft.rfft(part))[1:] ** 2 / len(part))


def plot_spectra(results, path, note):
    """Per series: the data's periodogram and each layer's gain (seed mean), on cycles/year."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.4),
                             layout="constrained", squeeze=False)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(HIDDEN)))
    for ax, (name, result) in zip(axes[0], results.items()):
        per_year = result["series"]["steps_per_year"]
        cycles, power = data_spectrum(result["z"], result["series"]["train_end"], per_year)
        ax.loglog(cycles, power / power.max(), color="0.7", lw=0.6, label="data (train)")
        sweep = per_year / sweep_periods(SERIES[name]["longest"])
        gain = np.mean([r["probes"]["gain"] for r in result["runs"]], axis=0)
        for l, (row, color) in enumerate(zip(gain, colors), start=1):
            ax.loglog(sweep, row / row.max(), color=color, lw=1.6, label=f"layer {l} gain")
        for lo, hi in (BANDS["annual"], BANDS["El Nino"]):
            ax.axvspan(1 / hi, 1 / lo, color="tab:orange", alpha=0.12, lw=0)
        ax.set_title(SERIES[name]["title"], fontsize=9)
        ax.set_xlabel("cycles per year")
        ax.minorticks_off()
    axes[0, 0].set_ylabel("relative power / gain")
    axes[0, 0].legend(fontsize=7)
    add_note(fig, "Grey: the periodogram of the standardised training part; coloured: each "
                  "layer's frequency-response gain of h (mean over seeds), each curve scaled to "
                  "its maximum. Shaded: the annual (0.8-1.25 y) and El Nino (2-7 y) bands.", note)
    return save(fig, path)


def plot_lesions(results, path, note):
    """Per series: each layer's lesion, relative test-MSE rise per horizon (seed mean)."""
    plt = pyplot()
    fig, axes = plt.subplots(1, len(results), figsize=(4.2 * len(results), 3.2),
                             layout="constrained", squeeze=False)
    colors = plt.get_cmap("viridis")(np.linspace(0.0, 0.85, len(HIDDEN)))
    for ax, (name, result) in zip(axes[0], results.items()):
        horizons = SERIES[name]["horizons"]
        x = np.arange(len(horizons))
        width = 0.8 / len(HIDDEN)
        for l, color in enumerate(colors):
            rise = np.mean([r["effects"][l]["mse_rise"] for r in result["runs"]], axis=0)
            ax.bar(x + (l - (len(HIDDEN) - 1) / 2) * width, rise, width, color=color,
                   label=f"layer {l + 1} lesioned")
        ax.set_xticks(x, [f"h={h}" for h in horizons])
        ax.set_title(SERIES[name]["title"], fontsize=9)
        ax.axhline(0, color="k", lw=0.6)
    axes[0, 0].set_ylabel("test MSE / intact MSE - 1")
    axes[0, 0].legend(fontsize=7)
    add_note(fig, "Each layer made memoryless in turn (recurrent weights 0, forget gate closed); "
                  "bars: the relative rise of the held-out MSE at each horizon (steps), mean "
                  "over seeds.", note)
    return save(fig, path)


def plot_forecasts(results, path, note):
    """Per series: the test years, the truth and the forecasts at the second horizon."""
    plt = pyplot()
    fig, axes = plt.subplots(len(results), 1, figsize=(8, 1.9 * len(results)),
                             layout="constrained", squeeze=False)
    for ax, (name, result) in zip(axes[:, 0], results.items()):
        series, k = result["series"], 1
        h, start = SERIES[name]["horizons"][k], series["train_end"]
        back = lambda f: f * result["sd"] + result["mean"]  # standardised -> anomaly unit
        t = series["years"][start:len(series["years"]) - h] + h / series["steps_per_year"]
        ax.plot(t, back(result["targets"][start:len(t) + start, k]), color="k", lw=0.8,
                label="truth")
        for label, forecast, color in (
                ("stacked LSTM (seed 0)", result["runs"][0]["forecast"], "tab:blue"),
                ("seasonal AR", result["baselines"]["seasonal AR"], "tab:orange"),
                ("persistence", result["baselines"]["persistence"], "0.6")):
            ax.plot(t, back(forecast[start:len(t) + start, k]), color=color, lw=0.8, label=label)
        ax.set_title(f"{SERIES[name]['title']}: forecasts {h} steps ahead over the test years",
                     fontsize=9)
        ax.set_ylabel(SERIES[name]["unit"])
    axes[0, 0].legend(fontsize=7, ncol=4)
    add_note(fig, "CO2 is shown less its quadratic trend (fitted on the training years).", note)
    return save(fig, path)


# ---------------------------------------------------------------- main

def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output_dir", type=Path)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=50)
    parser.add_argument("--series", nargs="+", default=list(SERIES), choices=list(SERIES))
    parser.add_argument("--limit", type=int, default=None,
                        help="keep only the last LIMIT steps of each series (tests)")
    args = parser.parse_args(argv)
    if args.seeds < 1 or args.epochs < 0 or args.first_seed < 0:
        parser.error(f"--seeds must be >= 1, --epochs and --first-seed >= 0; got --seeds "
                     f"{args.seeds}, --epochs {args.epochs}, --first-seed {args.first_seed}")
    return args


def main(argv=None):
    args = parse_args(argv)
    args.output_dir.mkdir(parents=True, exist_ok=True)
    set_num_threads(1)  # one BLAS thread: the machine is shared (threads.py)
    start = time.time()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    results = {name: run_series(name, seeds, args.epochs, args.limit) for name in args.series}
    print_forecasts(results)
    print_probes(results)
    held = {name: series_checks(result) for name, result in results.items()}
    outcome = verdict(held)
    print("\nchecks held on most seeds: " + "; ".join(
        f"{name}: " + ", ".join(c for c in CHECKS if h[c]) if any(h.values()) else f"{name}: none"
        for name, h in held.items()))
    print(f"verdict: lower layers fast weather, upper layers slow cycles -- {outcome}")
    first = next(iter(results.values()))["runs"][0]["model"].layers["lstm"].net
    note = (f"Model: {describe_networks([first])} $\\to$ Dense(K), {args.epochs} epochs, Adam "
            f"lr 0.005; seeds {seeds[0]}..{seeds[-1]}.")
    figures = [plot_spectra(results, args.output_dir / "spectra.png", note),
               plot_lesions(results, args.output_dir / "lesions.png", note),
               plot_forecasts(results, args.output_dir / "forecasts.png", note)]
    summary = {
        "settings": {"hidden": HIDDEN, "epochs": args.epochs, "seeds": list(seeds),
                     "bands_years": BANDS, "series": SERIES, "limit": args.limit},
        "series": {name: {"length": len(r["z"]), "train_end": r["series"]["train_end"],
                          "test_start": str(r["series"]["dates"][r["series"]["train_end"]]),
                          "lstm_rmse": [run["rmse"].tolist() for run in r["runs"]],
                          "baseline_rmse": {b: v.tolist() for b, v in r["baseline_rmse"].items()},
                          "tau_h": [run["probes"]["tau"].tolist() for run in r["runs"]],
                          "slow_fast": [run["probes"]["slow_fast"].tolist() for run in r["runs"]],
                          "untrained_tau_h": [run["untrained"]["tau"].tolist() for run in r["runs"]],
                          "untrained_slow_fast": [run["untrained"]["slow_fast"].tolist()
                                                  for run in r["runs"]],
                          "lesions": [[{"mse_rise": e["mse_rise"].tolist(),
                                        "band_change": e["band_change"]} for e in run["effects"]]
                                      for run in r["runs"]],
                          "checks": [run["checks"] for run in r["runs"]], "held": held[name]}
                   for name, r in results.items()},
        "verdict": outcome, "figures": [str(f) for f in figures],
        "seconds": time.time() - start}
    (args.output_dir / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"figures and results.json in {args.output_dir}; total {time.time() - start:.0f} s")
    return summary


if __name__ == "__main__":
    main()
