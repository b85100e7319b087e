"""The gradient checker itself: it agrees with known derivatives and catches wrong ones."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.gradcheck import (check_gradients, check_model, numerical_gradient, random_indices,
                               relative_error)


def test_numerical_gradient_of_a_known_function(rng):
    W = rng.standard_normal((3, 4))
    x = rng.standard_normal((5, 3))
    dout = rng.standard_normal((5, 4))
    numeric = numerical_gradient(lambda: np.tanh(x @ W), W, dout)
    exact = x.T @ (dout * (1 - np.tanh(x @ W) ** 2))
    assert relative_error(exact, numeric) < 1e-9
    assert not np.shares_memory(numeric, W) and np.all(np.isfinite(W))


def test_sparse_mode_checks_only_the_chosen_coordinates(rng):
    p = rng.standard_normal((6, 7))
    indices = random_indices(p.shape, 5, rng)
    assert len(set(indices)) == 5
    numeric = numerical_gradient(lambda: p ** 3, p, np.ones_like(p), indices=indices)
    np.testing.assert_allclose(numeric, [3 * p[i] ** 2 for i in indices], rtol=1e-8)


def test_relative_error_floor_and_scale():
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error(np.array([1.0, 0.0]), np.array([1.0, 1e-12])) < 1e-11
    assert relative_error(np.array([1.0]), np.array([2.0])) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="differ in shape"):
        relative_error(np.zeros(2), np.zeros(3))


def test_a_wrong_gradient_is_caught(rng):
    x = rng.standard_normal(4)
    dout = rng.standard_normal(4)
    errors = check_gradients(lambda: np.sin(x), {"x": x}, {"x": dout * np.cos(x) * 1.01}, dout)
    assert errors["x"] > 1e-3
    errors = check_gradients(lambda: np.sin(x), {"x": x}, {"x": dout * np.cos(x)}, dout)
    assert errors["x"] < 1e-9


def test_check_model_reports_a_broken_backward(rng, monkeypatch):
    net = StackedRNN("rnn", 2, [3, 3], backend="numpy")
    x = rng.standard_normal((2, 4, 2))
    assert check_model(net, x).worst()[1] < 1e-6
    original = net.backward

    def broken(*args, **kwargs):  # a classic bug: forgetting the second source of gradient
        dx, grads, dinit = original(*args, **kwargs)
        grads["layers.1.fwd.Wh"] = grads["layers.1.fwd.Wh"] * 0.5
        return dx, grads, dinit

    monkeypatch.setattr(net, "backward", broken)
    report = check_model(net, x)
    assert report.worst()[0] == "layers.1.fwd.Wh" and report.worst()[1] > 0.1
    assert "worst: layers.1.fwd.Wh" in str(report)


def test_check_model_sparse_mode_and_float32_net(rng):
    net = StackedRNN("gru", 3, [4], dtype=np.float32, backend="numpy")
    report = check_model(net, rng.standard_normal((2, 3, 3)), num_coords=4)
    assert report.worst()[1] < 1e-6
    assert net.params["layers.1.fwd.Wx"].dtype == np.float32  # the net itself is untouched


EDITED_RUN = """
import json, numpy as np
from minirnn import StackedRNN
from minirnn.gradcheck import check_model
net = StackedRNN("lstm", 2, [3, 3], seed=0)          # the default backend is numba ...
x = np.random.default_rng(0).standard_normal((2, 4, 2))
print(json.dumps({"net backend": net.backend, **check_model(net, x)}))  # ... check_model: numpy
"""


def test_an_edit_to_the_reference_step_backward_shows_in_check_model(tmp_path):
    """A learner edits lstm_step_backward in a copy of the package (the output gate's gradient
    halved) and runs check_model with no options on a network whose default backend is numba:
    the report shows the bug, in the top layer's parameters and in everything below them. (The
    kernels are not used, so nothing needs compiling.)"""
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    import minirnn

    package = Path(minirnn.__file__).parent
    shutil.copytree(package, tmp_path / "minirnn", ignore=shutil.ignore_patterns("__pycache__"))
    source = tmp_path / "minirnn" / "cells" / "lstm.py"
    text = source.read_text()
    line = '    do = dnext_h * cache["tanh_c"]\n'
    assert text.count(line) == 1
    source.write_text(text.replace(line, '    do = 0.5 * dnext_h * cache["tanh_c"]\n'))
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    env.pop("MINIRNN_BACKEND", None)
    result = subprocess.run([sys.executable, "-c", EDITED_RUN], env=env, check=True,
                            capture_output=True, text=True, cwd=tmp_path)
    report = json.loads(result.stdout)
    assert report.pop("net backend") == "numba"
    assert report["layers.2.fwd.b"] > 1e-2 and report["x"] > 1e-2, report
    intact = check_model(StackedRNN("lstm", 2, [3, 3], seed=0),
                         np.random.default_rng(0).standard_normal((2, 4, 2)))
    assert max(intact.values()) < 1e-7


def test_check_model_on_both_backends_reports_each(rng):
    net = StackedRNN("gru", 2, [3, 2], seed=1)
    x = rng.standard_normal((2, 4, 2))
    reports = check_model(net, x, backend=("numpy", "numba"))
    assert list(reports) == ["numpy", "numba"]
    assert set(reports["numpy"]) == set(reports["numba"]) == set(check_model(net, x))
    backend, name, error = reports.worst()
    assert error == max(max(r.values()) for r in reports.values()) and error < 1e-6
    assert error == reports[backend][name]
    lines = str(reports).splitlines()
    assert lines[0].split()[-2:] == ["numpy", "numba"] and lines[-1].endswith(f"({backend})")
