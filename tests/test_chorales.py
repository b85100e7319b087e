"""Bach chorales: the MusicXML reader on a hand-made score, the loader's shapes and its split by
chorale, and demos/chorales.py's main on a tiny setting."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import data
from minirnn.data.chorales import steps_to_fermata, transposition
from minirnn.data.make_chorale_files import parse_chorale

DEMO = Path(__file__).resolve().parent.parent / "demos" / "chorales.py"


def part(pid, notes):
    return f'<part id="{pid}"><measure number="0"><attributes><divisions>2</divisions>' \
           f'<key><fifths>1</fifths><mode>major</mode></key><time><beats>4</beats>' \
           f'<beat-type>4</beat-type></time></attributes>{notes}</measure></part>'


def note(step, octave, duration, tie=None, fermata=False, rest=False):
    pitch = "<rest/>" if rest else f"<pitch><step>{step}</step><octave>{octave}</octave></pitch>"
    tie = f'<tie type="{tie}"/>' if tie else ""
    notations = "<notations><fermata/></notations>" if fermata else ""
    return f"<note>{pitch}<duration>{duration}</duration>{tie}{notations}</note>"


def score(soprano):
    """Soprano as given; alto, tenor, bass each one whole note (a 4/4 bar, divisions 2)."""
    names = "".join(f'<score-part id="P{i}"><part-name>{n}</part-name></score-part>'
                    for i, n in enumerate(("Soprano", "Alto", "Tenor", "Bass")))
    others = "".join(part(f"P{i}", note(s, o, 8)) for i, (s, o) in
                     enumerate((("E", 4), ("C", 4), ("C", 3)), start=1))
    return f"<score-partwise><part-list>{names}</part-list>{part('P0', soprano)}{others}" \
           f"</score-partwise>"


def test_parser_on_a_hand_made_bar():
    # G4 quarter, A4 eighth tied to an A4 eighth, an eighth rest, B4 dotted quarter with fermata
    soprano = (note("G", 4, 2) + note("A", 4, 1, tie="start") + note("A", 4, 1, tie="stop")
               + note(None, None, 1, rest=True) + note("B", 4, 3, fermata=True))
    chorale = parse_chorale(score(soprano))
    np.testing.assert_array_equal(chorale["pitches"][:, 0], [67, 67, 69, 69, 0, 71, 71, 71])
    np.testing.assert_array_equal(chorale["onsets"][:, 0], [1, 0, 1, 0, 0, 1, 0, 0])
    np.testing.assert_array_equal(chorale["pitches"][:, 3], [48] * 8)
    np.testing.assert_array_equal(chorale["fermatas"], [0, 0, 0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(chorale["bar_positions"], np.arange(8))
    assert chorale["metre"] == (4, 4) and chorale["key"] == (1, 0)


def test_an_upbeat_ends_on_the_bar_line():
    chorale = parse_chorale(score(note("G", 4, 2)).replace(note("E", 4, 8), note("E", 4, 2))
                            .replace(note("C", 4, 8), note("C", 4, 2))
                            .replace(note("C", 3, 8), note("C", 3, 2)))
    np.testing.assert_array_equal(chorale["bar_positions"], [6, 7])


def test_a_score_without_the_four_voices_is_left_out():
    assert parse_chorale(score(note("G", 4, 8)).replace("Soprano", "Violin")) is None


def test_steps_to_fermata_and_transposition():
    np.testing.assert_array_equal(steps_to_fermata([0, 0, 1, 1, 0, 1, 0]),
                                  [2, 1, 0, 0, 1, 0, -1])
    assert transposition(1) == 5 and transposition(-1) == -5 and transposition(2) == -2


def test_loader_shapes_and_split_by_chorale():
    w = data.load_chorale_windows(length=32)
    assert len(set(w["train_chorales"]) | set(w["test_chorales"])) == 399
    assert not set(w["train_chorales"]) & set(w["test_chorales"])
    assert not set(w["chorale_train"]) & set(w["chorale_test"])
    for split in ("train", "test"):
        N = len(w[f"chorale_{split}"])
        assert w[f"pitches_{split}"].shape == (N, 32, 4)
        assert w[f"bar_position_{split}"].shape == (N, 32)
        assert w[f"bar_position_{split}"].max() < 8
    assert set(data.load_chorale_windows(length=32, seed=1)["test_chorales"]) \
        != set(w["test_chorales"])
    with pytest.raises(ValueError, match="length"):
        data.load_chorale_windows(length=10_000)


def test_demo_main_on_a_tiny_setting(tmp_path):
    main = runpy.run_path(str(DEMO), run_name="chorales_demo")["main"]
    summary = main([str(tmp_path), "--epochs", "1", "--hidden", "8", "--max-windows", "40",
                    "--seeds", "2"])
    for name in ("probe_table.png", "continuation.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["verdict"] in {"held", "partly", "did not hold"}
    # the trigram is trained on the melodies only; it beats chance (1/31) by far
    assert saved["next_step"]["trigram (add-one)"]["accuracy"] > 0.3
    assert len(summary["probes"]["bar position"]) == 4
    assert len(summary["probes_per_seed"]) == 2 and len(summary["verdict_per_seed"]) == 2
    mean = np.mean([t["bass pitch class"] for t in summary["probes_per_seed"]], axis=0)
    assert np.allclose(summary["probes"]["bass pitch class"], mean)
    assert len(summary["slowness"]) == 3 and all(g > 0 for g in summary["slowness"])
