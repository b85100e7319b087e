"""minirnn.regularisers and the gate-gradient injection it rests on: every gradient against
centered differences in float64 (nonzero biases and initial states, padded batches), fit's hook
(weight 0 is the run without it; the hook's gradient is that of data loss + weight * penalty),
bad arguments, and demos/regularisers.py on a tiny setting."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.cells import (LSTM, lstm_step_backward, lstm_step_forward, sequence_backward,
                           sequence_forward)
from minirnn.gradcheck import check_gradients
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error, softmax_cross_entropy
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.regularisers import (Consistency, GateCoordination, apply_regularisers,
                                  check_regularisers, gate_sums, regulariser_params)
from minirnn.train import fit
from conftest import random_cell_params, random_states

DEMO = Path(__file__).resolve().parent.parent / "demos" / "regularisers.py"
TOLERANCE = 1e-7
COORDS = 6  # random coordinates checked per array in the stack-level checks


def padded_mask(N, T):
    """(N, T) bool: sequence 0 ends two steps early, the others run to T."""
    mask = np.ones((N, T), bool)
    mask[0, T - 2:] = False
    return mask


def stack_with_biases(hidden, bidirectional, rng, input_size=3):
    """A float64 LSTM stack on the NumPy reference with every bias drawn nonzero."""
    net = StackedRNN("lstm", input_size, hidden, bidirectional=bidirectional, seed=7,
                     backend="numpy")
    for key, value in net.params.items():
        if key.endswith(".b"):
            value[...] = 0.5 * rng.standard_normal(value.shape)
    return net


# ---- the gate gradient in the cell and the stack ----------------------------------------------
def test_lstm_step_backward_takes_a_gradient_on_the_gates(rng):
    """dgates enters the step backward as the gradient of sum(dgates * ifgo)."""
    p = random_cell_params("lstm", 3, 4, rng)
    s = random_states("lstm", 2, 4, rng)
    x = rng.standard_normal((2, 3))
    dh, dc, dgates = (rng.standard_normal(shape) for shape in ((2, 4), (2, 4), (2, 16)))
    h, c, cache = lstm_step_forward(x, s["h0"], s["c0"], p["Wx"], p["Wh"], p["b"])
    dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dh, dc, cache, dgates=dgates)

    def f():
        h, c, cache = lstm_step_forward(x, s["h0"], s["c0"], p["Wx"], p["Wh"], p["b"])
        return h, c, cache["ifgo"]

    errors = check_gradients(f, {"x": x, "h0": s["h0"], "c0": s["c0"], **p},
                             {"x": dx, "h0": dprev_h, "c0": dprev_c, "Wx": dWx, "Wh": dWh,
                              "b": db}, [dh, dc, dgates])
    assert max(errors.values()) < TOLERANCE, errors
    without = lstm_step_backward(dh, dc, cache)
    assert not np.allclose(without[-1], db)  # the gates' gradient did change something


def test_sequence_backward_with_dgates_is_the_gradient_through_time(rng):
    """The BPTT loop hands dgates[:, t] to each step: with a padded batch, recurrent dropout and
    nonzero initial states, the result is the gradient of sum(dh * h) + sum(dgates * ifgo)."""
    N, T, D, H = 3, 5, 2, 3
    p = random_cell_params("lstm", D, H, rng)
    s = random_states("lstm", N, H, rng)
    x = rng.standard_normal((N, T, D))
    mask, rmask = padded_mask(N, T), (rng.random((N, H)) > 0.3) / 0.7
    dh, dgates = rng.standard_normal((N, T, H)), rng.standard_normal((N, T, 4 * H))

    def f():
        h, cache = sequence_forward(LSTM, x, s["h0"], s["c0"], *p.values(), mask=mask,
                                    recurrent_mask=rmask)
        return h, cache["ifgo"]

    _, cache = sequence_forward(LSTM, x, s["h0"], s["c0"], *p.values(), mask=mask,
                                recurrent_mask=rmask)
    dx, dh0, dc0, *dparams = sequence_backward(LSTM, dh, cache, dgates=dgates)
    errors = check_gradients(f, {"x": x, "h0": s["h0"], "c0": s["c0"], **p},
                             {"x": dx, "h0": dh0, "c0": dc0, **dict(zip(p, dparams))},
                             [dh, dgates])
    assert max(errors.values()) < TOLERANCE, errors


@pytest.mark.parametrize("hidden, bidirectional", [([3, 3, 3], False), ([3, 2], True)])
def test_stack_backward_with_dgates_matches_finite_differences(hidden, bidirectional, rng):
    """StackedRNN.backward(dgates=...) on some layers and directions, with dy and a padded batch:
    the gradient of sum(dy * y) + sum over the given caches of sum(dgates * ifgo)."""
    net = stack_with_biases(hidden, bidirectional, rng)
    x, mask = rng.standard_normal((3, 4, 3)), padded_mask(3, 4)
    initial = net.random_states(3, rng)
    y, _, cache = net.forward(x, initial, mask=mask)
    chosen = [(1, net.directions[-1]), (len(hidden), "fwd")]
    dgates = {}
    for l, d in chosen:
        dgates.setdefault(l, {})[d] = rng.standard_normal(cache.layers[l][d]["ifgo"].shape)
    dy = rng.standard_normal(y.shape)
    _, grads, dinitial = net.backward(dy, cache, dgates=dgates, return_dinitial=True)

    def f():
        y, _, cache = net.forward(x, initial, mask=mask)
        return [y] + [cache.layers[l][d]["ifgo"] for l, d in chosen]

    inputs = dict(net.params, h0=initial[0]["h"], c0=initial[0]["c"])
    analytic = dict(grads, h0=dinitial[0]["h"], c0=dinitial[0]["c"])
    errors = check_gradients(f, inputs, analytic, [dy] + [dgates[l][d] for l, d in chosen],
                             num_coords=COORDS)
    assert max(errors.values()) < TOLERANCE, errors


def test_dgates_fall_back_to_the_numpy_reference_after_a_numba_forward(rng):
    net = stack_with_biases([3, 3], False, rng)
    x = rng.standard_normal((2, 4, 3))
    y, _, reference = net.forward(x, backend="numpy")
    _, _, compiled = net.forward(x, backend="numba")
    dgates = {2: {"fwd": rng.standard_normal(reference.layers[2]["fwd"]["ifgo"].shape)}}
    dy = rng.standard_normal(y.shape)
    _, expected = net.backward(dy, reference, dgates=dgates)
    _, grads = net.backward(dy, compiled, dgates=dgates)
    for key in expected:
        np.testing.assert_allclose(grads[key], expected[key], rtol=1e-9, atol=1e-12)


# ---- the penalties ------------------------------------------------------------------------------
def penalty_check(net, regularisers, x, mask, initial, data_head=None):
    """Max relative errors of net.backward with the regularisers' injections (+ a data loss
    through `data_head` (W, target), if given) against centered differences of
    sum of weight * R (+ the data loss), on COORDS random coordinates of each of the net's and
    the regularisers' parameters and of layer 1's initial cell state."""
    params = {f"{reg.name}.{k}": v for reg, _ in regularisers for k, v in reg.params.items()}

    def total():
        y, _, cache = net.forward(x, initial, mask=mask)
        loss = sum(weight * reg(cache)[0] for reg, weight in regularisers)
        if data_head is not None:
            loss += mean_squared_error(y @ data_head[0], data_head[1])[0]
        return np.array(loss)

    y, _, cache = net.forward(x, initial, mask=mask)
    dlayers, dgates, analytic = {}, {}, {}
    for reg, weight in regularisers:
        _, dl, dg, g = reg(cache)
        for l, value in dl.items():
            dlayers[l] = dlayers.get(l, 0.0) + weight * value
        for l, per_direction in dg.items():
            for d, value in per_direction.items():
                dgates.setdefault(l, {})[d] = weight * value
        analytic.update({f"{reg.name}.{k}": weight * v for k, v in g.items()})
    dy = None
    if data_head is not None:
        W, target = data_head
        dy = mean_squared_error(y @ W, target)[1] @ W.T
    _, grads, dinitial = net.backward(dy, cache, dlayers=dlayers, dgates=dgates,
                                      return_dinitial=True)
    inputs = dict(net.params, **params, c0=initial[0]["c"])
    analytic.update(grads, c0=dinitial[0]["c"])
    return check_gradients(total, inputs, analytic, np.array(1.0), num_coords=COORDS)


@pytest.mark.parametrize("layers, bidirectional", [(2, False), (3, False), (2, True), (3, True)])
def test_gate_coordination_gradient_alone_and_with_a_data_loss(layers, bidirectional, rng):
    net = stack_with_biases([2] * layers, bidirectional, rng)
    x, mask = rng.standard_normal((2, 4, 3)), padded_mask(2, 4)
    initial = net.random_states(2, rng)
    reg = GateCoordination(net)
    y, _, cache = net.forward(x, initial, mask=mask)
    loss, dlayers, dgates, grads = reg(cache)
    assert loss > 0 and dlayers == {} and grads == {} and set(dgates) == set(range(1, layers + 1))
    errors = penalty_check(net, [(reg, 2.0)], x, mask, initial)
    assert max(errors.values()) < TOLERANCE, errors
    head = (rng.standard_normal((y.shape[-1], 2)), rng.standard_normal(y.shape[:2] + (2,)))
    errors = penalty_check(net, [(reg, 2.0)], x, mask, initial, data_head=head)
    assert max(errors.values()) < TOLERANCE, errors


def test_gate_coordination_by_hand():
    """One unit, one step, gates set by the biases: o^1 = sigmoid(b_o), i^2 = sigmoid(b_i)."""
    net = StackedRNN("lstm", 1, [1, 1], backend="numpy")
    for value in net.params.values():
        value[...] = 0.0
    net.params["layers.1.fwd.b"][3] = np.log(0.2 / 0.8)  # o^1 = 0.2
    net.params["layers.2.fwd.b"][0] = np.log(0.3 / 0.7)  # i^2 = 0.3
    _, _, cache = net.forward(np.zeros((1, 1, 1)))
    loss, _, dgates, _ = GateCoordination(net)(cache)
    assert loss == pytest.approx(0.5 ** 2)
    assert dgates[1]["fwd"][0, 0].tolist() == pytest.approx([0, 0, 0, -1.0])
    assert dgates[2]["fwd"][0, 0].tolist() == pytest.approx([-1.0, 0, 0, 0])
    assert gate_sums(net, cache)[1].tolist() == pytest.approx([0.5])


@pytest.mark.parametrize("layers, bidirectional", [(2, False), (3, True)])
def test_consistency_gradient_alone_and_with_a_data_loss(layers, bidirectional, rng):
    net = stack_with_biases([2] * layers, bidirectional, rng)
    x, mask = rng.standard_normal((2, 4, 3)), padded_mask(2, 4)
    initial = net.random_states(2, rng)
    reg = Consistency(net, lower=layers - 1, seed=3)
    reg.params["c"][...] = rng.standard_normal(reg.params["c"].shape)
    errors = penalty_check(net, [(reg, 0.7)], x, mask, initial)
    assert max(errors.values()) < TOLERANCE, errors
    assert {"consistency.P", "consistency.c"} <= set(errors)
    y, _, _ = net.forward(x, initial, mask=mask)
    head = (rng.standard_normal((y.shape[-1], 2)), rng.standard_normal(y.shape[:2] + (2,)))
    both = [(reg, 0.7), (GateCoordination(net), 1.5)]
    errors = penalty_check(net, both, x, mask, initial, data_head=head)
    assert max(errors.values()) < TOLERANCE, errors


def test_consistency_pools_only_the_real_steps(rng):
    """A padded sequence's loss equals that of the same sequence cut to its real steps."""
    net = stack_with_biases([3, 3], False, rng)
    reg = Consistency(net, seed=1)
    x, mask = rng.standard_normal((3, 5, 3)), padded_mask(3, 5)
    x[0, 3:] = 99.0  # padding: must not matter
    _, _, padded = net.forward(x[:1], mask=mask[:1])
    _, _, cut = net.forward(x[:1, :3])
    assert reg(padded)[0] == pytest.approx(reg(cut)[0], rel=1e-12)


# ---- fit's hook ---------------------------------------------------------------------------------
def classifier(seed=0, backend="numpy"):
    net = StackedRNN("lstm", 2, [4, 4], return_sequences=False, seed=seed, backend=backend)
    return net, Sequential([("lstm", Recurrent(net)), ("head", Dense(4, 3, seed=seed))])


def toy_data(rng, N=12, T=6):
    x = rng.standard_normal((N, T, 2))
    mask = np.ones((N, T), bool)
    mask[: N // 2, T - 2:] = False
    return x, rng.integers(0, 3, N), mask


def test_the_hooks_gradient_is_that_of_data_loss_plus_weighted_penalties(rng):
    net, model = classifier()
    x, y, mask = toy_data(rng, N=4)
    checked = check_regularisers([(GateCoordination(net), 3.0),
                                  (Consistency(net, seed=2), 0.5)], model)
    trained = dict(model.params, **regulariser_params(checked))
    assert {"reg.consistency.P", "reg.consistency.c"} <= set(trained)

    def total():
        out, cache = model.forward(x, mask)
        losses = apply_regularisers(checked, cache)[0]
        return np.array(softmax_cross_entropy(out, y)[0] + sum(losses.values()))

    out, cache = model.forward(x, mask)
    _, dout = softmax_cross_entropy(out, y)
    losses, dlayers, dgates, reg_grads = apply_regularisers(checked, cache)
    assert set(losses) == {"gate_coordination", "consistency"}
    _, grads = model.backward(dout, cache, dlayers, dgates)
    errors = check_gradients(total, trained, dict(grads, **reg_grads), np.array(1.0))
    assert max(errors.values()) < TOLERANCE, errors


def test_weight_zero_is_exactly_the_run_without_regularisers(rng):
    x, y, mask = toy_data(rng)
    runs = []
    for regularise in (False, True):
        net, model = classifier(seed=4)
        regs = [(GateCoordination(net), 0.0), (Consistency(net), 0.0)] if regularise else None
        history = fit(model, softmax_cross_entropy, (x, y, mask), (x, y, mask), Adam(lr=0.01),
                      epochs=3, batch_size=5, clip_norm=1.0, seed=1, progress=False,
                      regularisers=regs)
        runs.append((history, model.params))
    (plain, plain_params), (zero, zero_params) = runs
    assert plain["train_loss"] == zero["train_loss"] and plain["val_loss"] == zero["val_loss"]
    for key, value in plain_params.items():
        np.testing.assert_array_equal(value, zero_params[key])
    assert plain["regularisers"] == {}
    assert zero["regularisers"] == {"gate_coordination": [0.0] * 3, "consistency": [0.0] * 3}


def test_fit_trains_the_regularisers_parameters_and_lowers_the_penalty(rng):
    x, y, mask = toy_data(rng)
    net, model = classifier(seed=5, backend="numba")
    gate, cons = GateCoordination(net), Consistency(net, seed=5)
    P = cons.params["P"].copy()
    _, cache = model.forward(x, mask)
    before = gate(cache.layers["lstm"])[0]
    history = fit(model, softmax_cross_entropy, (x, y, mask), epochs=15, batch_size=6,
                  optimizer=Adam(lr=0.02), progress=False,
                  regularisers=[(gate, 20.0), (cons, 1.0)])
    _, cache = model.forward(x, mask)
    assert not np.array_equal(P, cons.params["P"])  # stepped by fit's optimizer
    assert gate(cache.layers["lstm"])[0] < 0.5 * before
    assert history["regularisers"]["gate_coordination"][-1] < \
        history["regularisers"]["gate_coordination"][0]
    assert set(history["grad_norm"]) == {"lstm.layers.1", "lstm.layers.2", "head",
                                         "reg.consistency"}


# ---- bad arguments ------------------------------------------------------------------------------
def test_bad_regularisers_are_clear_errors(rng):
    net, model = classifier()
    other, _ = classifier(seed=1)
    x, y, mask = toy_data(rng, N=2)
    cases = [(TypeError, "regularisers must be None or a list", GateCoordination(net)),
             (TypeError, r"regularisers\[0\] must be a pair", [GateCoordination(net)]),
             (TypeError, r"regularisers\[0\]\[0\] must be a regulariser", [(abs, 1.0)]),
             (TypeError, r"the weight of regularisers\[0\]", [(GateCoordination(net), "1")]),
             (ValueError, r"the weight of regularisers\[0\] must be >= 0",
              [(GateCoordination(net), -1.0)]),
             (ValueError, "not a Recurrent layer of this model", [(GateCoordination(other), 1.0)]),
             (ValueError, "distinct names", [(Consistency(net), 1.0), (Consistency(net), 1.0)])]
    for error, message, regs in cases:
        with pytest.raises(error, match=message):
            fit(model, softmax_cross_entropy, (x, y, mask), epochs=1, progress=False,
                regularisers=regs)


def test_regularisers_refuse_networks_they_cannot_read():
    with pytest.raises(ValueError, match="input and output gates"):
        GateCoordination(StackedRNN("gru", 2, [3, 3]))
    with pytest.raises(ValueError, match="at least 2 layers of one width"):
        GateCoordination(StackedRNN("lstm", 2, [3, 4]))
    with pytest.raises(ValueError, match="at least 2 layers of one width"):
        GateCoordination(StackedRNN("lstm", 2, [3]))
    with pytest.raises(ValueError, match="lower must name a layer below the top"):
        Consistency(StackedRNN("rnn", 2, [3, 3]), lower=2)
    with pytest.raises(TypeError, match="lower must be a positive int"):
        Consistency(StackedRNN("rnn", 2, [3, 3]), lower=1.0)
    net, other = StackedRNN("lstm", 2, [3, 3]), StackedRNN("lstm", 2, [3, 3])
    _, _, cache = other.forward(np.ones((1, 2, 2)))
    with pytest.raises(ValueError, match="another network"):
        GateCoordination(net)(cache)


def test_bad_gate_gradients_are_clear_errors(rng):
    net = StackedRNN("lstm", 2, [3, 3], backend="numpy")
    y, _, cache = net.forward(rng.standard_normal((2, 4, 2)))
    good = np.zeros((2, 4, 12))
    cases = [(TypeError, "dgates must be None or a dict", [good]),
             (ValueError, "dgates keys must be layer numbers 1..2", {3: {"fwd": good}}),
             (ValueError, r"dgates\[1\] must be a dict \{direction: array\}", {1: good}),
             (ValueError, r"dgates\[1\] must be a dict", {1: {"bwd": good}}),
             (ValueError, r"dgates\[1\]\['fwd'\] must have shape \(2, 4, 12\)",
              {1: {"fwd": good[:, :, :4]}}),
             (ValueError, "non-finite", {1: {"fwd": good + np.nan}})]
    for error, message, dgates in cases:
        with pytest.raises(error, match=message):
            net.backward(y, cache, dgates=dgates)
    gru = StackedRNN("gru", 2, [3], backend="numpy")
    y, _, cache = gru.forward(rng.standard_normal((2, 4, 2)))
    with pytest.raises(ValueError, match="gates_key"):
        gru.backward(y, cache, dgates={1: {"fwd": np.zeros((2, 4, 9))}})


def test_sequential_backward_refuses_injections_for_unknown_layers(rng):
    _, model = classifier()
    out, cache = model.forward(rng.standard_normal((2, 3, 2)))
    with pytest.raises(ValueError, match=r"dlayers keys must be names of recurrent layers"):
        model.backward(np.ones_like(out), cache, dlayers={"head": {1: None}})
    with pytest.raises(ValueError, match=r"dgates keys must be names of recurrent layers"):
        model.backward(np.ones_like(out), cache, dgates={"rnn": {}})


# ---- the demo, tiny -----------------------------------------------------------------------------
def test_demo_main_on_a_tiny_setting(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    demo = runpy.run_path(str(DEMO), run_name="regularisers_demo")
    summary = demo["main"]([str(tmp_path), "--seeds", "1", "--vowel-epochs", "2",
                            "--airline-epochs", "2", "--gate-weight", "50"])
    results = json.loads((tmp_path / "results.json").read_text())
    assert set(results["runs"]) == {"vowels", "airline"}
    for task in results["runs"].values():
        assert set(task) == {"none", "gate coordination", "consistency"}
        none, gate = task["none"][0], task["gate coordination"][0]
        assert 0.0 <= none["below_one"] <= 1.0 and none["regulariser_loss"] == {}
        assert len(task["consistency"][0]["regulariser_loss"]["consistency"]) == 2
        # a heavy gate penalty already lowers the share of o^1 + i^2 below 1
        assert gate["below_one"] < none["below_one"]
    assert len(summary["verdicts"]) == 4
    assert (tmp_path / "regularisers_gate_sums.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    assert "verdicts" in printed and any(w in printed for w in ("helps", "hurts", "no clear"))
