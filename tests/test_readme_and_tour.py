"""The README's example runs as printed, and the tour reports a passing gradient check."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_readme_ten_line_example_runs_and_its_check_passes(monkeypatch):
    monkeypatch.setenv("MINIRNN_BACKEND", "numpy")
    text = (ROOT / "README.md").read_text()
    example = re.search(r"## Ten lines\s+```python\n(.*?)```", text, re.S).group(1)
    assert len([line for line in example.splitlines() if line.strip()]) <= 10
    namespace = {}
    exec(compile(example, "README.md", "exec"), namespace)  # the example asserts its own check
    assert namespace["report"].worst()[1] < 1e-6
    assert set(namespace["grads"]) == set(namespace["net"].params)


def test_tour_command_runs_every_stop(tmp_path, monkeypatch, capsys):
    from minirnn.__main__ import main
    from minirnn.tour import STOPS

    monkeypatch.setenv("MINIRNN_BACKEND", "numpy")
    main(["tour", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert out.count("\n== ") == len(STOPS)
    error = float(re.search(r"gradient check: worst relative error (\S+)", out).group(1))
    assert error < 1e-6
