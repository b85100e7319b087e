"""Smoke test of experiments/counting_protocols.py: the quick setting runs end to end and writes
one row per cell, and the acceptance criterion is right on hand-made outputs."""
import importlib.util
import json
import os

import numpy as np
import pytest

from minirnn.data.tasks import anbn

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "experiments", "counting_protocols.py")


@pytest.fixture(scope="module")
def protocols():
    spec = importlib.util.spec_from_file_location("counting_protocols", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_accepted_on_hand_made_outputs(protocols):
    data = anbn([1, 3])                                   # padded: row 0 has 3 real steps of 7
    logits = np.where(data["allowed"], 4.0, -4.0)
    logits[0, 3:] = 9.0                                   # garbage on padding is ignored
    assert protocols.accepted(logits, data["allowed"], data["valid"]).tolist() == [True, True]
    wrong = logits.copy()
    wrong[1, 4, 3] = 4.0                                  # claims T may follow the 1st of 3 b's
    assert protocols.accepted(wrong, data["allowed"], data["valid"]).tolist() == [True, False]
    missing = logits.copy()
    missing[1, 1, 2] = -4.0                               # after an a, b must be allowed too
    assert protocols.accepted(missing, data["allowed"], data["valid"]).tolist() == [True, False]
    assert protocols.largest_contiguous([1, 2, 3, 4], [True, True, False, True]) == 2
    assert protocols.largest_contiguous([1, 2, 3], [False, True, True]) == 0
    assert protocols.largest_contiguous([1, 2, 3], [True, True, True]) == 3


@pytest.fixture(scope="module")
def protocols_bcd():
    spec = importlib.util.spec_from_file_location(
        "counting_protocols_bcd", os.path.join(os.path.dirname(SCRIPT), "counting_protocols_bcd.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_protocol_b_and_c_criteria_on_hand_made_outputs(protocols_bcd):
    c = protocols_bcd.strings("c", [1, 3])                 # no start symbol: 2n steps
    assert c["valid"].sum(axis=1).tolist() == [2, 6] and c["x"][1, 0, 1] == 1.0
    logits = np.where(c["allowed"], 4.0, -4.0)
    assert protocols_bcd.right("c", logits, c).tolist() == [True, True]
    logits[1, 3, 3] = 4.0                                  # T allowed after the 1st of 3 b's
    assert protocols_bcd.right("c", logits, c).tolist() == [True, False]
    b = protocols_bcd.strings("b", [2])
    logits = np.where(b["allowed"], 0.0, -9.0)             # p ~ 1/|set| on the legal set, ~0 off it
    assert protocols_bcd.right("b", logits, b).tolist() == [True]
    logits[0, 3, 3] = -3.0                                 # T after one of two b's: p ~ 0.05 > 0.01
    assert protocols_bcd.right("b", logits, b).tolist() == [False]
    ok = np.array([True, True, False, True, False])
    assert protocols_bcd.first_failures(ok, np.arange(1, 6)) == [3, 5]
    # the MSE-through-sigmoid gradient of (c) matches finite differences
    logits = np.random.default_rng(0).normal(size=c["allowed"].shape)
    _, grad = protocols_bcd.loss_and_grad("c", logits, c)
    eps, i = 1e-6, (1, 2, 1)
    up, down = logits.copy(), logits.copy()
    up[i] += eps
    down[i] -= eps
    numeric = (protocols_bcd.loss_and_grad("c", up, c)[0]
               - protocols_bcd.loss_and_grad("c", down, c)[0]) / (2 * eps)
    assert np.isclose(grad[i], numeric, rtol=1e-5)


def test_quick_runs_of_b_c_and_the_long_test_d(protocols, protocols_bcd, tmp_path):
    common = ["--seeds", "1", "--workers", "1", "--output-dir", str(tmp_path), "--silent"]
    protocols.main(["--quick", "--cells", "lstm_fb1", "--epochs", "5", "--max-n", "25", *common])
    c = protocols_bcd.main(["c", "--quick", "--cells", "lstm_fb1", "gru", "--samples", "40",
                            "--max-n", "60", *common])
    b = protocols_bcd.main(["b", "--quick", "--cells", "gru", "--train-max", "8", "--max-n", "30",
                            *common])
    for result, max_n in ((c, 60), (b, 30)):
        assert [row["config"] for row in result["summary"]] == result["protocol"]["cells"]
        for run in result["runs"]:
            assert 0 <= run["largest_n"] <= max_n
            assert run["largest_n"] == max_n or run["e"][0] == run["largest_n"] + 1
    assert len(c["runs"][0]["history"]) == 2 and "summary_best_epoch" in c
    assert all(r["best_epoch_largest_n"] >= 0 for r in c["runs"])
    d = protocols_bcd.main(["d", "--quick", "--long-max", "200", "--output-dir", str(tmp_path),
                            "--silent"])
    assert [t["protocol"] for t in d["tests"]] == ["a", "c"]
    for test in d["tests"]:
        assert test["grid"][0] == 2 * test["train_max"] and test["grid"][-1] == 200
        for row in test["rows"]:
            assert len(row["long_accepted"]) == len(test["grid"])
            if row["config"].startswith("lstm"):
                assert 0.0 <= row["probe_train"]["best_unit_abs_r"] <= 1.0
    # (d) reloads the stored parameters: the model it rebuilds scores as the one trained
    run = c["runs"][0]
    model = protocols_bcd.reload(run, "c", 3, 1)
    ok, _ = protocols_bcd.test_ns("c", model, np.arange(1, 61))
    assert protocols.largest_contiguous(np.arange(1, 61), ok) == run["largest_n"]
    assert (tmp_path / "counting_protocol_d.md").read_text().startswith("# Counting protocol (d)")


def test_quick_run_writes_one_row_per_cell(protocols, tmp_path):
    cells = ["lstm_fb1", "gru"]
    result = protocols.main(["--quick", "--seeds", "1", "--cells", *cells, "--epochs", "5",
                             "--max-n", "25", "--workers", "1", "--output-dir", str(tmp_path),
                             "--silent"])
    written = json.loads((tmp_path / "counting_protocol_a.json").read_text())
    assert (tmp_path / "counting_protocol_a.md").read_text().startswith("# Counting protocol (a)")
    assert [row["config"] for row in written["summary"]] == cells
    assert written["summary"] == result["summary"]
    assert "--quick" in written["command"]
    for run in written["runs"]:
        assert 0 <= run["largest_n"] <= 25
        assert run["largest_n"] <= run["accepted_of_max_n"]
        assert run["largest_n"] == 25 or run["first_failures"][0] == run["largest_n"] + 1


def test_timescales_quick_run_perturbation_curves(tmp_path):
    """experiments/timescales_in_depth.py --quick: every layer's perturbation curve is exactly
    zero before the changed character and nonzero from it on, and the rows cover every layer."""
    path = os.path.join(os.path.dirname(SCRIPT), "timescales_in_depth.py")
    spec = importlib.util.spec_from_file_location("timescales_in_depth", path)
    timescales = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(timescales)
    result = timescales.main(["--quick", "--output-dir", str(tmp_path)])
    written = json.loads((tmp_path / "timescales_in_depth.json").read_text())
    assert "--quick" in written["command"] and written["data"]["python"]
    burn_in, layers = written["settings"]["burn_in"], written["settings"]["layers"]
    for run in written["runs"]:
        assert 0 < run["held_out_bpc"] < np.log2(len(timescales.ALPHABET)) + 1
        for curve in run["curves"].values():
            curve = np.array(curve)
            assert curve.shape[0] == layers
            assert np.all(curve[:, :burn_in] == 0.0)           # nothing changed before it
            assert np.all(curve[:, burn_in] > 0.0)             # every layer feels it at once
    assert sorted((r["cell"], r["state"], r["layer"]) for r in result["rows"]) == sorted(
        [("rnn", "h", l) for l in range(1, layers + 1)]
        + [("lstm", s, l) for s in ("h", "c") for l in range(1, layers + 1)])
    assert written["verdict"] in ("held", "partly", "did not hold")


@pytest.fixture(scope="module")
def char_depth():
    path = os.path.join(os.path.dirname(SCRIPT), "char_depth_gating.py")
    spec = importlib.util.spec_from_file_location("char_depth_gating", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_code_labels_on_a_hand_checked_snippet(char_depth):
    text = 'f(a, "x(")\n  g = [1,\n     \'s\']  # (\n'
    labels = char_depth.code_labels(text)
    at = {name: [int(v) for v in values] for name, values in labels.items()}
    quote = text.index('"')
    assert at["in_string"][quote:quote + 4] == [1, 1, 1, 0]       # '"x("': the closer is out
    assert sum(at["in_string"]) == 3 + 2                           # "x( and 's
    assert at["bracket_depth"][text.index("a")] == 1               # inside f(
    assert at["bracket_depth"][text.index('(")') + 1] == 1         # the ( in the string: no
    assert at["bracket_depth"][text.index(")\n")] == 0
    assert at["bracket_depth"][text.index("'s'") - 1] == 1         # inside [ on the next line
    assert at["bracket_depth"][-2] == 0                            # the ( in the comment: no
    assert at["column"][:4] == [0, 1, 2, 3] and at["column"][text.index("\n")] == 0
    g = text.index("g")
    assert at["indent"][g - 2:g + 3] == [1, 2, 2, 2, 2]            # two leading spaces
    s_line = text.index("'s'")
    assert at["indent"][s_line] == 5 and at["indent"][s_line + 4] == 5


def test_width_for_budget_counts_the_models_parameters(char_depth):
    from charlm import CharModel
    for cell, layers in (("rnn", 1), ("gru", 2), ("lstm", 3)):
        width = char_depth.width_for_budget(cell, layers, 8, 5000)
        model = CharModel(cell, [width] * layers, 8, seed=0, readout="top")
        assert model.num_params == char_depth.count_params(cell, layers, width, 8)
        worse = [abs(char_depth.count_params(cell, layers, width + d, 8) - 5000) for d in (-1, 1)]
        assert abs(model.num_params - 5000) <= min(worse)


def test_char_depth_quick_run_writes_every_model(char_depth, tmp_path):
    result = char_depth.main(["--quick", "--cells", "rnn", "lstm", "--layers", "1", "2",
                              "--max-chars", "3000", "--budget", "2500", "--output-dir",
                              str(tmp_path), "--silent"])
    written = json.loads((tmp_path / "char_depth_gating.json").read_text())
    assert [(r["cell"], r["layers"]) for r in written["rows"]] == [
        ("rnn", 1), ("rnn", 2), ("lstm", 1), ("lstm", 2)]
    for row in written["rows"]:
        assert abs(row["params"] - 2500) < 0.05 * 2500
        assert 0 < row["bpc_mean"] < np.log2(96) + 1
    lstm_states = {(u["state"], u["layer"]) for r in result["runs"] if r["cell"] == "lstm"
                   and r["layers"] == 2 for u in r["units"]}
    assert lstm_states == {("h", 1), ("h", 2), ("c", 1), ("c", 2)}
    assert all(-1 <= u["r"] <= 1 for r in result["runs"] for u in r["units"])
    for name in ("bpc", "probes", "unit_in_string", "unit_bracket_depth"):
        assert (tmp_path / f"char_depth_gating_{name}.png").stat().st_size > 1000
