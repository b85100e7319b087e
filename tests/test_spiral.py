"""The interleaved spirals (minirnn.data.spirals) on hand-checked cases, the width solver of
demos/spiral.py on hand-counted parameters, and the demo's main on a tiny setting."""
import json
import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import data

DEMO = Path(__file__).resolve().parent.parent / "demos" / "spiral.py"


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="spiral_demo")


# ---------------------------------------------------------------- the generator

def test_spirals_shapes_labels_and_reading():
    task = data.spirals(7, classes=3, seed=0)
    assert task["x"].shape == (7, 2, 1) and task["x"].dtype == np.float64
    assert task["labels"].tolist() == [0, 1, 2, 0, 1, 2, 0]
    assert task["labels"].dtype == np.int64
    assert task["points"].shape == task["clean"].shape == (7, 2) and task["s"].shape == (7,)
    # the reading: x at step 0, y at step 1, one feature each
    np.testing.assert_array_equal(task["x"][:, 0, 0], task["points"][:, 0])
    np.testing.assert_array_equal(task["x"][:, 1, 0], task["points"][:, 1])
    assert data.spiral_sequences([[0.3, -0.4]]).tolist() == [[[0.3], [-0.4]]]


@pytest.mark.parametrize("classes, turns, radius", [(2, 1.0, 1.0), (2, 2.5, 4.0), (3, 1.5, 0.5)])
def test_noise_free_points_lie_on_the_arm_of_their_class(classes, turns, radius):
    task = data.spirals(60, classes=classes, turns=turns, radius=radius, noise_std=0.0, seed=3)
    np.testing.assert_array_equal(task["points"], task["clean"])
    for (px, py), s, k in zip(task["points"], task["s"], task["labels"]):
        # polar coordinates, computed apart from the generator: radius * s, angle on arm k
        assert math.hypot(px, py) == pytest.approx(radius * s, abs=1e-12)
        turns_off = (math.atan2(py, px) / (2 * math.pi) - turns * s - k / classes) % 1.0
        assert min(turns_off, 1.0 - turns_off) < 1e-9
        # and on no other arm
        for other in set(range(classes)) - {k}:
            off = (math.atan2(py, px) / (2 * math.pi) - turns * s - other / classes) % 1.0
            assert min(off, 1.0 - off) > 0.1


def test_hand_checked_arms():
    """One turn out to radius 2, s = 1/4: arm 0 is a quarter turn round, at (0, 2 / 4); arm 1 is
    opposite it."""
    task = data.spirals(4000, classes=2, turns=1.0, radius=2.0, noise_std=0.0, seed=0)
    near = np.abs(task["s"] - 0.25) < 1e-3
    for k, expected in [(0, (0.0, 0.5)), (1, (0.0, -0.5))]:
        points = task["points"][near & (task["labels"] == k)]
        assert len(points) > 0
        np.testing.assert_allclose(points, np.broadcast_to(expected, points.shape), atol=3e-3)


def test_noise_is_gaussian_around_the_arm_with_the_given_sd():
    task = data.spirals(20000, noise_std=0.05, seed=1)
    offsets = task["points"] - task["clean"]
    assert abs(offsets.mean()) < 0.002
    assert offsets.std(axis=0) == pytest.approx([0.05, 0.05], rel=0.03)


def test_one_coordinate_alone_does_not_tell_the_class():
    """A majority vote in 40 bins of one coordinate stays far below what both give."""
    task = data.spirals(20000, seed=2)
    for coordinate in (0, 1):
        bins = np.digitize(task["points"][:, coordinate], np.linspace(-1.1, 1.1, 41))
        correct = sum(max(np.sum(task["labels"][bins == b] == 0),
                          np.sum(task["labels"][bins == b] == 1)) for b in np.unique(bins))
        assert correct / len(bins) < 0.75


def test_spirals_reproducible_by_seed():
    a, b, c = (data.spirals(50, seed=seed) for seed in (4, 4, 5))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.allclose(a["points"], c["points"])


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(num=0), ValueError, "num"),
    (dict(num=2.0), ValueError, "num"),
    (dict(num=10, classes=1), ValueError, "classes"),
    (dict(num=10, turns=0), ValueError, "turns"),
    (dict(num=10, turns="3"), TypeError, "turns"),
    (dict(num=10, turns=float("nan")), ValueError, "turns"),
    (dict(num=10, radius=0.0), ValueError, "radius"),
    (dict(num=10, radius=None), TypeError, "radius"),
    (dict(num=10, noise_std=-0.1), ValueError, "noise_std"),
])
def test_spirals_refuse_bad_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        data.spirals(**kwargs)


def test_spiral_sequences_refuse_a_bad_shape():
    with pytest.raises(ValueError, match=r"points must have shape \(N, 2\)"):
        data.spiral_sequences(np.zeros((3, 3)))


# ---------------------------------------------------------------- matched parameter counts

def test_parameter_count_by_hand(demo):
    count = demo["parameter_count"]
    # rnn, H = 8: Wx 1x8 + Wh 8x8 + b 8 = 80; head W 8x2 + b 2 = 18
    assert count("rnn", [8]) == 98
    # gru [5, 4]: (15 + 75 + 15 + bhn 5) + (5x12 + 4x12 + 12 + bhn 4) + (4x2 + 2)
    assert count("gru", [5, 4]) == 110 + 124 + 10
    # lstm, H = 16: 4 x 16 x (1 + 16 + 1) + 16 x 2 + 2
    assert count("lstm", [16]) == 1186
    assert count("rnn", [3], input_size=2, classes=3) == 3 * (2 + 3 + 1) + 3 * 3 + 3


@pytest.mark.parametrize("cell, sizes", [("rnn", [7, 6, 6]), ("gru", [5, 4]),
                                         ("lstm", [4, 4, 3, 3])])
def test_parameter_count_matches_a_built_model(demo, cell, sizes):
    model = demo["build"](cell, sizes, 2, 0)
    assert demo["parameter_count"](cell, sizes) == sum(p.size for p in model.params.values())


def test_stack_widths_by_hand(demo):
    widths = demo["stack_widths"]
    # 98 (rnn, one layer of 8): [4, 3, 3, 3] = 24 + 24 + 21 + 21 + head 8 = 98 exactly
    assert widths("rnn", 4, 98) == [4, 3, 3, 3]
    # two layers: [5, 5] = 35 + 55 + 12 = 102 is nearer 98 than [5, 4] = 85
    assert widths("rnn", 2, 98) == [5, 5]
    for cell in ("rnn", "gru", "lstm"):
        assert widths(cell, 1, demo["parameter_count"](cell, [16])) == [16]


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
@pytest.mark.parametrize("width, tolerance", [(10, 0.06), (16, 0.035), (32, 0.025)])
def test_stack_widths_match_the_demos_budgets_within_a_few_percent(demo, cell, width, tolerance):
    budget = demo["parameter_count"](cell, [width])
    for depth in (2, 3, 4):
        sizes = demo["stack_widths"](cell, depth, budget)
        assert len(sizes) == depth and max(sizes) - min(sizes) <= 1 and max(sizes) < width
        assert abs(demo["parameter_count"](cell, sizes) / budget - 1) < tolerance


def test_stack_widths_refuse_bad_arguments(demo):
    with pytest.raises(ValueError, match="depth"):
        demo["stack_widths"]("rnn", 0, 100)
    with pytest.raises(TypeError, match="budget"):
        demo["stack_widths"]("rnn", 2, 100.0)


# ---------------------------------------------------------------- the demo, tiny

def test_demo_main_on_a_tiny_setting(demo, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    demo["main"]([str(tmp_path), "--widths", "16", "--seeds", "2", "--epochs", "1",
                  "--workers", "1"])
    results = json.loads((tmp_path / "results.json").read_text())
    models = {(m["cell"], m["depth"]): m for m in results["models"]}
    assert set(models) == {(c, d) for c in ("rnn", "gru", "lstm") for d in (1, 2, 3, 4)}
    for (cell, depth), m in models.items():
        assert len(m["hidden_sizes"]) == depth
        assert m["params"] == demo["parameter_count"](cell, m["hidden_sizes"])
        assert m["budget"] == demo["parameter_count"](cell, [16])
        assert abs(m["params"] / m["budget"] - 1) < 0.035
        assert len(m["test"]) == 2 and 0.0 <= m["test_mean"] <= 1.0
    assert len(results["runs"]) == 24
    for name in ("decision_regions_w16.png", "accuracy_vs_params.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "Verdict: " in printed and any(word in printed for word in ("YES", "NO", "MIXED"))
