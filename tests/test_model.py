"""Sequential and the Recurrent adapter: names, shared arrays, and end-to-end gradient checks."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.gradcheck import check_gradients
from minirnn.layers import Dense, Embedding
from minirnn.losses import mean_squared_error, softmax_cross_entropy
from minirnn.model import Recurrent, Sequential


def classifier(cell="lstm", bidirectional=True, return_sequences=False, classes=3):
    net = StackedRNN(cell, input_size=3, hidden_sizes=[3, 2], bidirectional=bidirectional,
                     return_sequences=return_sequences, seed=1, backend="numpy")
    width = net.output_widths()[-1]
    return Sequential([("embed", Embedding(7, 3, padding_idx=0, seed=2)),
                       ("rnn", Recurrent(net)),
                       ("head", Dense(width, classes, seed=3))])


def nonzero_biases(model, rng):
    for name, p in model.params.items():
        if name.endswith((".b", ".bhn")):
            p[...] = 0.3 * rng.standard_normal(p.shape)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_end_to_end_gradcheck_many_to_one(cell):
    rng = np.random.default_rng(0)
    model = classifier(cell)
    nonzero_biases(model, rng)
    ids = rng.integers(1, 7, size=(4, 5))
    labels = rng.integers(0, 3, size=4)

    def loss():
        return softmax_cross_entropy(model.forward(ids)[0], labels)[0]

    out, cache = model.forward(ids)
    _, dout = softmax_cross_entropy(out, labels)
    dx, grads = model.backward(dout, cache)
    assert dx is None and list(grads) == list(model.params)
    errors = check_gradients(loss, model.params, grads, 1.0)
    assert max(errors.values()) < 1e-6, errors


def test_end_to_end_gradcheck_sequence_output_with_masked_loss():
    rng = np.random.default_rng(1)
    net = StackedRNN("gru", 2, [4, 3], seed=0, backend="numpy")
    model = Sequential([Recurrent(net), Dense(3, 2, activation="tanh"), Dense(2, 1)])
    nonzero_biases(model, rng)
    x, y = rng.standard_normal((3, 6, 2)), rng.standard_normal((3, 6, 1))
    loss_mask = rng.uniform(size=(3, 6)) < 0.7
    out, cache = model.forward(x)
    assert out.shape == (3, 6, 1)
    _, dout = mean_squared_error(out, y, loss_mask)
    dx, grads = model.backward(dout, cache)
    inputs, analytic = dict(model.params, x=x), dict(grads, x=dx)
    errors = check_gradients(lambda: mean_squared_error(model.forward(x)[0], y, loss_mask)[0],
                             inputs, analytic, 1.0)
    assert max(errors.values()) < 1e-6, errors


def test_parameter_names_and_shared_arrays():
    model = classifier("gru", bidirectional=False)
    expected = {"embed.W", "head.W", "head.b"} | {
        f"rnn.layers.{l}.fwd.{p}" for l in (1, 2) for p in ("Wx", "Wh", "b", "bhn")}
    assert set(model.params) == expected
    model.params["rnn.layers.2.fwd.Wh"][0, 0] = 123.0  # the merged dict holds the layers' arrays
    assert model.layers["rnn"].net.params["layers.2.fwd.Wh"][0, 0] == 123.0
    defaults = Sequential([Dense(2, 2), Dense(2, 2), Recurrent(StackedRNN("lstm", 2, [2]))])
    assert list(defaults.layers) == ["dense", "dense_2", "lstm"]


def test_final_states_and_initial_states_pass_through():
    rng = np.random.default_rng(2)
    net = StackedRNN("lstm", 2, [3, 2], seed=0, backend="numpy")
    model = Sequential([("rnn", Recurrent(net)), Dense(2, 1)])
    x = rng.standard_normal((2, 4, 2))
    initial = net.random_states(2, rng)
    out, cache = model.forward(x, initial_states={"rnn": initial})
    y, states, _ = net.forward(x, initial)
    for got, want in zip(cache.final_states["rnn"], states):
        np.testing.assert_array_equal(got["c"], want["c"])
    # running the sequence in two halves, carrying the states, equals one run
    _, first = model.forward(x[:, :2])
    second_out, _ = model.forward(x[:, 2:], initial_states=first.final_states)
    whole_out, _ = model.forward(x)
    np.testing.assert_allclose(second_out, whole_out[:, 2:], rtol=1e-12)


def test_output_mask_is_consumed_by_a_summary_layer():
    model = classifier(return_sequences=False)
    _, cache = model.forward(np.ones((2, 3), int))
    assert cache.output_mask is None


def test_bad_layers_and_names():
    with pytest.raises(TypeError, match="Recurrent"):
        Sequential([StackedRNN("rnn", 2, [2])])
    with pytest.raises(ValueError, match="unique"):
        Sequential([("a", Dense(2, 2)), ("a", Dense(2, 2))])
    with pytest.raises(ValueError, match="'.'"):
        Sequential([("a.b", Dense(2, 2))])
    with pytest.raises(ValueError, match="at least one"):
        Sequential([])
    model = Sequential([Dense(2, 2)])
    with pytest.raises(ValueError, match="recurrent layers"):
        model.forward(np.ones((1, 2)), initial_states={"dense": []})


def padded_batch(rng, lengths, T, vocab=7):
    ids = np.zeros((len(lengths), T), int)
    mask = np.zeros((len(lengths), T), bool)
    for n, length in enumerate(lengths):
        ids[n, :length] = rng.integers(1, vocab, length)
        mask[n, :length] = True
    return ids, mask


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_padded_sequences_match_their_unpadded_runs(cell):
    rng = np.random.default_rng(5)
    model = classifier(cell, bidirectional=True)
    nonzero_biases(model, rng)
    ids, mask = padded_batch(rng, [5, 2, 4], T=6)
    out, cache = model.forward(ids, mask=mask)
    dout = rng.standard_normal(out.shape)
    _, grads = model.backward(dout, cache)
    summed = {k: np.zeros_like(v) for k, v in grads.items()}
    for n, length in enumerate([5, 2, 4]):
        alone, alone_cache = model.forward(ids[n:n + 1, :length])  # no padding, no mask
        np.testing.assert_allclose(out[n], alone[0], rtol=1e-10, atol=1e-12)
        for k, g in model.backward(dout[n:n + 1], alone_cache)[1].items():
            summed[k] += g
    for k in grads:  # padded steps give no gradient: the batch gradient is the sum of the runs
        np.testing.assert_allclose(grads[k], summed[k], rtol=1e-9, atol=1e-12, err_msg=k)
    full = np.ones_like(mask)  # an all-True mask is the unmasked run
    np.testing.assert_array_equal(model.forward(ids, mask=full)[0], model.forward(ids)[0])


def test_gradcheck_with_mask_and_fixed_dropout():
    rng = np.random.default_rng(6)
    net = StackedRNN("lstm", 3, [4, 3], dropout=0.4, return_sequences=True, seed=0,
                     backend="numpy")
    model = Sequential([Embedding(7, 3, padding_idx=0), Recurrent(net), Dense(3, 2)])
    nonzero_biases(model, rng)
    ids, mask = padded_batch(rng, [4, 3, 2], T=4)
    labels = rng.integers(0, 2, (3, 4))

    def loss():  # the same seed gives the same dropout masks in every evaluation
        out, cache = model.forward(ids, mask=mask, train=True, rng=np.random.default_rng(9))
        return softmax_cross_entropy(out, labels, cache.output_mask)

    out, cache = model.forward(ids, mask=mask, train=True, rng=np.random.default_rng(9))
    np.testing.assert_array_equal(cache.output_mask, mask)
    _, grads = model.backward(loss()[1], cache)
    errors = check_gradients(lambda: loss()[0], model.params, grads, 1.0)
    assert max(errors.values()) < 1e-6, errors
    evaluation = model.forward(ids, mask=mask)[0]  # dropout off outside training
    assert not np.allclose(out, evaluation)
    np.testing.assert_array_equal(evaluation, model.forward(ids, mask=mask)[0])
