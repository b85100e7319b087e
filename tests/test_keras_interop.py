"""Keras weight layouts, checked against a hand-written fixture and a Keras-formula forward pass
written here from the Keras documentation (Keras itself is not needed)."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.cells.activations import sigmoid
from minirnn.interop.keras import (from_keras, layer_from_keras, layer_to_keras,
                                   load_keras_weights, to_keras)
from minirnn.layers import Dense, Embedding
from minirnn.model import Recurrent, Sequential


def test_gru_fixture_reorders_gates_and_splits_the_bias():
    # D = 1, H = 2. Keras column blocks are z | r | h; each entry names its gate and unit.
    kernel = np.array([[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]])              # z0 z1 r0 r1 h0 h1
    recurrent = np.arange(12, dtype=float).reshape(2, 6) + 100.0
    bias = np.array([[10.0, 11.0, 12.0, 13.0, 14.0, 15.0],           # input bias     z z r r h h
                     [20.0, 21.0, 22.0, 23.0, 24.0, 25.0]])          # recurrent bias z z r r h h
    ours = layer_from_keras("gru", kernel, recurrent, bias)
    np.testing.assert_array_equal(ours["Wx"], [[3.0, 4.0, 1.0, 2.0, 5.0, 6.0]])  # r r z z n n
    np.testing.assert_array_equal(ours["Wh"], [[102.0, 103.0, 100.0, 101.0, 104.0, 105.0],
                                               [108.0, 109.0, 106.0, 107.0, 110.0, 111.0]])
    np.testing.assert_array_equal(ours["b"], [12 + 22, 13 + 23, 10 + 20, 11 + 21, 14, 15])
    np.testing.assert_array_equal(ours["bhn"], [24.0, 25.0])
    back = layer_to_keras("gru", ours)
    np.testing.assert_array_equal(back[0], kernel)
    np.testing.assert_array_equal(back[1], recurrent)
    np.testing.assert_array_equal(back[2], [[10 + 20, 11 + 21, 12 + 22, 13 + 23, 14, 15],
                                            [0, 0, 0, 0, 24, 25]])


def test_lstm_and_simple_rnn_fixtures_copy_as_they_are():
    kernel = np.arange(8, dtype=float).reshape(1, 8)                  # i i f f c c o o (H = 2)
    recurrent = np.arange(16, dtype=float).reshape(2, 8)
    bias = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0])       # unit_forget_bias
    ours = layer_from_keras("lstm", kernel, recurrent, bias)
    np.testing.assert_array_equal(ours["Wx"], kernel)
    np.testing.assert_array_equal(ours["b"][2:4], [1.0, 1.0])       # forget gate is block 2 of 4
    ours = layer_from_keras("rnn", np.ones((3, 2)), 2 * np.ones((2, 2)), np.array([5.0, 6.0]))
    assert set(ours) == {"Wx", "Wh", "b"} and ours["b"].tolist() == [5.0, 6.0]


# ---- Keras' equations, written out (keras/src/layers/rnn/{simple_rnn,lstm,gru}.py) ----------------
def keras_step(cell, x, h, c, kernel, recurrent_kernel, bias):
    if cell == "rnn":
        return np.tanh(x @ kernel + bias + h @ recurrent_kernel), None
    if cell == "lstm":
        z = x @ kernel + h @ recurrent_kernel + bias
        i, f, cc, o = np.split(z, 4, axis=-1)
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(cc)
        return sigmoid(o) * np.tanh(c), c
    H = h.shape[-1]
    x_z, x_r, x_h = np.split(x @ kernel + bias[0], 3, axis=-1)
    inner = h @ recurrent_kernel + bias[1]
    rec_z, rec_r, rec_h = inner[:, :H], inner[:, H:2 * H], inner[:, 2 * H:]
    z, r = sigmoid(x_z + rec_z), sigmoid(x_r + rec_r)
    hh = np.tanh(x_h + r * rec_h)
    return z * h + (1 - z) * hh, None


def keras_layer(cell, x, kernel, recurrent_kernel, bias, go_backwards=False):
    N, T, _ = x.shape
    H = recurrent_kernel.shape[0]
    h, c, outs = np.zeros((N, H)), np.zeros((N, H)), []
    for t in (range(T - 1, -1, -1) if go_backwards else range(T)):
        h, c = keras_step(cell, x[:, t], h, c, kernel, recurrent_kernel, bias)
        outs.append(h)
    seq = np.stack(outs, axis=1)
    return seq[:, ::-1] if go_backwards else seq  # Bidirectional re-reverses the backward layer


def random_keras_weights(cell, D, H, rng, directions=1):
    G = {"rnn": 1, "lstm": 4, "gru": 3}[cell]
    bias_shape = (2, G * H) if cell == "gru" else (G * H,)
    return [0.5 * rng.standard_normal(s) for _ in range(directions)
            for s in ((D, G * H), (H, G * H), bias_shape)]


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_outputs_match_the_keras_equations(cell, bidirectional):
    rng = np.random.default_rng(0)
    dirs = 2 if bidirectional else 1
    weights = random_keras_weights(cell, 3, 4, rng, dirs) + random_keras_weights(cell, 4 * dirs, 2,
                                                                                  rng, dirs)
    net = from_keras(cell, weights, bidirectional=bidirectional, backend="numpy")
    assert net.hidden_sizes == [4, 2] and net.input_size == 3
    x = rng.standard_normal((2, 5, 3))
    expected = x
    for layer in range(2):
        w = weights[3 * dirs * layer:3 * dirs * (layer + 1)]
        outs = [keras_layer(cell, expected, *w[3 * k:3 * k + 3], go_backwards=k == 1)
                for k in range(dirs)]
        expected = np.concatenate(outs, axis=-1)
    np.testing.assert_allclose(net.forward(x)[0], expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_round_trip_through_keras_layout_is_exact(dtype):
    rng = np.random.default_rng(1)
    for cell in ("rnn", "lstm", "gru"):
        net = StackedRNN(cell, 3, [4, 4], bidirectional=True, dtype=dtype, seed=2, backend="numpy")
        for p in net.params.values():
            p[...] = rng.standard_normal(p.shape)
        weights = to_keras(net)
        assert len(weights) == 12
        copy = from_keras(cell, weights, bidirectional=True, dtype=dtype, backend="numpy")
        for name, p in net.params.items():
            assert copy.params[name].dtype == p.dtype
            assert copy.params[name].tobytes() == p.tobytes(), (cell, name)


def test_tutorial_sequential_in_keras_order():
    # Keras: Embedding(20, 8) -> SimpleRNN(5, return_sequences=True) -> SimpleRNN(5) -> Dense(1)
    rng = np.random.default_rng(3)
    weights = [rng.standard_normal((20, 8))] + random_keras_weights("rnn", 8, 5, rng) + \
        random_keras_weights("rnn", 5, 5, rng) + [rng.standard_normal((5, 1)), np.array([0.7])]
    model = Sequential([Embedding(20, 8), Recurrent(StackedRNN("rnn", 8, [5, 5],
                                                               return_sequences=False,
                                                               backend="numpy")), Dense(5, 1)])
    embedding_array = model.layers["embedding"].params["W"]
    load_keras_weights(model, weights)
    assert model.layers["embedding"].params["W"] is embedding_array  # filled in place
    ids = rng.integers(0, 20, (3, 6))
    h = weights[0][ids]
    for k in (1, 4):
        h = keras_layer("rnn", h, *weights[k:k + 3])
    expected = h[:, -1] @ weights[7] + weights[8]
    np.testing.assert_allclose(model.forward(ids)[0], expected, rtol=1e-12)
    exported = to_keras(model)
    assert [w.shape for w in exported] == [w.shape for w in weights]
    for a, b in zip(exported, weights):
        np.testing.assert_array_equal(a, b)


def test_keras_errors():
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="reset_after=False"):
        layer_from_keras("gru", np.ones((2, 6)), np.ones((2, 6)), np.ones(6))
    with pytest.raises(ValueError, match="recurrent_kernel must have shape"):
        layer_from_keras("lstm", np.ones((2, 8)), np.ones((2, 6)), np.ones(8))
    with pytest.raises(ValueError, match="3 arrays"):
        from_keras("rnn", random_keras_weights("rnn", 2, 3, rng)[:2])
    net = StackedRNN("lstm", 2, [3, 3])
    with pytest.raises(ValueError, match="ran out"):
        load_keras_weights(net, random_keras_weights("lstm", 2, 3, rng))
    with pytest.raises(ValueError, match="left over"):
        load_keras_weights(net, random_keras_weights("lstm", 2, 3, rng) * 3)
    with pytest.raises(ValueError, match=r"layers.2.fwd.Wx has shape \(2, 12\).*\(3, 12\)"):
        load_keras_weights(net, random_keras_weights("lstm", 2, 3, rng)
                           + random_keras_weights("lstm", 2, 3, rng))
    with pytest.raises(ValueError, match="skip edges"):
        load_keras_weights(StackedRNN("rnn", 2, [2, 2, 2], skip="l-2"), [])
    with pytest.raises(ValueError, match="cell"):
        from_keras("transformer", [])


def test_to_keras_refuses_what_keras_layers_cannot_express():
    with pytest.raises(ValueError, match=r"export this StackedRNN to Keras: it has "
                                         r"clock_periods=\[2, 1\] \(a Keras layer updates"):
        to_keras(StackedRNN("lstm", 2, [3, 3], clock_periods=[2, 1]))
    with pytest.raises(ValueError, match=r"skip edges \[\(0, 2\)\]"):
        to_keras(StackedRNN("rnn", 2, [2, 2], skip=[(0, 2)]))
    for cell in ("lstm", "gru"):
        with pytest.raises(ValueError, match=f"recurrent_dropout=0.2 in a {cell} .*one mask per "
                                             f"gate block"):
            to_keras(StackedRNN(cell, 2, [3, 3], recurrent_dropout=0.2))
    clocked = Sequential([("embed", Embedding(5, 2)),
                          ("rnn", Recurrent(StackedRNN("gru", 2, [3], clock_periods=[4])))])
    with pytest.raises(ValueError, match=r"the StackedRNN of layer 'rnn' to Keras: it has "
                                         r"clock_periods=\[4\]"):
        to_keras(clocked)
    with pytest.raises(ValueError, match=r"load Keras weights into the StackedRNN of layer 'rnn': "
                                         r"it has clock_periods=\[4\]"):
        load_keras_weights(clocked, to_keras(Sequential([Embedding(5, 2), Recurrent(
            StackedRNN("gru", 2, [3]))])))


def test_to_keras_takes_what_keras_layers_express():
    # unequal widths, periods of 1, dropout between layers (a keras Dropout layer) and a
    # SimpleRNN's recurrent dropout (one mask on h_{t-1}, as here) all export
    net = StackedRNN("rnn", 2, [4, 3], clock_periods=[1, 1], dropout=0.5, recurrent_dropout=0.3)
    weights = to_keras(net)
    assert [w.shape for w in weights] == [(2, 4), (4, 4), (4,), (4, 3), (3, 3), (3,)]
    copy = from_keras("rnn", weights)
    for name, p in net.params.items():
        np.testing.assert_array_equal(copy.params[name], p)


def test_a_clocked_layer_is_another_function_than_the_keras_layer():
    # why to_keras refuses clocks: the Keras equations on the same weights differ
    rng = np.random.default_rng(5)
    weights = random_keras_weights("lstm", 2, 3, rng)
    x = rng.standard_normal((2, 6, 2))
    keras = keras_layer("lstm", x, *weights)
    plain = load_keras_weights(StackedRNN("lstm", 2, [3], backend="numpy"), weights)
    np.testing.assert_allclose(plain.forward(x)[0], keras, rtol=1e-12, atol=1e-12)
    clocked = StackedRNN("lstm", 2, [3], clock_periods=[2], backend="numpy")
    clocked.params = {k: v.copy() for k, v in plain.params.items()}
    assert np.abs(clocked.forward(x)[0] - keras).max() > 1e-3
