"""Embedding and Dense: forward against hand-written loops, backward against finite differences."""
import numpy as np
import pytest

from minirnn.gradcheck import check_gradients, numerical_gradient, relative_error
from minirnn.layers import Dense, Embedding


def test_embedding_forward_is_a_row_lookup():
    emb = Embedding(6, 3, seed=1)
    ids = np.array([[0, 5, 2], [2, 2, 1]])
    out, _ = emb.forward(ids)
    assert out.shape == (2, 3, 3)
    for n in range(2):
        for t in range(3):
            np.testing.assert_array_equal(out[n, t], emb.params["W"][ids[n, t]])


def test_embedding_gradient_accumulates_repeated_ids():
    emb = Embedding(5, 2, seed=0)
    ids = np.array([[1, 3, 1], [1, 0, 4]])
    dout = np.arange(12, dtype=np.float64).reshape(2, 3, 2)
    _, cache = emb.forward(ids)
    dx, grads = emb.backward(dout, cache)
    assert dx is None
    expected = np.zeros((5, 2))
    for n in range(2):
        for t in range(3):
            expected[ids[n, t]] += dout[n, t]
    np.testing.assert_allclose(grads["W"], expected)
    assert grads["W"][1].tolist() == [0 + 4 + 6, 1 + 5 + 7]


def test_embedding_gradient_sums_in_order_of_position_bit_for_bit():
    """Many repeats in float32: the flat add.at adds each id's rows in the order they occur,
    exactly as a loop over the positions does (to the bit)."""
    rng = np.random.default_rng(5)
    emb = Embedding(7, 3, dtype=np.float32)
    ids = rng.integers(0, 7, (6, 9))
    dout = rng.standard_normal((6, 9, 3)).astype(np.float32)
    _, grads = emb.backward(dout, emb.forward(ids)[1])
    expected = np.zeros((7, 3), np.float32)
    for n in range(6):
        for t in range(9):
            expected[ids[n, t]] += dout[n, t]
    np.testing.assert_array_equal(grads["W"], expected)


def test_embedding_gradcheck_and_padding_row():
    rng = np.random.default_rng(0)
    emb = Embedding(7, 4, padding_idx=0, seed=3)
    assert np.all(emb.params["W"][0] == 0.0)
    ids = rng.integers(0, 7, size=(3, 5))
    ids[0, 3:] = 0  # padded tail
    dout = rng.standard_normal((3, 5, 4))
    _, cache = emb.forward(ids)
    _, grads = emb.backward(dout, cache)
    assert np.all(grads["W"][0] == 0.0)  # the padding row never learns
    numeric = numerical_gradient(lambda: emb.forward(ids)[0], emb.params["W"], dout)
    assert relative_error(grads["W"][1:], numeric[1:]) < 1e-8


def test_embedding_rejects_bad_ids():
    emb = Embedding(4, 2)
    with pytest.raises(TypeError, match="ids"):
        emb.forward(np.array([[0.0, 1.0]]))
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        emb.forward(np.array([[0, 4]]))
    with pytest.raises(ValueError, match="padding_idx"):
        Embedding(4, 2, padding_idx=4)


@pytest.mark.parametrize("activation", [None, "tanh", "sigmoid", "relu"])
@pytest.mark.parametrize("leading", [(4,), (3, 5)])
def test_dense_gradcheck(activation, leading):
    rng = np.random.default_rng(1)
    dense = Dense(3, 2, activation=activation, seed=2)
    dense.params["b"][:] = rng.standard_normal(2)  # nonzero bias
    x = rng.standard_normal(leading + (3,))
    out, cache = dense.forward(x)
    assert out.shape == leading + (2,)
    dout = rng.standard_normal(out.shape)
    dx, grads = dense.backward(dout, cache)
    errors = check_gradients(lambda: dense.forward(x)[0], dict(dense.params, x=x),
                             dict(grads, x=dx), dout)
    assert max(errors.values()) < 1e-7, errors


def test_dense_forward_matches_formula():
    dense = Dense(2, 3, activation="tanh", seed=0)
    x = np.array([[1.0, -2.0]])
    W, b = dense.params["W"], dense.params["b"]
    expected = [np.tanh(sum(x[0, i] * W[i, k] for i in range(2)) + b[k]) for k in range(3)]
    np.testing.assert_allclose(dense.forward(x)[0][0], expected, rtol=1e-12)


def test_dense_float32_and_errors():
    dense = Dense(3, 2, dtype=np.float32)
    out, cache = dense.forward(np.ones((2, 3)))
    assert out.dtype == np.float32
    dx, grads = dense.backward(np.ones((2, 2), np.float32), cache)
    assert grads["W"].dtype == np.float32 and dx.dtype == np.float32
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        dense.forward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="activation"):
        Dense(3, 2, activation="softmax")
    with pytest.raises(TypeError, match="dtype"):
        Dense(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match="dout"):
        dense.backward(np.ones((2, 3)), cache)
