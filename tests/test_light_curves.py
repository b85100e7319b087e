"""Light curves: the labelling rule on hand-made curves (a flare, a box dip at the ephemeris, flat
noise), the noise estimate and the ephemeris fit, the shipped windows (shapes, labels, no
train/test overlap), and demos/light_curves.py's pieces and main on a tiny setting."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import data
from minirnn.data import light_curves as lc
from minirnn.data.make_light_curve_files import fit_ephemeris
from minirnn.gradcheck import numerical_gradient, relative_error

DEMO = Path(__file__).resolve().parent.parent / "demos" / "light_curves.py"
CADENCE = 2.0 / 1440            # 2 minutes, in days
SIGMA = 1e-3                    # the hand-made curves' white noise


@pytest.fixture(scope="module")
def windows():
    return data.load_light_curve_windows()


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="light_curves_demo")


def noisy_curve(days=2.0, seed=0):
    """A flat 2-minute light curve: time (P,), flux 1 + white noise of sd SIGMA."""
    time = np.arange(0.0, days, CADENCE)
    return time, 1.0 + SIGMA * np.random.default_rng(seed).standard_normal(len(time))


def points_of(windows, length=128):
    """The set of point indices the windows cover."""
    return {int(i) for s in windows["start"] for i in range(s, s + length)}


# ---------------------------------------------------------------- the labelling rule, by hand

def test_flat_noise_is_quiet_in_non_overlapping_windows():
    time, flux = noisy_curve()
    windows = lc.label_curve(time, flux)
    assert np.all(windows["y"] == 0) and np.all(np.isnan(windows["event_time"]))
    assert np.all(np.diff(windows["start"]) >= 128)
    assert len(windows["y"]) == len(time) // 128
    assert windows["x"].shape == (len(time) // 128, 128)


def test_a_flare_is_labelled_flare_and_never_quiet():
    time, flux = noisy_curve()
    peak = 700                                         # an instant rise, then a 10-minute decay
    flux[peak:] += 50 * SIGMA * np.exp(-(time[peak:] - time[peak]) / (10 / 1440))
    windows = lc.label_curve(time, flux)
    flares = windows["y"] == 1
    assert flares.sum() >= 8                            # one flare, seen at many positions
    assert np.allclose(windows["event_time"][flares], time[peak])
    assert np.all((windows["start"][flares] <= peak) & (windows["start"][flares] + 128 > peak))
    # every quiet window lies clear of the decay (z is back under 5 sigma within ~30 minutes)
    quiet = windows["start"][windows["y"] == 0]
    assert not np.any((quiet <= peak + 15) & (quiet + 128 > peak))
    assert not np.any(windows["y"] == 2)


def test_a_weak_excursion_is_neither_flare_nor_quiet():
    time, flux = noisy_curve()
    flux[700:705] += 6 * SIGMA                          # 5 points at 6 sigma: under FLARE_SIGMA
    windows = lc.label_curve(time, flux)
    assert not np.any(windows["y"] == 1)
    covering = (windows["start"] <= 704) & (windows["start"] + 128 > 700)
    assert not np.any(covering)


def test_a_box_dip_at_the_ephemeris_is_a_transit():
    time, flux = noisy_curve(days=3.0)
    ephemeris = (1.0, 0.5, 0.1)                         # period, epoch, T14 in days
    phase = (time - 0.5 + 0.5) % 1.0 - 0.5
    flux[np.abs(phase) < 0.05] -= 10 * SIGMA
    windows = lc.label_curve(time, flux, ephemeris)
    transits = windows["y"] == 2
    assert set(np.round(windows["event_time"][transits], 6)) == {0.5, 1.5, 2.5}
    for s, mid in zip(windows["start"][transits], windows["event_time"][transits]):
        assert time[s] < mid - 0.05 and time[s + 127] > mid + 0.05   # the whole transit inside
    assert not np.any(windows["y"] == 1)
    in_transit = set(np.flatnonzero(np.abs(phase) < 0.05))
    assert not points_of({"start": windows["start"][windows["y"] == 0]}) & in_transit
    # the same dip without the ephemeris is no transit, and its windows are not quiet either
    blind = lc.label_curve(time, flux)
    assert not np.any(blind["y"] == 2)
    assert not points_of({"start": blind["start"]}) & in_transit


def test_windows_never_span_a_gap():
    time, flux = noisy_curve()
    keep = np.ones(len(time), bool)
    keep[500:520] = False                               # 40 minutes missing: a new stretch
    windows = lc.label_curve(time[keep], flux[keep])
    after_gap = 500
    assert not np.any((windows["start"] < after_gap) & (windows["start"] + 128 > after_gap))
    assert after_gap in windows["start"] or np.any(windows["start"] > after_gap)


def test_noise_sigma_ignores_a_smooth_trend():
    rng = np.random.default_rng(1)
    noise = 0.01 * rng.standard_normal(20000)
    trend = 0.5 * np.sin(np.arange(20000) / 300.0)
    assert lc.noise_sigma(noise + trend) == pytest.approx(0.01, rel=0.03)
    assert lc.noise_sigma(np.stack([noise, 2 * noise])) == pytest.approx(
        [lc.noise_sigma(noise), 2 * lc.noise_sigma(noise)])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"length": 4}, ValueError, "length must be an int >= 8"),
    ({"stride": 0}, ValueError, "stride must be a positive int"),
    ({"stride": 2.5}, TypeError, "stride must be a positive int"),
    ({"test_parts": (("wasp6", 3),)}, ValueError, "test_parts must hold"),
    ({"test_parts": (("nowhere", None),)}, ValueError, "test_parts must hold"),
])
def test_bad_arguments_are_named(kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_light_curve_windows(**kwargs)


def test_label_curve_checks_its_arguments():
    with pytest.raises(ValueError, match="time and flux must be 1-D of the same length"):
        lc.label_curve(np.arange(10.0), np.ones(9))
    for ephemeris in ((1.0, 0.5), (0.0, 0.5, 0.1), (1.0, np.nan, 0.1)):
        with pytest.raises(ValueError, match="ephemeris must be None or"):
            lc.label_curve(*noisy_curve(), ephemeris=ephemeris)


# ---------------------------------------------------------------- the ephemeris fit

def test_fit_ephemeris_recovers_a_known_ephemeris():
    time, flux = noisy_curve(days=9.0, seed=2)
    period, epoch, t14 = 2.2, 0.7, 0.1
    phase = (time - epoch + period / 2) % period - period / 2
    flux -= 0.02 * np.clip((t14 / 2 - np.abs(phase)) / 0.01, 0.0, 1.0)   # trapezoids, 0.01 d in
    (fitted_period, fitted_epoch, fitted_t14), mids = fit_ephemeris(time, flux)
    assert len(mids) == 4
    assert fitted_period == pytest.approx(period, abs=5e-4)    # mid-times to about a minute
    assert fitted_epoch == pytest.approx(epoch, abs=1e-3)
    assert fitted_t14 == pytest.approx(t14, abs=0.002)


def test_the_shipped_ephemeris_is_fitted_from_the_shipped_transits():
    wasp6 = data.load_light_curves()["wasp6"]
    fitted, mids = fit_ephemeris(wasp6["time"], wasp6["flux"])
    assert fitted == pytest.approx(wasp6["ephemeris"])
    assert len(mids) == 7 and fitted[0] == pytest.approx(3.361, abs=1e-3)


# ---------------------------------------------------------------- the shipped windows

def test_curves_and_windows_have_the_documented_shapes(windows):
    curves = data.load_light_curves()
    assert {k: len(c["time"]) for k, c in curves.items()} == {
        "tic358108509": 18101, "kic10002792_q2": 3760, "kic10002792_q5": 3968,
        "epic211117077": 3079, "wasp6": 18566}
    assert all(np.all(np.diff(c["time"]) > 0) for c in curves.values())
    counts = {split: np.bincount(windows[f"y_{split}"], minlength=3).tolist()
              for split in ("train", "test")}
    assert counts == {"train": [132, 73, 20], "test": [152, 22, 25]}   # the README's numbers
    for split in ("train", "test"):
        N = len(windows[f"y_{split}"])
        assert windows[f"x_{split}"].shape == (N, 128)
        assert np.all(np.isfinite(windows[f"x_{split}"]))
        for key in ("curve", "part", "start", "event_time"):
            assert windows[f"{key}_{split}"].shape == (N,)
        events = windows[f"event_time_{split}"]
        assert np.all(np.isnan(events) == (windows[f"y_{split}"] == 0))


def test_no_test_window_shares_a_point_with_a_training_window(windows):
    curves = data.load_light_curves()
    for key, curve in curves.items():
        covered = {}
        for split in ("train", "test"):
            rows = windows[f"curve_{split}"] == key
            covered[split] = points_of({"start": windows[f"start_{split}"][rows]})
            stretch = lc.stretches(curve["time"])
            starts = windows[f"start_{split}"][rows]
            assert np.all(stretch[starts] == stretch[starts + 127])   # no window spans a gap
        assert not covered["train"] & covered["test"], key
    test_parts = {(c, p) for c, p in zip(windows["curve_test"], windows["part_test"])}
    assert test_parts == {("wasp6", 2), ("tic358108509", 1), ("kic10002792_q5", 1),
                          ("kic10002792_q5", 2)}
    assert not np.any(windows["curve_train"] == "kic10002792_q5")


def test_the_transit_windows_are_the_seven_transits(windows):
    mids = np.concatenate([windows[f"event_time_{s}"][windows[f"y_{s}"] == 2]
                           for s in ("train", "test")])
    assert np.unique(np.round(mids, 4)).size == 7
    assert set(np.unique(windows["curve_train"][windows["y_train"] == 2])) == {"wasp6"}


# ---------------------------------------------------------------- the demo

def test_max_pooled_cross_entropy_gradient(demo):
    rng = np.random.default_rng(3)
    out, labels = rng.standard_normal((4, 6, 3)), np.array([0, 2, 1, 2])
    _, dout = demo["max_pooled_cross_entropy"](out, labels)
    numeric = numerical_gradient(lambda: demo["max_pooled_cross_entropy"](out, labels)[0], out,
                                 1.0)
    assert relative_error(dout, numeric) < 1e-7


def test_top_share_on_hand_cases(demo):
    flat, spike = np.ones((1, 10, 1)), np.zeros((1, 10, 1))
    spike[0, 4] = 3.0
    assert demo["top_share"](flat)[0, 0] == pytest.approx(0.1)
    assert demo["top_share"](spike)[0, 0] == pytest.approx(1.0)


def test_demo_main_on_a_tiny_setting(demo, tmp_path):
    summary = demo["main"]([str(tmp_path), "--epochs", "1", "--seeds", "1"])
    for name in ("sample_windows.png", "saliency_maps.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["verdict"] in {"held", "partly", "did not hold here"} or \
        saved["verdict"].startswith("not measured")
    # the baseline does not depend on the network: it separates the held-out classes
    assert summary["accuracy"]["logistic regression"]["all"] > 0.9
    assert set(saved["lesions"]) == {"intact", "layer 1", "layer 2", "layer 3"}
    for shares in saved["concentration"].values():
        assert len(shares) == 4 and all(0.1 - 1e-12 <= s <= 1 + 1e-12 for s in shares)
