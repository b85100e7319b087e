"""Anomalies on several timescales: the two shipped series and their loaders, the synthetic
spikes-and-drifts generator on hand-checked cases, the scoring rules and baselines of
demos/anomalies.py on hand cases, and the demo's main on a tiny setting."""
import gzip
import hashlib
import json
import runpy
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from minirnn import data

DEMO = Path(__file__).resolve().parent.parent / "demos" / "anomalies.py"


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="anomalies_demo")


# ---------------------------------------------------------------- the shipped series

@pytest.mark.parametrize("folder, name, digest", [
    ("ucr_internal_bleeding", "135_UCR_Anomaly_InternalBleeding16_TEST.csv.gz",
     "fe26577b94896943e8205d04d56bf2511fe05c008df535a1ec3826adff3597e2"),
    ("mitbih_ecg", "mitdb.csv.gz",
     "d4f2539a5e85e1ac1e7f8bba152b5e60a02356282463a8a1c97848ad3e1bb386")])
def test_files_are_the_originals_with_readme_and_licence(folder, name, digest):
    """sha256 of the decompressed file equals the wheel's file (recorded in the README)."""
    files = resources.files("minirnn.data").joinpath("files", folder)
    assert hashlib.sha256(gzip.decompress(files.joinpath(name).read_bytes())).hexdigest() == digest
    readme = files.joinpath("README.md").read_text(encoding="utf-8")
    assert digest in readme
    for heading in ("## Source", "## Licence", "## What was changed"):
        assert heading in readme
    assert "BSD 3-Clause" in files.joinpath("LICENSE.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("load, length, train_end, window", [
    (data.load_ucr_internal_bleeding, 7501, 1200, (4187, 4199)),
    (data.load_mitbih_ecg, 7500, 2500, (6936, 7288))])
def test_loaders_shapes_split_and_window(load, length, train_end, window):
    series = load()
    assert series["series"].shape == series["labels"].shape == (length,)
    assert series["series"].dtype == np.float64 and np.isfinite(series["series"]).all()
    assert series["train_end"] == train_end and series["window"] == window
    start, end = window
    assert train_end < start < end <= length                  # the window is in the test part
    expected = np.zeros(length, dtype=bool)
    expected[start:end] = True
    np.testing.assert_array_equal(series["labels"], expected)  # one run, nothing in training
    assert not series["labels"][:train_end].any()


def test_ucr_values_read_by_eye():
    """The first and last rows of aeon's file, and the training part being exactly the rows that
    aeon's TRAIN file holds (its last three values, read from that file)."""
    series = data.load_ucr_internal_bleeding()["series"]
    np.testing.assert_array_equal(series[:3], [63.73215, 63.35068, 63.02261])
    np.testing.assert_array_equal(series[-3:], [71.2738, 70.81222, 70.52612])
    np.testing.assert_array_equal(series[1197:1200], [69.63348, 71.03348, 72.25418])


def test_mitbih_values_read_by_eye():
    series = data.load_mitbih_ecg()["series"]
    np.testing.assert_array_equal(series[:3], [-0.195, -0.21, -0.21])
    np.testing.assert_array_equal(series[-3:], [-0.415, -0.415, -0.425])
    assert series.min() == -0.595 and series.max() == 1.245


# ---------------------------------------------------------------- the synthetic generator

def test_multiscale_anomalies_hand_case():
    task = data.multiscale_anomalies(T=1400, normal_steps=1000, period=40, spikes=[1010, 1300],
                                     drifts=[1100], drift_length=100, spike_size=2.0,
                                     drift_size=1.0, noise_std=0.0)
    t = np.arange(1400)
    np.testing.assert_allclose(task["normal"], np.sin(2 * np.pi * t / 40)
                               + 0.5 * np.sin(4 * np.pi * t / 40 + 1.0))
    np.testing.assert_array_equal(task["events"], [[1010, 1011, 1], [1100, 1200, 2],
                                                   [1300, 1301, 1]])
    added = task["series"] - task["normal"]
    assert added[1010] == 2.0 and added[1300] == 2.0
    assert added[1100] == 0.0 and added[1150] == pytest.approx(1.0)  # the drift's top, midway
    assert added[1125] == pytest.approx(0.5) and added[1175] == pytest.approx(0.5)
    assert np.all(np.diff(added[1100:1151]) > 0) and np.all(np.diff(added[1150:1200]) < 0)
    assert np.count_nonzero(added) == 2 + 99               # nothing outside the events
    kinds = np.zeros(1400, dtype=np.int64)
    kinds[[1010, 1300]] = 1
    kinds[1100:1200] = 2
    np.testing.assert_array_equal(task["kinds"], kinds)
    assert task["x"].shape == (1, 1400, 1) and task["normal_steps"] == 1000
    assert data.ANOMALY_KINDS[1] == "spike" and data.ANOMALY_KINDS[2] == "drift"


@pytest.mark.parametrize("seed", range(20))
def test_multiscale_anomalies_random_events_fit_the_rules(seed):
    task = data.multiscale_anomalies(T=3000, normal_steps=1000, period=40, num_spikes=5,
                                     num_drifts=3, drift_length=150, seed=seed)
    events = task["events"]
    assert sorted(events[:, 2].tolist()) == [1] * 5 + [2] * 3
    assert np.all(events[:, 1] - events[:, 0] == np.where(events[:, 2] == 1, 1, 150))
    assert events[0, 0] >= 1000 + 40 and events[-1, 1] <= 3000 - 40
    assert np.all(events[1:, 0] - events[:-1, 1] >= 40)          # a period apart
    assert not task["kinds"][:1000].any()
    np.testing.assert_array_equal(task["series"][:1000], task["normal"][:1000])


@pytest.mark.parametrize("kwargs, match", [
    ({"spikes": [999]}, "normal_steps"),
    ({"drifts": [3900]}, "end by T"),
    ({"spikes": [1600], "drifts": [1550]}, "not overlap"),
    ({"T": 2000}, "no room"),
    ({"noise_std": -1.0}, "noise_std"),
    ({"num_spikes": -1}, "num_spikes")])
def test_multiscale_anomalies_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        data.multiscale_anomalies(**kwargs)


# ---------------------------------------------------------------- scoring rules and baselines

def test_ucr_rule_hand_cases(demo):
    hit = demo["ucr_hit"]
    assert hit(4187, (4187, 4199)) and hit(4198, (4187, 4199))
    assert hit(4087, (4187, 4199)) and not hit(4086, (4187, 4199))   # 100 before the first step
    assert hit(4298, (4187, 4199)) and not hit(4299, (4187, 4199))   # 100 after the last step
    score = np.zeros(50)
    score[[3, 30]] = [9.0, 5.0]
    assert demo["top_step"](score, 10) == 30                          # the test part only


def test_top_peaks_and_precision_at_k_hand_cases(demo):
    score = np.zeros(100)
    score[[20, 22, 50, 80]] = [5.0, 4.0, 3.0, 2.0]
    assert demo["top_peaks"](score, 3, 5, 0) == [20, 50, 80]          # 22 is suppressed
    assert demo["top_peaks"](score, 3, 1, 0) == [20, 22, 50]
    assert demo["top_peaks"](score, 2, 5, 30) == [50, 80]
    events = np.array([[20, 21, 1], [49, 52, 1], [70, 90, 2], [95, 96, 1]])
    # spikes: k = 3 peaks 20, 50, 80 find the spikes at 20 and 49..51, not the one at 95
    assert demo["precision_at_k"](score, events, 1, 0, radius=5, tolerance=0) == 2 / 3
    assert demo["precision_at_k"](score, events, 2, 0, radius=5, tolerance=0) == 0.0  # peak 20
    assert demo["precision_at_k"](score, events, 1, 0, radius=5, tolerance=15) == 1.0


def test_alarm_rates_hand_case(demo):
    score = np.zeros(300)
    score[100] = 1.0                        # the largest value of the normal part [50, 150)
    score[[160, 200, 260]] = [2.0, 0.5, 3.0]
    events = np.array([[160, 161, 1], [200, 220, 2], [240, 241, 1]])
    rates = demo["alarm_rates"](score, events, 150, tolerance=5)
    assert rates == {"spike": 0.5, "drift": 0.0, "false": 1 / (300 - 150 - 11 - 30 - 11)}


def test_moving_average_residual_hand_case(demo):
    z = np.array([1.0, 2.0, 3.0, 10.0, 4.0])
    np.testing.assert_allclose(demo["moving_average_residual"](z, width=2),
                               [0.0, 0.0, 1.5, 7.5, 2.5])


def test_discord_finds_the_odd_window_and_matches_a_loop(demo):
    rng = np.random.default_rng(0)
    t = np.arange(400)
    z = np.sin(2 * np.pi * t / 20) + 0.01 * rng.standard_normal(400)
    z[300:305] += np.array([1.0, -1.0, 1.0, -1.0, 1.0])      # a burst in the test part
    length, train_end = 20, 200
    score = demo["discord_scores"](z, length, reference_end=train_end)
    assert 290 <= demo["top_step"](score, train_end) <= 315
    assert demo["dominant_period"](z[:train_end]) == 20
    # the same distances by a plain loop over every pair of windows
    windows = [z[s:s + length] for s in range(len(z) - length + 1)]
    shapes = [(w - w.mean()) / w.std() for w in windows]
    for s in (0, 150, 290, 380):
        nearest = min(np.linalg.norm(shapes[s] - shapes[r]) for r in range(train_end - length + 1)
                      if abs(s - r) >= length)
        assert score[s + length // 2] == pytest.approx(nearest, rel=1e-9)
    assert score[:length // 2].max() == 0.0


def test_dominant_period_of_a_sine(demo):
    assert demo["dominant_period"](np.sin(2 * np.pi * np.arange(500) / 37)) == 37


def test_state_surprise_and_readout_hand_cases(demo):
    rng = np.random.default_rng(1)
    h = rng.standard_normal((400, 2)) * [1.0, 0.1]      # unit 1 varies little on normal data
    h[300] = [0.0, 1.0]                                 # far out along the narrow unit
    surprise = demo["state_surprise"](h, 250)
    assert np.argmax(surprise) == 300 and surprise[300] > 50
    z = np.concatenate([[0.0], 2.0 * h[:-1, 0] + 0.5])  # z_t = 2 h_{t-1, 0} + 0.5 exactly
    z[350] += 3.0
    error = demo["readout_error"](h, z, 250)
    assert error[:350].max() < 1e-20 and error[350] == pytest.approx(9.0)


# ---------------------------------------------------------------- the demo's main

def test_demo_main_on_a_tiny_setting(demo, tmp_path):
    summary = demo["main"]([str(tmp_path), "--epochs", "1", "--seeds", "1"])
    names = ["synthetic_precision.png", "synthetic_scores.png", "ucr_scores.png",
             "mitbih_scores.png", "results.json"]
    assert all((tmp_path / name).is_file() for name in names)
    assert json.loads((tmp_path / "results.json").read_text())["settings"]["epochs"] == 1
    detectors = [f"layer {l} {kind}" for kind in ("surprise", "readout") for l in (1, 2, 3)]
    assert set(detectors) < set(summary["synthetic"])
    for row in summary["synthetic"].values():
        assert all(0.0 <= value <= 1.0 for value in row.values())
    # the baselines need no training: the discord finds both labelled anomalies, and the
    # moving-average residual the fast one (UCR 135)
    assert summary["hits"]["ucr"]["nearest-neighbour discord"]["hits"] == 1
    assert summary["hits"]["mitbih"]["nearest-neighbour discord"]["hits"] == 1
    assert summary["hits"]["ucr"]["moving-average residual"]["top_steps"] == [4191]
    assert summary["series"]["ucr"]["discord_length"] == 183
    assert set(summary["verdicts"]) == {f"{kind} {reading}" for kind in ("surprise", "readout")
                                       for reading in ("by tau_h", "by depth")}
