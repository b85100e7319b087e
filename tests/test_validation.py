"""Bad input raises a clear ValueError/TypeError naming the argument and the expected shape."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.cells import lstm_forward


@pytest.fixture
def net():
    return StackedRNN("lstm", input_size=3, hidden_sizes=[4, 2], backend="numpy")


def test_wrong_rank(net):
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, 3\); got shape \(5, 3\)"):
        net.forward(np.zeros((5, 3)))


def test_wrong_feature_size(net):
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, 3\); got shape \(2, 5, 4\)"):
        net.forward(np.zeros((2, 5, 4)))


def test_empty_sequence(net):
    with pytest.raises(ValueError, match=r"x must have at least one .* time step.*T=0"):
        net.forward(np.zeros((2, 0, 3)))


def test_non_finite_input(net):
    x = np.zeros((2, 5, 3))
    x[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="x contains non-finite values"):
        net.forward(x)


def test_integer_input(net):
    with pytest.raises(TypeError, match=r"x must be a floating-point array .*got dtype int"):
        net.forward(np.zeros((2, 5, 3), dtype=int))


def test_list_input(net):
    with pytest.raises(TypeError, match="x must be a numpy ndarray; got list"):
        net.forward([[[0.0, 0.0, 0.0]]])


def test_mismatched_initial_state_shape(net):
    states = net.zero_states(2)
    states[1]["c"] = np.zeros((2, 2))
    with pytest.raises(ValueError, match=r"initial_states\[1\]\['c'\] \(layer 2\) must have shape "
                                         r"\(1, 2, 2\) \(directions, N, H_2\); got \(2, 2\)"):
        net.forward(np.zeros((2, 5, 3)), states)


def test_initial_states_wrong_count_or_keys(net):
    with pytest.raises(ValueError, match="initial_states must be a list of 2 dicts"):
        net.forward(np.zeros((2, 5, 3)), net.zero_states(2)[:1])
    states = net.zero_states(2)
    del states[0]["c"]
    with pytest.raises(ValueError, match=r"initial_states\[0\] \(layer 1\) must have keys \('h', 'c'\)"):
        net.forward(np.zeros((2, 5, 3)), states)


def test_unknown_cell_and_backend():
    with pytest.raises(ValueError, match=r"cell must be one of \['gru', 'lstm', 'rnn'\]; got 'transformer'"):
        StackedRNN("transformer", 3, [4])
    with pytest.raises(ValueError, match="backend must be one of"):
        StackedRNN("rnn", 3, [4], backend="cuda")


def test_bad_constructor_arguments():
    with pytest.raises(ValueError, match="hidden_sizes must be a non-empty list of positive ints"):
        StackedRNN("rnn", 3, [4, 0])
    with pytest.raises(TypeError, match="dtype must be np.float32 or np.float64"):
        StackedRNN("rnn", 3, [4], dtype=np.int32)
    with pytest.raises(ValueError, match=r"skip edge \(1, 3\) adds a width-4 output to layer 3's width-2"):
        StackedRNN("rnn", 3, [4, 2, 2], skip="l-2")
    with pytest.raises(ValueError, match=r"skip edge \(2, 3\) must satisfy"):
        StackedRNN("rnn", 3, [4, 4, 4], skip=[(2, 3)])
    with pytest.raises(ValueError, match="clock_periods must be None or a list of 2 positive ints"):
        StackedRNN("rnn", 3, [4, 4], clock_periods=[1])
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\)"):
        StackedRNN("rnn", 3, [4, 4], dropout=1.0)


def test_backward_gradient_shapes(net):
    y, _, cache = net.forward(np.zeros((2, 5, 3)))
    with pytest.raises(ValueError, match=r"dy must have shape \(2, 5, 2\); got shape \(2, 2\)"):
        net.backward(np.zeros((2, 2)), cache)
    with pytest.raises(ValueError, match=r"dlayers\[1\] must have shape \(2, 5, 4\)"):
        net.backward(np.zeros_like(y), cache, dlayers={1: np.zeros((2, 5, 2))})
    with pytest.raises(ValueError, match="dlayers keys must be layer numbers 1..2; got 0"):
        net.backward(np.zeros_like(y), cache, dlayers={0: np.zeros((2, 5, 3))})
    with pytest.raises(ValueError, match=r"dstates\[0\]\['h'\] \(layer 1\) must have shape \(1, 2, 4\)"):
        net.backward(np.zeros_like(y), cache, dstates=[{"h": np.zeros((2, 4))}, None])


def test_mask_shape(net):
    with pytest.raises(ValueError, match=r"mask must have shape \(2, 5\); got shape \(2, 4\)"):
        net.forward(np.zeros((2, 5, 3)), mask=np.ones((2, 4), bool))


def test_cell_functions_check_their_arguments():
    with pytest.raises(ValueError, match=r"h0 must have shape \(2, 3\); got shape \(2, 4\)"):
        lstm_forward(np.zeros((2, 5, 3)), np.zeros((2, 4)), np.zeros((2, 3)),
                     np.zeros((3, 12)), np.zeros((3, 12)), np.zeros(12))
    with pytest.raises(ValueError, match=r"Wx must have shape \(D, 12\); got shape \(3, 8\)"):
        lstm_forward(np.zeros((2, 5, 3)), np.zeros((2, 3)), np.zeros((2, 3)),
                     np.zeros((3, 8)), np.zeros((3, 12)), np.zeros(12))


def test_recurrent_mask_shape():
    from minirnn.cells import get_cell, rnn_forward

    args = (np.zeros((2, 5, 3)), np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((4, 4)), np.zeros(4))
    for forward in (rnn_forward, get_cell("rnn").sequence_functions("numba")[0]):
        with pytest.raises(ValueError,
                           match=r"recurrent_mask must have shape \(2, 4\); got shape \(4,\)"):
            forward(*args, recurrent_mask=np.ones(4))


def test_sizes_must_be_ints_never_truncated():
    with pytest.raises(TypeError, match=r"hidden_sizes must be a non-empty list of positive ints; "
                                        r"got \[2.7\] \(hidden_sizes\[0\] is a float\)"):
        StackedRNN("rnn", 3, [2.7])
    with pytest.raises(TypeError, match=r"hidden_sizes must be .*; got \[4, 4.0\] "
                                        r"\(hidden_sizes\[1\] is a float\)"):
        StackedRNN("rnn", 3, [4, 4.0])  # even an integral float: sizes are ints
    with pytest.raises(TypeError, match=r"input_size must be a positive int; got 4.9 \(float\)"):
        StackedRNN("rnn", 4.9, [2])
    with pytest.raises(TypeError, match=r"hidden_sizes must be a non-empty list of positive ints; "
                                        r"got 'abc' \(str\)"):
        StackedRNN("rnn", 3, "abc")
    with pytest.raises(TypeError, match=r"clock_periods must be None or a list of 2 positive ints "
                                        r"\(one per layer\); got \[1.5, 2.5\] \(clock_periods\[0\] "
                                        r"is a float\)"):
        StackedRNN("rnn", 3, [4, 4], clock_periods=[1.5, 2.5])
    with pytest.raises(ValueError, match=r"clock_periods must be .*; got \[1, 0\] "
                                         r"\(clock_periods\[1\] = 0\)"):
        StackedRNN("rnn", 3, [4, 4], clock_periods=[1, 0])
    net = StackedRNN("rnn", np.int64(3), np.array([4, 5]), clock_periods=(np.int32(1), 2))
    assert (net.input_size, net.hidden_sizes, net.clock_periods) == (3, [4, 5], [1, 2])
    assert all(type(v) is int for v in [net.input_size, *net.hidden_sizes, *net.clock_periods])
    assert StackedRNN("rnn", 3, 4).hidden_sizes == [4]


@pytest.mark.parametrize("forget_bias", [np.nan, np.inf, -np.inf])
def test_forget_bias_must_be_finite(forget_bias):
    with pytest.raises(ValueError, match=f"forget_bias must be a finite real number; "
                                         f"got {forget_bias!r}"):
        StackedRNN("lstm", 3, [4], forget_bias=forget_bias)


def test_dropout_rng_takes_a_seed_like_default_rng():
    net = StackedRNN("lstm", 3, [4, 4], dropout=0.5, recurrent_dropout=0.3, backend="numpy")
    x = np.ones((2, 5, 3))
    caches = [net.forward(x, train=True, rng=rng)[2] for rng in (3, 3, np.random.default_rng(3))]
    for cache in caches[1:]:  # the seed 3, twice, and a generator seeded with 3: the same masks
        np.testing.assert_array_equal(cache.dropout[1], caches[0].dropout[1])
        for l in (1, 2):
            np.testing.assert_array_equal(cache.layers[l]["fwd"]["recurrent_mask"],
                                          caches[0].layers[l]["fwd"]["recurrent_mask"])
    assert not np.array_equal(net.forward(x, train=True, rng=4)[2].dropout[1], caches[0].dropout[1])
    with pytest.raises(TypeError, match=r"rng must be None, an int seed >= 0 or a "
                                        r"np.random.Generator; got 'x' \(str\)"):
        net.forward(x, train=True, rng="x")
    with pytest.raises(TypeError, match=r"rng must be .*; got 1.5 \(float\)"):
        net.forward(x, train=True, rng=1.5)
    with pytest.raises(ValueError, match="rng must be None, an int seed >= 0 .*; got -1"):
        net.forward(x, train=True, rng=-1)


@pytest.mark.parametrize("skip, entry", [([(1, 3, 4)], r"\(1, 3, 4\)"), ([("a", 3)], r"\('a', 3\)"),
                                         ([3], "3"), ([(1.0, 3)], r"\(1.0, 3\)")])
def test_malformed_skip_pairs_are_named(skip, entry):
    with pytest.raises(ValueError, match=r"skip must be None, 'l-2' or a list of \(src, dst\) "
                                         r"pairs of layer numbers \(ints\); got the entry " + entry):
        StackedRNN("rnn", 2, [3, 3, 3], skip=skip)


def test_forget_bias_that_is_not_a_number_is_named():
    with pytest.raises(TypeError, match="forget_bias"):
        StackedRNN("lstm", 2, [3], forget_bias="abc")
