"""fit / evaluate / predict: early stopping, seeded shuffling, gradient-norm logs, truncated BPTT."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.layers import Dense
from minirnn.losses import mean_squared_error
from minirnn.model import Recurrent, Sequential
from minirnn.optim import SGD, Adam
from minirnn.train import (EarlyStopping, accuracy, binary_accuracy, evaluate, fit,
                           mean_absolute_error, parameter_group, predict)


def regression_model(return_sequences=False, seed=0):
    net = StackedRNN("gru", 2, [4, 3], return_sequences=return_sequences, seed=seed,
                     backend="numpy")
    return Sequential([("rnn", Recurrent(net)), ("head", Dense(3, 1, seed=seed))])


def sum_task(N=64, T=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, 2))
    return x, 0.3 * x[:, :, 0].sum(axis=1, keepdims=True)


def params_copy(model):
    return {k: v.copy() for k, v in model.params.items()}


def test_early_stopping_on_a_scripted_history():
    early = EarlyStopping(patience=2)
    values = [1.0, 0.8, 0.85, 0.9, 0.7]
    stops = [early.update(epoch, v) for epoch, v in enumerate(values[:4])]
    assert stops == [False, False, False, True]
    assert early.best == 0.8 and early.best_epoch == 1
    early = EarlyStopping(patience=2, min_delta=0.1)
    # 0.95 and 0.92 are improvements smaller than min_delta: they do not reset the count
    assert [early.update(e, v) for e, v in enumerate([1.0, 0.95, 0.92])] == [False, False, True]
    assert early.best_epoch == 0
    early = EarlyStopping(patience=2, monitor="val_metric", mode="max")  # an accuracy
    assert [early.update(e, v) for e, v in enumerate([0.5, 0.7, 0.6, 0.7, 0.65])] == \
        [False, False, False, True, True]
    assert early.best == 0.7 and early.best_epoch == 1


def test_fit_stops_early_and_restores_the_best_epoch():
    x, y = sum_task(N=20)
    model = regression_model()
    script = iter([0.5, 0.4, 0.45, 0.6, 0.3, 0.1])  # val losses of epochs 0, 1, 2, ...
    seen = []

    def scripted_loss(out, target, mask=None):
        loss, dout = mean_squared_error(out, target, mask)
        if out.shape[0] == 5:  # the val set: record the params of this epoch, return the script
            seen.append(params_copy(model))
            return next(script), dout
        return loss, dout

    history = fit(model, scripted_loss, (x[:15], y[:15]), (x[15:], y[15:]), SGD(0.1), epochs=6,
                  batch_size=8, early_stopping=EarlyStopping(patience=2), progress=False)
    assert history["stopped_epoch"] == 3 and history["best_epoch"] == 1
    assert history["val_loss"] == [0.5, 0.4, 0.45, 0.6]
    assert len(history["train_loss"]) == 4
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, seen[1][name])
    assert not np.array_equal(seen[1]["head.W"], seen[3]["head.W"])


def test_fit_learns_and_logs_per_layer_gradient_norms():
    x, y = sum_task()
    model = regression_model()
    history = fit(model, "mse", (x[:48], y[:48]), (x[48:], y[48:]), Adam(0.02), epochs=15,
                  batch_size=48, metric="mae", clip_norm=0.5, progress=False)
    assert history["val_loss"][-1] < 0.3 * history["val_loss"][0]
    assert set(history["grad_norm"]) == {"rnn.layers.1", "rnn.layers.2", "head"}
    # one batch per epoch: the layer norms combine exactly into the total (before clipping)
    for e in range(15):
        layers = [history["grad_norm"][g][e] for g in history["grad_norm"]]
        assert np.sqrt(np.sum(np.square(layers))) == pytest.approx(history["grad_norm_total"][e])
    assert max(history["grad_norm_total"]) > 0.5  # logged before clipping to 0.5
    assert len(history["val_metric"]) == 15 and history["val_metric"][-1] > 0


def test_seeded_shuffling_is_reproducible():
    x, y = sum_task(N=30)
    runs = []
    for seed in (7, 7, 8):
        model = regression_model()
        history = fit(model, "mse", (x, y), optimizer=SGD(0.05), epochs=2, batch_size=4,
                      seed=seed, progress=False)
        runs.append((history["train_loss"], model.params["head.W"].copy()))
    assert runs[0][0] == runs[1][0]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])
    assert not np.array_equal(runs[0][1], runs[2][1])


def test_truncated_bptt_carries_states_without_gradient():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal((4, 6, 2)), rng.standard_normal((4, 6, 1))
    model, reference = regression_model(True, seed=1), regression_model(True, seed=1)
    fit(model, "mse", (x, y), optimizer=SGD(0.1), epochs=1, batch_size=4, shuffle=False,
        truncate_bptt=4, progress=False)
    # the same by hand: window [0, 4) from zeros, then [4, 6) from its final states
    out, cache = reference.forward(x[:, :4])
    _, grads = reference.backward(mean_squared_error(out, y[:, :4])[1], cache)
    SGD(0.1).step(reference.params, grads)
    out, cache2 = reference.forward(x[:, 4:], initial_states=cache.final_states)
    _, grads = reference.backward(mean_squared_error(out, y[:, 4:])[1], cache2)
    SGD(0.1).step(reference.params, grads)
    for name, p in model.params.items():
        np.testing.assert_allclose(p, reference.params[name], rtol=1e-12, err_msg=name)
    full = regression_model(True, seed=1)
    fit(full, "mse", (x, y), optimizer=SGD(0.1), epochs=1, batch_size=4, progress=False)
    assert not np.allclose(full.params["rnn.layers.1.fwd.Wh"], model.params["rnn.layers.1.fwd.Wh"])


def test_fit_masks_the_loss_of_a_sequence_output():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((10, 5, 2))
    y = x @ np.array([[1.0], [-2.0]])
    mask = np.ones((10, 5), bool)
    mask[:, 3:] = False
    y[~mask] = 1e6  # padded targets: the loss must never see them
    model = Sequential([Dense(2, 1)])
    history = fit(model, "mse", (x, y, mask), optimizer=SGD(0.3), epochs=100, batch_size=10,
                  progress=False)
    assert history["train_loss"][-1] < 1e-2
    np.testing.assert_allclose(model.params["dense.W"][:, 0], [1.0, -2.0], atol=0.05)


def test_predict_and_evaluate():
    x, y = sum_task(N=10)
    model = regression_model()
    out = predict(model, x, batch_size=3)
    np.testing.assert_allclose(out, predict(model, x, batch_size=100), rtol=1e-12)
    assert out.shape == (10, 1)
    scores = evaluate(model, "mse", (x, y), metric="mae", batch_size=4)
    assert scores["loss"] == pytest.approx(np.mean((out - y) ** 2))
    assert scores["metric"] == pytest.approx(np.mean(np.abs(out - y)))


def test_metrics_by_hand():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [1.0, 0.0, 5.0]])
    assert accuracy(logits, np.array([0, 2, 2])) == pytest.approx(2 / 3)
    assert binary_accuracy(np.array([[1.0], [-2.0], [0.5]]), np.array([1, 1, 0])) == pytest.approx(1 / 3)
    seq = np.zeros((1, 3, 2))
    seq[0, :, 1] = 1.0  # predicts class 1 everywhere
    assert accuracy(seq, np.array([[1, 0, 0]]), np.array([[True, False, False]])) == 1.0
    assert mean_absolute_error(np.array([[1.0], [3.0]]), np.array([0.0, 0.0])) == 2.0
    assert parameter_group("rnn.layers.2.bwd.Wh") == "rnn.layers.2"
    assert parameter_group("head.b") == "head"


def test_fit_rejects_bad_arguments():
    x, y = sum_task(N=8)
    model = regression_model()
    with pytest.raises(ValueError, match="tuple"):
        fit(model, "mse", x, progress=False)
    with pytest.raises(ValueError, match="same N"):
        fit(model, "mse", (x, y[:5]), progress=False)
    with pytest.raises(ValueError, match="mask"):
        fit(model, "mse", (x, y, np.ones((8, 2), bool)), progress=False)
    with pytest.raises(ValueError, match="one target per step"):
        fit(model, "mse", (x, y), truncate_bptt=2, progress=False)
    with pytest.raises(ValueError, match="needs a val set"):
        fit(model, "mse", (x, y), early_stopping=EarlyStopping(), progress=False)
    with pytest.raises(ValueError, match="needs a metric"):
        fit(model, "mse", (x, y), (x, y), early_stopping=EarlyStopping(monitor="val_metric"),
            progress=False)
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")
    with pytest.raises(ValueError, match="loss must be"):
        fit(model, "hinge", (x, y), progress=False)


def test_fit_on_padded_batches_ignores_the_padding():
    rng = np.random.default_rng(6)
    lengths = rng.integers(2, 7, 12)
    x = rng.standard_normal((12, 6, 2))
    mask = np.arange(6)[None, :] < lengths[:, None]
    y = np.array([x[n, :lengths[n], 0].sum() for n in range(12)])[:, None]
    results = []
    for garbage in (0.0, 50.0):
        xp = np.where(mask[..., None], x, garbage)  # what sits in the padding must not matter
        model = regression_model()
        history = fit(model, "mse", (xp, y, mask), (xp, y, mask), Adam(0.01), epochs=3,
                      batch_size=5, progress=False)
        results.append((history["val_loss"], model.params["head.W"].copy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-10)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-10)


def test_fit_refuses_empty_data_and_bad_counts():
    x, y = sum_task(N=8)
    model = regression_model()
    with pytest.raises(ValueError, match=r"train must hold at least one sequence of at least one "
                                         r"step; got x of shape \(0, 6, 2\)"):
        fit(model, "mse", (x[:0], y[:0]), progress=False)
    with pytest.raises(ValueError, match=r"train must hold at least one .*shape \(8, 0, 2\)"):
        fit(model, "mse", (x[:, :0], y), progress=False)
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        fit(model, "mse", (x, y), batch_size=0, progress=False)
    with pytest.raises(ValueError, match="batch_size must be a positive int; got -1"):
        fit(model, "mse", (x, y), batch_size=-1, progress=False)
    with pytest.raises(TypeError, match=r"batch_size must be a positive int; got 4.0 \(float\)"):
        fit(model, "mse", (x, y), batch_size=4.0, progress=False)
    with pytest.raises(ValueError, match="truncate_bptt must be a positive int; got 0"):
        fit(model, "mse", (x, np.zeros((8, 6, 1))), truncate_bptt=0, progress=False)
    with pytest.raises(ValueError, match="epochs must be an int >= 0; got -1"):
        fit(model, "mse", (x, y), epochs=-1, progress=False)
    before = params_copy(model)
    history = fit(model, "mse", (x, y), epochs=0, progress=False)  # allowed: trains nothing
    assert history["train_loss"] == [] and history["stopped_epoch"] is None
    for name, p in model.params.items():
        np.testing.assert_array_equal(p, before[name])
    with pytest.raises(ValueError, match="batch_size must be a positive int; got 0"):
        predict(model, x, batch_size=0)
    with pytest.raises(ValueError, match=r"x must hold at least one sequence; got shape \(0, 6, 2\)"):
        predict(model, x[:0])


def test_fit_shows_how_to_wrap_a_bare_network_or_layer():
    x, y = sum_task(N=8)
    net = StackedRNN("gru", 2, [3], return_sequences=False, backend="numpy")
    wrap = r"model must be a Sequential; got a bare StackedRNN: wrap it, " \
           r"model = minirnn.Sequential\(\[minirnn.Recurrent\(net\)\]\)"
    with pytest.raises(TypeError, match=wrap):
        fit(net, "mse", (x, y), progress=False)
    with pytest.raises(TypeError, match=wrap):
        evaluate(net, "mse", (x, y))
    with pytest.raises(TypeError, match=r"got a bare Recurrent layer: wrap it, "
                                        r"model = minirnn.Sequential\(\[layer\]\)"):
        fit(Recurrent(net), "mse", (x, y), progress=False)
    # the fix the message shows
    history = fit(Sequential([Recurrent(net)]), "mse", (x, np.tile(y, 3)), epochs=1,
                  progress=False)
    assert len(history["train_loss"]) == 1


def test_fit_checks_val_against_train_before_training():
    x, y = sum_task(N=8)
    model = regression_model()
    before = params_copy(model)
    with pytest.raises(ValueError, match=r"val x must have shape \(N, T, 2\) like train x; "
                                         r"got shape \(8, 6, 1\)"):
        fit(model, "mse", (x, y), (x[..., :1], y), progress=False)
    with pytest.raises(ValueError, match=r"val y must have shape \(N, 1\) like train y; "
                                         r"got shape \(8, 3\)"):
        fit(model, "mse", (x, y), (x, np.zeros((8, 3))), progress=False)
    with pytest.raises(ValueError, match=r"val: x must be .* and y must have the same N"):
        fit(model, "mse", (x, y), (x, y[:3]), progress=False)
    with pytest.raises(ValueError, match=r"val must hold at least one sequence"):
        fit(model, "mse", (x, y), (x[:0], y[:0]), progress=False)
    for name, p in model.params.items():  # every refusal came before the first step
        np.testing.assert_array_equal(p, before[name])
    # what the losses accept stays accepted: y without its trailing 1, shorter val sequences
    history = fit(model, "mse", (x, y), (x, y[:, 0]), epochs=1, progress=False)
    history_short = fit(model, "mse", (x, y), (x[:, :3], y), epochs=1, progress=False)
    assert len(history["val_loss"]) == len(history_short["val_loss"]) == 1
