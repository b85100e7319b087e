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
