"""The predictive-coding stack: its backward against centered differences (float64, nonzero
biases and initial states, every cell), the local rule against an independent rollout of one
layer with the rest of the stack held fixed, the loss, training by both rules, and the demo's
main on a tiny setting."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn.cells import get_cell
from minirnn.gradcheck import check_gradients
from minirnn.optim import Adam
from minirnn.predictive_coding import (Learner, PredictiveCodingStack, forecast_jacobian,
                                        prediction_error_loss)
from minirnn.train import fit

DEMO = Path(__file__).resolve().parent.parent / "demos" / "predictive_coding.py"
SIZES = [3, 4, 2]  # layers of different widths, so a wrong feedback slice cannot pass
N, T, D = 2, 5, 2


def stack_and_run(cell, seed=0):
    """A stack, an input, random nonzero initial states, its forward and a random dLoss/de."""
    rng = np.random.default_rng(seed)
    net = PredictiveCodingStack(cell, D, SIZES, seed=seed + 1, forget_bias=0.5)
    x = rng.standard_normal((N, T, D))
    initial = net.random_states(N, rng)
    errors, cache = net.forward(x, initial)
    derrors = rng.standard_normal(errors.shape)
    return net, x, initial, cache, derrors


def named_inputs(net, x, initial, dx, grads, dinitial, layers=None):
    """({name: array}, {name: gradient}) for check_gradients: the parameters of `layers` (all
    by default), x (all layers only) and those layers' initial states."""
    layers = range(1, net.num_layers + 1) if layers is None else layers
    keys = [k for l in layers for k in net.layer_keys(l)]
    inputs, analytic = {k: net.params[k] for k in keys}, {k: grads[k] for k in keys}
    if dx is not None:
        inputs["x"], analytic["x"] = x, dx
    for l in layers:
        for name, state in initial[l - 1].items():
            inputs[f"initial.{l}.{name}"] = state
            analytic[f"initial.{l}.{name}"] = dinitial[l - 1][name]
    return inputs, analytic


# ---------------------------------------------------------------- end-to-end backward

@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_backward_matches_centered_differences(cell):
    net, x, initial, cache, derrors = stack_and_run(cell)
    for key, value in net.params.items():  # nonzero biases: a dropped bias term would show
        if key.endswith((".b", ".c", ".bhn")):
            assert np.all(value != 0), key
    dx, grads, dinitial = net.backward(derrors, cache, return_dinitial=True)
    assert set(grads) == set(net.params)
    inputs, analytic = named_inputs(net, x, initial, dx, grads, dinitial)
    errors = check_gradients(lambda: net.forward(x, initial)[0], inputs, analytic, derrors)
    print(f"{cell}: max relative error {max(errors.values()):.1e} ({max(errors, key=errors.get)})")
    assert max(errors.values()) < 1e-6, errors


def test_forward_is_causal_and_layer_1_forecasts_the_data():
    net, x, initial, cache, _ = stack_and_run("lstm")
    # e^1_t = x_t - p^1_{t-1}: the forecast made at t-1 is the prediction stored there
    np.testing.assert_allclose(cache.errors[:, 1:, 0], x[:, 1:] - cache.predictions[:, :-1, 0])
    # e^{l+1}_t = e^l_t - p^{l+1}_{t-1}: each layer reads only the error below
    np.testing.assert_allclose(cache.errors[:, 1:, 1], cache.errors[:, 1:, 0]
                               - cache.predictions[:, :-1, 1])
    later = x.copy()
    later[:, 3] += 1.0
    changed, _ = net.forward(later, initial)
    np.testing.assert_array_equal(changed[:, :3], cache.errors[:, :3])  # the past is untouched
    assert np.all(np.abs(changed[:, 3] - cache.errors[:, 3]) > 0)
    # the expectation from above reaches layer 1: zeroing layer 1's feedback rows changes it
    cut = PredictiveCodingStack("lstm", D, SIZES, seed=1, forget_bias=0.5)
    cut.params["layers.1.cell.Wx"][D:] = 0.0
    assert not np.allclose(cut.forward(x, initial)[0][:, 1:, 0], cache.errors[:, 1:, 0])


def test_float32_runs_and_agrees_with_float64():
    net, x, initial, cache, _ = stack_and_run("gru")
    single = PredictiveCodingStack("gru", D, SIZES, dtype=np.float32, seed=1)
    single.params = {k: v.astype(np.float32) for k, v in net.params.items()}
    errors, _ = single.forward(x.astype(np.float32),
                               [{k: v.astype(np.float32) for k, v in s.items()} for s in initial])
    assert errors.dtype == np.float32
    np.testing.assert_allclose(errors, cache.errors, atol=1e-5)


# ---------------------------------------------------------------- the local rule

def frozen_layer_errors(net, l, u, above, initial):
    """Layer l alone, its input from below u: (N, T, D) and the expectation from above
    above: (N, T, H_{l+1}) or None held fixed: e_t = u_t - p_{t-1}, s_t = cell([u_t, above_t],
    s_{t-1}), p_t = h_t @ V + c. Written here, apart from the module, as a second witness."""
    spec = get_cell(net.spec.name)
    cell = [net.params[k] for k in net.cell_keys(l)]
    V, c = net.params[f"layers.{l}.readout.V"], net.params[f"layers.{l}.readout.c"]
    states = [initial[name] for name in spec.state_names]
    p = states[0] @ V + c
    errors = []
    for t in range(u.shape[1]):
        errors.append(u[:, t] - p)
        z = u[:, t] if above is None else np.concatenate([u[:, t], above[:, t]], axis=1)
        *states, _ = spec.step_forward(z, *states, *cell, None)
        p = states[0] @ V + c
    return np.stack(errors, axis=1)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_local_gradient_is_each_layers_own_loss_with_the_other_layers_held_fixed(cell):
    net, x, initial, cache, derrors = stack_and_run(cell, seed=3)
    _, local, dinitial = net.backward(derrors, cache, local=True, return_dinitial=True)
    L = net.num_layers
    for l in range(1, L + 1):
        u = x if l == 1 else cache.errors[:, :, l - 2].copy()
        above = cache.hidden[l].copy() if l < L else None
        layer_initial = initial[l - 1]
        run = lambda: frozen_layer_errors(net, l, u, above, layer_initial)  # noqa: E731
        np.testing.assert_allclose(run(), cache.errors[:, :, l - 1], rtol=1e-12, atol=1e-12)
        inputs, analytic = named_inputs(net, x, initial, None, local, dinitial, layers=[l])
        errors = check_gradients(run, inputs, analytic, derrors[:, :, l - 1])
        print(f"{cell} layer {l}: local rule, max relative error {max(errors.values()):.1e}")
        assert max(errors.values()) < 1e-6, errors
        # and it is not the end-to-end gradient of the same loss: the cut paths carry gradient
        # (weakly at initialisation, through small weights; far above round-off, ~1e-15)
        only_l = np.zeros_like(derrors)
        only_l[:, :, l - 1] = derrors[:, :, l - 1]
        _, end_to_end = net.backward(only_l, cache)
        gap = max(np.max(np.abs(end_to_end[k] - local[k])) / np.max(np.abs(end_to_end[k]))
                  for k in net.layer_keys(l))
        assert gap > 1e-4, (l, gap)


def test_local_rule_lets_no_gradient_cross_layers():
    net, x, initial, cache, derrors = stack_and_run("lstm", seed=4)
    for l in range(1, net.num_layers + 1):
        others = derrors.copy()
        others[:, :, l - 1] = 0.0  # every loss but layer l's
        _, local = net.backward(others, cache, local=True)
        _, end_to_end = net.backward(others, cache)
        assert all(np.all(local[k] == 0) for k in net.layer_keys(l))
        assert any(np.any(end_to_end[k] != 0) for k in net.layer_keys(l))


# ---------------------------------------------------------------- loss, training, errors

def test_prediction_error_loss_weights_and_warmup():
    rng = np.random.default_rng(0)
    errors = rng.standard_normal((3, 6, 2, 4))
    target = np.zeros_like(errors)
    loss, derrors = prediction_error_loss((1.0, 0.5), warmup=2)(errors, target)
    scored = errors[:, 2:]
    expected = np.mean(scored[:, :, 0] ** 2) + 0.5 * np.mean(scored[:, :, 1] ** 2)
    assert loss == pytest.approx(expected, rel=1e-12)
    assert np.all(derrors[:, :2] == 0)
    count = scored[:, :, 0].size
    np.testing.assert_allclose(derrors[:, 2:, 0], 2 * scored[:, :, 0] / count)
    np.testing.assert_allclose(derrors[:, 2:, 1], 0.5 * 2 * scored[:, :, 1] / count)
    data_only, ddata = prediction_error_loss((1.0, 0.0))(errors, target)
    assert data_only == pytest.approx(np.mean(errors[:, :, 0] ** 2)) and np.all(ddata[:, :, 1] == 0)
    with pytest.raises(ValueError, match="one weight per layer"):
        prediction_error_loss((1.0,))(errors, target)
    with pytest.raises(ValueError, match="warmup"):
        prediction_error_loss(warmup=6)(errors, target)


@pytest.mark.parametrize("rule", ["end_to_end", "local"])
def test_both_rules_learn_a_sine(rule):
    t = np.arange(200)
    series = np.sin(2 * np.pi * t / 12)[:, None]
    x = np.stack([series[s:s + 24] for s in range(0, 170, 4)])
    stack = PredictiveCodingStack("gru", 1, [8, 4], seed=0)
    learner = Learner(stack, rule)
    target = np.zeros(x.shape[:2] + (2, 1))
    loss = prediction_error_loss(warmup=4)
    before = loss(learner.forward(x)[0], target)[0]
    history = fit(learner, loss, (x, target), optimizer=Adam(lr=0.02), epochs=40, batch_size=11,
                  seed=0, progress=False)
    after = loss(learner.forward(x)[0], target)[0]
    assert after < 0.01 * before, (before, after, history["train_loss"][-1])
    data_error = np.mean(stack.forward(x)[0][:, 4:, 0] ** 2)
    assert data_error < 0.01 * np.mean(x[:, 4:] ** 2)  # layer 1 forecasts the sine


def test_errors_name_the_argument():
    net, x, initial, cache, derrors = stack_and_run("rnn")
    with pytest.raises(ValueError, match="x must have shape"):
        net.forward(x[..., :1])
    bad = [dict(s) for s in initial]
    bad[1]["h"] = bad[1]["h"][:, :2]
    with pytest.raises(ValueError, match=r"initial_states\[1\]\['h'\]"):
        net.forward(x, bad)
    with pytest.raises(ValueError, match="initial_states must be None or a list of 3"):
        net.forward(x, initial[:2])
    with pytest.raises(ValueError, match="derrors must have shape"):
        net.backward(derrors[:, :, :2], cache)
    with pytest.raises(TypeError, match="PredictiveCodingCache"):
        net.backward(derrors, {"errors": derrors})
    with pytest.raises(ValueError, match="rule must be one of"):
        Learner(net, "hebbian")
    with pytest.raises(ValueError, match="mask must be None"):
        Learner(net).forward(x, mask=np.ones((N, T), bool))
    learner_errors, learner_cache = Learner(net).forward(x)
    with pytest.raises(ValueError, match="dlayers and dgates must be empty"):
        Learner(net).backward(learner_errors, learner_cache, {"stack": {1: learner_errors}})
    with pytest.raises(ValueError, match="cell must be one of"):
        PredictiveCodingStack("transformer", D, SIZES)


# ---------------------------------------------------------------- the demo

@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="predictive_coding_demo")


def test_demo_split_keeps_the_test_out_of_training(demo):
    for make, test_size in ((demo["airline_series"], 24), (demo["weather_series"], 365)):
        series = make()
        assert series.test_start == len(series.z) - test_size
        windows = demo["training_windows"](series)
        assert windows.shape[1] == series.window
        # every training window is a stretch of the part before the test, in order
        last = (len(windows) - 1) * series.stride
        assert last + series.window <= series.test_start
        np.testing.assert_array_equal(windows[-1], series.z[last:last + series.window])
        # the standardisation reads no test value: changing the test part changes nothing else
        values = series.z * series.sd + series.mean
        altered = values.copy()
        altered[series.test_start:] += 100.0
        z, mean, sd = demo["standardise"](altered, test_size)
        np.testing.assert_allclose(mean, series.mean)
        np.testing.assert_allclose(sd, series.sd)
        np.testing.assert_allclose(z[:series.test_start], series.z[:series.test_start])


def test_demo_main_on_a_tiny_setting(demo, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    summary = demo["main"]([str(tmp_path), "--seeds", "2", "--epochs-scale", "0.02",
                            "--workers", "1"])
    out = capsys.readouterr().out
    assert "next-step error over the test (2 seeds" in out and "prediction error per layer" in out
    for name in ("next_step_errors.png", "layer_errors.png", "results.json"):
        assert (tmp_path / name).stat().st_size > 1000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["table"]) == {"airline", "weather"}
    models = {"PC end to end", "PC data loss", "PC local", "stacked LSTM",
              "stacked LSTM, 4x updates", "persistence"}
    assert set(saved["table"]["airline"]) == models
    # persistence, computed here apart from the demo: next month = this month
    passengers = np.loadtxt(str(DEMO.parent.parent / "minirnn/data/files/airline/Airline.csv"),
                            delimiter=",", skiprows=1, usecols=1)
    expected = np.mean(np.abs(np.diff(passengers)[-24:]))
    assert saved["table"]["airline"]["persistence"]["mae"][0] == pytest.approx(expected)
    # the layer statistics: 2 seeds x (data + 3 layers); layer 0 is the same data for all
    rms = np.array(saved["layers"]["weather"]["PC local"]["rms"])
    assert rms.shape == (2, 4) and np.all(rms > 0)
    assert rms[0, 0] == pytest.approx(saved["layers"]["weather"]["PC end to end"]["rms"][1][0])
    assert summary["seeds"] == 2


def test_forecast_jacobian_matches_differences_of_the_forecast():
    rng = np.random.default_rng(7)
    stack = PredictiveCodingStack("lstm", 2, [3, 2], seed=3)
    for key, value in stack.params.items():        # nonzero biases, like every other check here
        value += 0.3 * rng.standard_normal(value.shape)
    x = rng.standard_normal((2, 6, 2))
    states = stack.random_states(2, rng)
    t, eps = 3, 1e-6
    J = forecast_jacobian(stack, x, t, states)
    assert J.shape == (2, 2, t + 1, 2)
    numeric = np.empty_like(J)
    for s_ in range(t + 1):
        for j in range(2):
            up, down = x.copy(), x.copy()
            up[:, s_, j] += eps
            down[:, s_, j] -= eps
            p_up = stack.forward(up, states)[1].predictions[:, t, 0]     # (N, D): p^1_t
            p_down = stack.forward(down, states)[1].predictions[:, t, 0]
            numeric[:, :, s_, j] = (p_up - p_down) / (2 * eps)
    error = np.abs(J - numeric).max() / max(np.abs(numeric).max(), 1e-8)
    assert error < 1e-7, error
    assert np.abs(J[:, :, t]).max() > 1e-3                       # the newest input matters
    later = x.copy()
    later[:, t + 1:] = 99.0                                       # the future does not
    assert np.array_equal(forecast_jacobian(stack, later, t, states), J)
    with pytest.raises(ValueError, match="t must be"):
        forecast_jacobian(stack, x, 6)
