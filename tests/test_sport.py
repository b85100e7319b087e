"""Sport (the cycling workout): the extraction helpers and the encoders on hand-checked cases, the
shipped ride and its time split (no leakage), the demo's n-gram baseline on a hand case, and the
demo's main on a tiny setting."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import data
from minirnn.data import cycling
from minirnn.data.make_cycling_files import cycling_arrays, elapsed_seconds, on_second_grid

DEMO = Path(__file__).resolve().parent.parent / "demos" / "sport.py"


@pytest.fixture(scope="module")
def ride():
    return data.load_cycling_workout()


@pytest.fixture(scope="module")
def split():
    return data.load_workout_windows(length=120, stride=20, horizon=15)


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="sport_demo")


# ---------------------------------------------------------------- extraction and encoders

def test_elapsed_seconds_and_the_second_grid():
    assert elapsed_seconds("0 days 00:00:00") == 0
    assert elapsed_seconds("0 days 01:13:09") == 4389
    assert elapsed_seconds("1 days 00:00:02") == 86402
    with pytest.raises(ValueError, match="text"):
        elapsed_seconds("0 days 00:00:01.5")
    # second 1 logged twice (the later row wins), second 3 skipped (repeats second 2)
    grid = on_second_grid([0, 1, 1, 2, 4], [10, 11, 12, 13, 15])
    assert grid.tolist() == [10, 12, 13, 13, 15]
    with pytest.raises(ValueError, match="seconds"):
        on_second_grid([0, 2, 1], [1, 2, 3])


def test_cycling_arrays_on_a_hand_made_csv():
    text = ("\n".join([",position_lat,position_long,altitude,power,cadence,distance,speed,time",
                       "0,1,2,12.5,100,80,1.0,2.25,0 days 00:00:00",
                       "1,1,2,12.5,120,81,3.0,2.5,0 days 00:00:02"]) + "\n")
    arrays = cycling_arrays(text)
    assert set(arrays) == {"power", "cadence", "speed", "altitude"}      # no GPS, no distance
    assert arrays["power"].tolist() == [100, 100, 120] and arrays["power"].dtype == np.uint16
    assert arrays["cadence"].tolist() == [80, 80, 81]
    np.testing.assert_allclose(arrays["speed"], [2.25, 2.25, 2.5])


def test_trailing_mean_zones_and_phases_hand_cases():
    np.testing.assert_allclose(cycling.trailing_mean([1, 2, 3, 4], 2), [1, 1.5, 2.5, 3.5])
    np.testing.assert_allclose(cycling.trailing_mean([4, 0, 2], 5), [4, 2, 2])
    with pytest.raises(ValueError, match="width"):
        cycling.trailing_mean([1, 2], 0)
    assert cycling.power_zone([0, 89.9, 90, 129, 130, 180, 299, 300, 450]).tolist() == \
        [0, 0, 1, 1, 2, 3, 3, 4, 4]
    # the 5-s mean of 80, 80, 200, 200, 200 crosses 90 at the third second and 130 at the fourth
    assert cycling.zone_symbols(np.array([80, 80, 200, 200, 200.0])).tolist() == [0, 0, 1, 2, 2]
    names = [cycling.PHASE_NAMES[p] for p in cycling.phase_of([0, 1199, 1200, 2579, 2580, 4391])]
    assert names == ["warm-up", "warm-up", "openers", "recovery", "test", "cool-down"]
    with pytest.raises(ValueError, match="seconds"):
        cycling.phase_of([-1])


# ---------------------------------------------------------------- the shipped ride

def test_ride_shapes_values_and_phases(ride):
    assert set(ride) == {"power", "cadence", "speed", "altitude", "phase"}
    for values in ride.values():
        assert values.shape == (4392,)
    assert ride["power"].max() == 432 and ride["cadence"].max() == 105
    # the trainer held the plan's target powers: recovery and interval within a few watts
    for name, watts in (("recovery", 105.3), ("interval", 230.0), ("test", 248.0)):
        rows = ride["phase"] == cycling.PHASE_NAMES.index(name)
        assert ride["power"][rows].mean() == pytest.approx(watts, abs=0.05)
    assert np.bincount(ride["phase"]).tolist() == [1200, 180, 900, 300, 1200, 612]


def test_windows_shapes_and_targets(split, ride):
    assert split["x_train"].shape == (104, 120, 3) and split["y_train"].shape == (104, 120)
    assert split["x_test"].shape == (1, 4392 - cycling.HALF - 15, 3)
    assert split["y_test"].shape == split["x_test"].shape[:2]
    symbols = cycling.zone_symbols(ride["power"])
    # window 3 starts at second 60: its inputs are seconds 60..179, its targets 75..194
    start = split["start_train"][3]
    assert start == 60
    np.testing.assert_allclose(split["x_train"][3, :, 0] * split["std"][0] + split["mean"][0],
                               ride["power"][60:180])
    np.testing.assert_array_equal(split["y_train"][3], symbols[75:195])
    np.testing.assert_array_equal(split["y_test"][0], symbols[cycling.HALF + 15:])


def test_no_leakage_across_the_half(split, ride, monkeypatch):
    """No training input or target second reaches the second half; the test sequence begins at
    it; the standardisation uses the first half only; scrambling the second half changes no
    training array."""
    last_input = split["start_train"].max() + 119
    assert last_input + 15 <= cycling.HALF - 1
    assert split["start_test"].tolist() == [cycling.HALF]
    first_half = np.stack([ride[name][:cycling.HALF] for name in cycling.FEATURES], axis=1)
    np.testing.assert_allclose(split["mean"], first_half.mean(axis=0))
    np.testing.assert_allclose(split["std"], first_half.std(axis=0))
    rng = np.random.default_rng(0)
    scrambled = {name: np.concatenate([values[:cycling.HALF], rng.permutation(
        values[cycling.HALF:])]) for name, values in ride.items()}
    monkeypatch.setattr(cycling, "load_cycling_workout", lambda: scrambled)
    again = cycling.load_workout_windows(length=120, stride=20, horizon=15)
    for key in ("x_train", "y_train", "start_train", "mean", "std"):
        np.testing.assert_array_equal(again[key], split[key])
    assert not np.array_equal(again["x_test"], split["x_test"])


@pytest.mark.parametrize("kwargs, name", [({"length": 1}, "length"), ({"stride": 0}, "stride"),
                                          ({"horizon": -1}, "horizon"),
                                          ({"length": 2200}, "length")])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        data.load_workout_windows(**kwargs)


# ---------------------------------------------------------------- the demo

def test_ngram_hand_case(demo):
    """Contexts (now, 5 s ago, 10 s ago). After (1, 1, 1) comes 2 twice and 1 once; after
    (1, 0, 0) comes 0; the unseen (3, 3, 3) backs off to the overall counts, where 2 (3 of 5)
    wins; the unseen (1, 2, 2) backs off to the prefix (1,), where 2 (2 of 4) wins."""
    contexts = np.array([[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 0, 0], [0, 0, 0]])
    table = demo["ngram_fit"](contexts, np.array([2, 2, 1, 0, 2]))
    assert table[(1, 1, 1)] == {2: 2, 1: 1} and table[()] == {2: 3, 1: 1, 0: 1}
    predicted = demo["ngram_predict"](table, np.array([[1, 1, 1], [1, 0, 0], [3, 3, 3],
                                                       [1, 2, 2]]))
    assert predicted.tolist() == [2, 0, 2, 2]
    # contexts never reach before the start of their half
    assert demo["ngram_contexts"](np.arange(20), np.array([12, 18]), 10).tolist() == \
        [[12, 10, 10], [18, 13, 10]]


def test_demo_main_on_a_tiny_setting(demo, tmp_path):
    summary = demo["main"]([str(tmp_path), "--epochs", "2", "--seeds", "1"])
    for name in ("workout.png", "probes.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["verdicts"]) == {"seed 0"}
    assert set(saved["verdicts"].values()) <= {"held", "partly", "did not hold here"}
    forecast = summary["forecast"]
    # baselines do not depend on training: persistence is right most seconds, never at a change
    assert forecast["persistence"]["accuracy"] > 0.9 and forecast["persistence"]["at changes"] == 0
    assert forecast["majority"]["accuracy"] < 0.5
    assert set(forecast["GRU seed 0"]) == {"accuracy", "at changes", "recovery", "test",
                                           "cool-down"}
    # the input layer is the same for the trained and the untrained network
    for name, by_layer in saved["probes"]["trained"].items():
        assert by_layer["0"] == pytest.approx(saved["probes"]["untrained"][name]["0"])
        assert set(by_layer) == {"0", "1", "2"}
