"""The exercise ladder: every reference passes, every untouched stub is "not started", every
catalogued bug, applied as a learner would have written it, is caught, located and named; the
checker's stages; the folder (start never overwrites, hints unlock in order, progress survives a
restart) and the command line."""
import numpy as np
import pytest

from minirnn.__main__ import main
from minirnn.cells import rnn_step_backward, rnn_step_forward
from minirnn.exercises import EXERCISES, ExerciseFolder, check, get_exercise

BUGS = [(exercise, task, bug) for exercise in EXERCISES.values() for task in exercise.tasks
        for bug in task.bugs]


@pytest.mark.parametrize("name", EXERCISES)
def test_the_reference_passes_and_the_stub_is_not_started(name, tmp_path):
    exercise = get_exercise(name)
    report = check(name, dict(exercise.reference))
    assert report.status == "passed", report
    folder = ExerciseFolder(tmp_path)
    folder.start(exercise)
    report = check(name, folder.load(exercise))
    assert report.status == "not started", report
    assert sum(len(task.bugs) for task in exercise.tasks) >= 2


@pytest.mark.parametrize("exercise, task, bug", BUGS,
                         ids=[f"{e.name}: {b.name}" for e, _, b in BUGS])
def test_every_catalogued_bug_is_caught_located_and_named(exercise, task, bug):
    report = check(exercise.name, {task.function: bug.function})
    text = str(report)
    assert report.status == "failing" and report.misconception == bug.name, text
    for output in task.outputs:
        assert (f"{output.name}: relative error" in text) == (output.name in bug.wrong), \
            (output.name, text)
    for fragment in (bug.at,) if isinstance(bug.at, str) else bug.at:
        assert fragment in text, (fragment, text)


def test_a_bug_written_the_learners_way_is_named():
    """Not the catalogue's own mutation: a learner who caches a and uses 1 - a^2."""
    def rnn_step_forward_with_a(x, prev_h, Wx, Wh, b):
        next_h, cache = rnn_step_forward(x, prev_h, Wx, Wh, b)
        return next_h, dict(cache, a=x @ Wx + prev_h @ Wh + b)

    def rnn_step_backward(dnext_h, cache):
        da = dnext_h * (1 - cache["a"] ** 2)
        return (da @ cache["Wx"].T, da @ cache["Wh"].T, cache["x"].T @ da,
                cache["prev_h"].T @ da, da.sum(axis=0))

    report = check("rnn_step", {"rnn_step_forward": rnn_step_forward_with_a,
                                "rnn_step_backward": rnn_step_backward})
    assert report.misconception == "the derivative taken on the pre-activation", report
    assert "rnn_step_forward: passed" in str(report)
    assert "centered differences of the forward (yours, where you wrote it)" in str(report)


def test_the_stages_say_what_is_wrong():
    def wrong_count(dnext_h, cache):
        return rnn_step_backward(dnext_h, cache)[:4]

    def batch_kept(dnext_h, cache):
        dx, dprev_h, dWx, dWh, db = rnn_step_backward(dnext_h, cache)
        return dx, dprev_h, dWx, dWh, np.broadcast_to(db, dnext_h.shape).copy()

    def float32(dnext_h, cache):
        return tuple(g.astype(np.float32) for g in rnn_step_backward(dnext_h, cache))

    def broken(dnext_h, cache):
        return cache["missing"]

    cases = {wrong_count: "rnn_step_backward must return a tuple of 5 (dx, dprev_h, dWx, dWh, db);"
                          " it returned a tuple of length 4",
             batch_kept: "db has shape (3, 5); expected (5,) = (H,) with N=3, D=4, H=5",
             broken: "rnn_step_backward raised KeyError: 'missing' (line"}
    for function, message in cases.items():
        function.__name__ = "rnn_step_backward"
        report = check("rnn_step", function)
        assert report.status == "failing" and message in str(report), str(report)
    float32.__name__ = "rnn_step_backward"
    assert "warning: dx is float32" in str(check("rnn_step", float32))


def test_bad_calls_are_clear_errors():
    with pytest.raises(ValueError, match="no exercise 'nope'; the ladder is: numerical_gradient"):
        check("nope", rnn_step_backward)
    with pytest.raises(ValueError, match=r"rnn_bptt checks \['rnn_backward'\]; got "
                                         r"\['rnn_step_backward'\]"):
        check("rnn_bptt", rnn_step_backward)
    with pytest.raises(TypeError, match="solution must be a function"):
        check("rnn_step", 3)


def test_start_never_overwrites_and_hints_unlock_in_order(tmp_path):
    exercise = get_exercise("rnn_step")
    folder = ExerciseFolder(tmp_path)
    path, copied = folder.start(exercise)
    assert copied and path.exists()
    path.write_text(path.read_text() + "\n# my work\n")
    _, copied = folder.start(exercise)
    assert not copied and path.read_text().endswith("# my work\n")
    assert folder.next_hint(exercise).startswith("hint 1 unlocks after 1 more failed check")
    buggy = {"rnn_step_backward": EXERCISES["rnn_step"].tasks[1].bugs[0].function}
    for k in (1, 2):
        folder.record(exercise, check("rnn_step", buggy))
        assert folder.next_hint(exercise) == f"hint {k} of 3: {exercise.hints[k - 1]}"
    assert folder.next_hint(exercise).startswith("hint 3 unlocks after 1 more failed check")
    restarted = ExerciseFolder(tmp_path)  # progress survives a restart
    assert restarted.entry(exercise) == {"status": "failing", "failed_checks": 2,
                                         "hints_shown": 2}
    folder.record(exercise, check("rnn_step", buggy))
    assert restarted.next_hint(exercise).startswith("hint 3 of 3")
    assert restarted.next_hint(exercise).startswith("all 3 hints shown")


def test_command_line_session(tmp_path, capsys):
    """start, a failing check with its located report, a hint, a passing check, the list."""
    run = lambda *args: (main(["exercises", *args, "--dir", str(tmp_path)]),  # noqa: E731
                         capsys.readouterr().out)[1]
    assert "copied the stub" in run("start", "rnn_bptt")
    source = tmp_path / "rnn_bptt.py"
    stub = source.read_text()
    body = ("    dnext = np.zeros_like(cache['h0'])\n"
            "    for t in reversed(range(x.shape[1])):\n"
            "        dx[:, t], dnext, dWx_t, dWh_t, db_t = rnn_step_backward(\n"
            "            dh[:, t]{carry}, step_cache(RNN, cache, t))\n"
            "        dWx += dWx_t\n        dWh += dWh_t\n        db += db_t\n"
            "    return dx, dnext, dWx, dWh, db\n")
    todo = stub[stub.index("    # TODO"):]
    source.write_text(stub.replace(todo, body.format(carry="")))
    out = run("check", "rnn_bptt")
    assert "rnn_bptt: failing" in out and "dx first diverges at t = 3" in out
    assert "known mistake: the carry into h_{t-1} forgotten" in out
    assert run("hint", "rnn_bptt").startswith("hint 1 of 3")
    source.write_text(stub.replace(todo, body.format(carry=" + dnext")))
    assert "rnn_bptt: passed" in run("check", "rnn_bptt")
    assert run("signatures").startswith("| exercise | bug | wrong | right | where |")
    listing = run("list")
    assert f"{'rnn_bptt':22s} passed" in listing and f"1 of {len(EXERCISES)} passed" in listing


def test_locate_names_the_gate_blocks_and_the_diverging_step():
    """What the LSTM and GRU rungs will rely on: an error in the f block of a (D, 4H) gradient,
    and a (N, T, D) gradient wrong from t = 2 back."""
    from minirnn.exercises.checker import locate
    from minirnn.exercises.exercise import Output

    expected = np.random.default_rng(0).standard_normal((3, 8))
    got = expected.copy()
    got[:, 2:4] += 0.1  # H = 2: columns 2..3 are the f block
    lines = locate(Output("dWx", "(D, 4H)", gates=("i", "f", "g", "o")), got, expected, 1e-7)
    assert lines[-1] == "  dWx: gate blocks off: f (right: i, g, o)"
    expected = np.random.default_rng(1).standard_normal((2, 5, 3))
    got = expected.copy()
    got[:, :3] *= 1.5
    lines = locate(Output("dx", "(N, T, D)", time_axis=True), got, expected, 1e-7)
    assert lines[-1] == "  dx first diverges at t = 2 (scanning back from t = 4; steps 3..4 match)"


PLANTED_FIXES = {"bug_hunt_1": ("dz = dnext_h * (n - prev_h)", "dz = dnext_h * (prev_h - n)"),
                 "bug_hunt_2": ("dprev_c", "dnext_c"),  # in the unpacking and the return
                 "bug_hunt_3": ('dWh = cache["prev_h"].T @ da',
                                'dWh = (cache["prev_h"] * m).T @ da')}


@pytest.mark.parametrize("name", PLANTED_FIXES)
def test_a_bug_hunt_names_its_planted_bug_and_passes_once_fixed(name, tmp_path):
    """The shipped stub, run (under another source, so not 'unchanged'), is caught and named as
    its exercise's first catalogued bug; the stub with the planted line fixed passes."""
    exercise = get_exercise(name)
    task = exercise.tasks[0]
    folder = ExerciseFolder(tmp_path)
    path, _ = folder.start(exercise)
    shipped = getattr(folder.load(exercise), task.function)

    def edited(*args):  # the same function, as a learner's first edit would leave it
        return shipped(*args)

    report = check(name, {task.function: edited})
    assert report.misconception == task.bugs[0].name, report
    at = task.bugs[0].at
    assert all(fragment in str(report) for fragment in ((at,) if isinstance(at, str) else at))
    wrong, right = PLANTED_FIXES[name]
    assert path.read_text().count(wrong) == (2 if name == "bug_hunt_2" else 1)
    path.write_text(path.read_text().replace(wrong, right))
    assert check(name, folder.load(exercise)).status == "passed"


def test_the_catalogue_has_at_least_35_bugs_two_per_exercise():
    assert len(BUGS) >= 35
    assert all(sum(len(t.bugs) for t in e.tasks) >= 2 for e in EXERCISES.values())
    assert len(EXERCISES) >= 17 and list(EXERCISES)[-3:] == ["bug_hunt_1", "bug_hunt_2",
                                                            "bug_hunt_3"]


WITNESSED = [(e, t) for e in EXERCISES.values() for t in e.tasks if t.torch is not None]


@pytest.mark.torch
@pytest.mark.parametrize("exercise, task", WITNESSED,
                         ids=[f"{e.name}: {t.function}" for e, t in WITNESSED])
def test_pytorch_autograd_agrees_with_every_witnessed_reference(exercise, task):
    pytest.importorskip("torch")
    from minirnn.gradcheck import relative_error

    for saturated in (False, True):
        inputs = exercise.make_inputs(np.random.default_rng(5), saturated)
        expected = task.run(exercise.reference, dict(inputs))
        witness = task.torch(dict(inputs))
        names = [o.name for o in task.outputs]
        assert set(witness) == set(names)
        for name, value in zip(names, expected):
            assert relative_error(value, witness[name]) < 1e-12, name
    report = check(exercise.name, {task.function: task.bugs[0].function})
    assert "PyTorch autograd, a fourth opinion: the reference is within" in str(report)


def test_without_torch_the_report_says_how_to_get_a_fourth_opinion(monkeypatch):
    import minirnn.exercises.checker as checker

    monkeypatch.setattr(checker, "torch_available", lambda: False)
    report = check("rnn_bptt", {"rnn_backward": get_exercise("rnn_bptt").tasks[0].bugs[0].function})
    assert "(install torch for a fourth opinion: PyTorch's autograd)" in str(report)


def test_the_docs_bug_signature_table_is_what_the_checker_measures():
    from pathlib import Path

    from minirnn.exercises.signatures import signature_table

    doc = (Path(__file__).parents[1] / "docs" / "exercises.md").read_text()
    table = doc.split("a test keeps it equal -->\n")[1].split("\n<!-- end signatures -->")[0]
    assert table == signature_table()
