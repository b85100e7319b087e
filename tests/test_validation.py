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
    with pytest.raises(ValueError, match="clock_periods must hold 2 positive ints"):
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
