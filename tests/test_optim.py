"""Optimizers against single steps computed by hand; clipping; schedules."""
import math

import numpy as np
import pytest

from minirnn.kernels import optimizers as optimizer_kernels
from minirnn.optim import (SGD, Adam, RMSprop, clip_grad_norm, clip_scale, cosine_decay,
                           global_norm, squared_norms, step_decay)


def test_sgd_plain_step():
    params = {"w": np.array([1.0, -2.0])}
    SGD(lr=0.1).step(params, {"w": np.array([0.5, -1.0])})
    np.testing.assert_allclose(params["w"], [1.0 - 0.05, -2.0 + 0.1])


def test_sgd_momentum_two_steps_by_hand():
    params = {"w": np.array([1.0])}
    opt = SGD(lr=0.1, momentum=0.9)
    opt.step(params, {"w": np.array([2.0])})  # v = 2;  w = 1 - 0.2 = 0.8
    assert params["w"][0] == pytest.approx(0.8)
    opt.step(params, {"w": np.array([1.0])})  # v = 0.9 * 2 + 1 = 2.8;  w = 0.8 - 0.28 = 0.52
    assert params["w"][0] == pytest.approx(0.52)
    assert opt.steps == 2


def test_rmsprop_first_step_by_hand():
    params = {"w": np.array([1.0, 1.0])}
    g = np.array([0.2, -3.0])
    RMSprop(lr=0.01, rho=0.9, eps=0.0).step(params, {"w": g})
    # s = 0.1 g^2, step = lr g / sqrt(0.1 g^2) = lr sign(g) / sqrt(0.1)
    np.testing.assert_allclose(params["w"], 1.0 - 0.01 * np.sign(g) / math.sqrt(0.1))


def test_adam_first_step_is_lr_times_sign_and_second_by_hand():
    params = {"w": np.array([0.0, 0.0, 0.0])}
    opt = Adam(lr=0.01)
    opt.step(params, {"w": np.array([1e-3, -5.0, 40.0])})
    np.testing.assert_allclose(params["w"], [-0.01, 0.01, -0.01], rtol=1e-4)
    # second step with g2 = 1: m = 0.9*0.1*g1 + 0.1*g2 (before correction), etc.
    g1, g2 = 40.0, 1.0
    m = 0.9 * (0.1 * g1) + 0.1 * g2
    v = 0.999 * (0.001 * g1 ** 2) + 0.001 * g2 ** 2
    step = 0.01 * (m / (1 - 0.9 ** 2)) / (math.sqrt(v / (1 - 0.999 ** 2)) + 1e-8)
    before = params["w"][2]
    opt.step(params, {"w": np.array([0.0, 0.0, g2])})
    assert params["w"][2] == pytest.approx(before - step, rel=1e-10)


def test_step_is_in_place_and_keeps_float32():
    w = np.ones(3, np.float32)
    params = {"w": w}
    Adam(lr=0.1).step(params, {"w": np.ones(3, np.float32)})
    assert params["w"] is w and w.dtype == np.float32 and np.all(w < 1)


def test_optimizers_reduce_a_quadratic():
    target = np.array([3.0, -1.0])
    for opt in (SGD(0.1), SGD(0.05, momentum=0.9), RMSprop(0.05), Adam(0.1)):
        params = {"w": np.zeros(2)}
        for _ in range(300):
            opt.step(params, {"w": 2 * (params["w"] - target)})
        np.testing.assert_allclose(params["w"], target, atol=0.05, err_msg=type(opt).__name__)


def test_clip_grad_norm():
    grads = {"a": np.array([3.0, 0.0]), "b": np.array([[4.0]])}
    assert global_norm(grads) == pytest.approx(5.0)
    clipped, norm = clip_grad_norm(grads, 1.0)
    assert norm == pytest.approx(5.0)
    np.testing.assert_allclose(clipped["a"], [0.6, 0.0])
    np.testing.assert_allclose(clipped["b"], [[0.8]])
    assert grads["a"][0] == 3.0  # the input is left alone
    same, _ = clip_grad_norm(grads, 10.0)
    np.testing.assert_array_equal(same["b"], grads["b"])
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(grads, 0.0)


def test_schedule_hook_sets_the_learning_rate_per_update():
    schedule = step_decay(1.0, 0.5, every=2)
    assert [schedule(t) for t in range(5)] == [1.0, 1.0, 0.5, 0.5, 0.25]
    opt = SGD(lr=1.0, schedule=schedule)
    params = {"w": np.zeros(1)}
    for _ in range(3):
        opt.step(params, {"w": np.ones(1)})
    assert params["w"][0] == pytest.approx(-(1.0 + 1.0 + 0.5))
    cosine = cosine_decay(1.0, 10, final_lr=0.1)
    assert cosine(0) == pytest.approx(1.0) and cosine(10) == pytest.approx(0.1)
    assert cosine(5) == pytest.approx(0.55) and cosine(50) == pytest.approx(0.1)


def test_optimizer_errors():
    with pytest.raises(ValueError, match="lr"):
        SGD(lr=0.0)
    with pytest.raises(ValueError, match="momentum"):
        SGD(momentum=1.0)
    with pytest.raises(ValueError, match="same keys"):
        SGD().step({"w": np.zeros(1)}, {"v": np.zeros(1)})
    with pytest.raises(ValueError, match="shape"):
        SGD().step({"w": np.zeros(1)}, {"w": np.zeros(2)})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_adam_gives_the_bits_of_the_numpy_reference(dtype, monkeypatch):
    """Several steps, clipped (scale < 1) and not, on parameters of several shapes: the compiled
    update and the reference agree to the bit, parameters and moments both. A Fortran-ordered
    parameter and one with a float64 gradient for a float32 parameter take the reference path,
    and must still match it (in float64 that gradient has the parameter's dtype); the others take
    the compiled path."""
    kernel, compiled_sizes = optimizer_kernels.adam_update, []

    def counted(p, *rest):
        compiled_sizes.append(p.size)
        kernel(p, *rest)

    monkeypatch.setattr(optimizer_kernels, "adam_update", counted)
    rng = np.random.default_rng(3)
    shapes = [(37, 5), (64,), (1,), (3, 4, 2), (6, 7)]
    params = {f"p{i}": rng.standard_normal(s).astype(dtype) for i, s in enumerate(shapes)}
    params["p4"] = np.asfortranarray(params["p4"])
    twin = {k: v.copy(order="K") for k, v in params.items()}
    compiled, reference = Adam(0.01, backend="numba"), Adam(0.01, backend="numpy")
    for step in range(6):
        grads = {k: (10 * rng.standard_normal(v.shape)).astype(dtype) for k, v in params.items()}
        grads["p2"] = grads["p2"].astype(np.float64)
        scale = 0.37 if step % 2 else 1.0
        compiled.step(params, grads, scale=scale)
        reference.step(twin, grads, scale=scale)
    for k in params:
        np.testing.assert_array_equal(params[k], twin[k], err_msg=k)
        for moment in ("m", "v"):
            np.testing.assert_array_equal(compiled.state[k][moment], reference.state[k][moment])
    assert compiled.state["p0"]["t"] == 6 and compiled.steps == 6
    compiled_shapes = [(37, 5), (64,), (3, 4, 2)] + ([(1,)] if dtype == np.float64 else [])
    assert sorted(compiled_sizes) == sorted(6 * [int(np.prod(s)) for s in compiled_shapes])


def test_a_step_with_scale_is_a_step_on_the_clipped_gradients():
    rng = np.random.default_rng(4)
    for make in (lambda: SGD(0.1, momentum=0.9), lambda: RMSprop(0.01), lambda: Adam(0.01)):
        a = {"w": rng.standard_normal((5, 3)).astype(np.float32)}
        b = {"w": a["w"].copy()}
        opt_a, opt_b = make(), make()
        for _ in range(3):
            grads = {"w": rng.standard_normal((5, 3)).astype(np.float32)}
            norm = global_norm(grads)
            opt_a.step(a, grads, scale=clip_scale(norm, 0.5))
            opt_b.step(b, clip_grad_norm(grads, 0.5, norm=norm)[0])
        np.testing.assert_array_equal(a["w"], b["w"], err_msg=type(opt_a).__name__)
    assert clip_scale(5.0, 1.0) == 0.2 and clip_scale(0.5, 1.0) == 1.0
    with pytest.raises(ValueError, match="max_norm"):
        clip_scale(1.0, -1.0)
    with pytest.raises(ValueError, match="backend"):
        Adam(backend="cuda")


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 1001])
def test_squared_norms_against_numpy(size):
    rng = np.random.default_rng(size)
    g = {"a": rng.standard_normal(size).astype(np.float32), "b": rng.standard_normal((size, 2)).T}
    squares = squared_norms(g)
    for name, array in g.items():
        expected = np.sum(np.square(array, dtype=np.float64))
        assert squares[name] == pytest.approx(expected, rel=1e-13, abs=0.0), name
