"""PyTorch weight interop: layouts, round trips, and errors. Torch-only tests skip without it."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.interop import from_state_dict, states_from_torch, states_to_torch, to_torch


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_state_dict_round_trip_computes_the_same_function(cell, rng):
    net = StackedRNN(cell, 3, [4, 4], bidirectional=True, backend="numpy", seed=3)
    state_dict = to_torch(net)
    G = net.spec.gates
    assert state_dict["weight_ih_l1_reverse"].shape == (G * 4, 8)
    assert state_dict["weight_hh_l0"].shape == (G * 4, 4)
    back = from_state_dict(state_dict, cell, backend="numpy")
    assert set(back.params) == set(net.params)
    for k in net.params:
        np.testing.assert_array_equal(back.params[k], net.params[k])
    x = rng.standard_normal((2, 5, 3))
    np.testing.assert_array_equal(back.forward(x)[0], net.forward(x)[0])


def test_gru_keeps_the_candidate_recurrent_bias_apart():
    H = 2
    sd = {"weight_ih_l0": np.zeros((3 * H, 1)), "weight_hh_l0": np.zeros((3 * H, H)),
          "bias_ih_l0": np.arange(6.0), "bias_hh_l0": 10 * np.arange(6.0)}
    net = from_state_dict(sd, "gru", backend="numpy")
    np.testing.assert_array_equal(net.params["layers.1.fwd.b"], [0, 11, 22, 33, 4, 5])
    np.testing.assert_array_equal(net.params["layers.1.fwd.bhn"], [40, 50])


def test_states_layout_round_trip(rng):
    net = StackedRNN("lstm", 3, [4, 4, 4], bidirectional=True, backend="numpy")
    h, c = rng.standard_normal((2, 6, 5, 4))
    states = states_from_torch(net, h, c)
    assert len(states) == 3 and states[1]["h"].shape == (2, 5, 4)
    np.testing.assert_array_equal(states[1]["c"][1], c[3])  # layer 2, reverse direction
    h2, c2 = states_to_torch(states)
    np.testing.assert_array_equal(h2, h)
    np.testing.assert_array_equal(c2, c)


def test_to_torch_refuses_what_torch_cannot_hold():
    with pytest.raises(ValueError, match=r"PyTorch: it has unequal hidden sizes \[4, 2\]"):
        to_torch(StackedRNN("rnn", 3, [4, 2], backend="numpy"))
    with pytest.raises(ValueError, match=r"skip edges \[\(1, 3\)\]"):
        to_torch(StackedRNN("rnn", 3, [4, 4, 4], skip="l-2", backend="numpy"))
    with pytest.raises(ValueError, match=r"clock_periods=\[1, 2\] \(a PyTorch layer updates at "
                                         r"every step"):
        to_torch(StackedRNN("lstm", 3, [4, 4], clock_periods=[1, 2], backend="numpy"))
    with pytest.raises(ValueError, match="recurrent_dropout=0.25 .*no recurrent dropout"):
        to_torch(StackedRNN("gru", 3, [4, 4], recurrent_dropout=0.25, backend="numpy"))
    # every reason at once, in one message
    with pytest.raises(ValueError, match="unequal hidden sizes.*skip edges.*clock_periods"):
        to_torch(StackedRNN("rnn", 3, [3, 3, 2], skip=[(1, 3)], clock_periods=[1, 1, 4]))


def test_to_torch_takes_what_torch_can_hold():
    # all periods 1 is no clock; dropout between layers is torch's own `dropout`
    net = StackedRNN("lstm", 3, [4, 4], clock_periods=[1, 1], dropout=0.5, backend="numpy")
    assert set(to_torch(net)) == set(to_torch(StackedRNN("lstm", 3, [4, 4])))


def test_from_state_dict_names_missing_extra_and_misshapen_keys():
    state_dict = to_torch(StackedRNN("lstm", 3, [4, 4], bidirectional=True, backend="numpy"))
    without = {k: v for k, v in state_dict.items() if k != "weight_hh_l0"}
    with pytest.raises(ValueError, match=r"missing \['weight_hh_l0'\].*holds exactly "
                                         r"\['weight_ih_l0', 'weight_hh_l0', 'bias_ih_l0'"):
        from_state_dict(without, "lstm")
    without_bias = {k: v for k, v in state_dict.items() if k != "bias_hh_l1_reverse"}
    with pytest.raises(ValueError, match=r"missing \['bias_hh_l1_reverse'\]"):
        from_state_dict(without_bias, "lstm")
    with pytest.raises(ValueError, match=r"unexpected keys \['weight_hr_l0'\]"):
        from_state_dict({**state_dict, "weight_hr_l0": np.zeros((4, 4))}, "lstm")
    misshapen = {**state_dict, "weight_hh_l1": np.zeros((16, 5))}
    with pytest.raises(ValueError, match=r"state_dict\['weight_hh_l1'\] has shape \(16, 5\); "
                                         r"expected \(16, 4\)"):
        from_state_dict(misshapen, "lstm")
    with pytest.raises(ValueError, match=r"weight_hh_l0'\] has shape \(16, 4\); expected "
                                         r"\(16, 16\) for the input size 3 and hidden size 16"):
        from_state_dict(state_dict, "rnn")  # an LSTM's 4H = 16 rows read as a tanh RNN's H
    with pytest.raises(ValueError, match=r"weight_ih_l0'\] must be a \(3H, D\) matrix .*"
                                         r"got shape \(16, 3\)"):
        from_state_dict(state_dict, "gru")  # 16 rows are no GRU's 3H
    with pytest.raises(ValueError, match=r"weight_ih_l0'\] must be a \(4H, D\) matrix"):
        from_state_dict({**state_dict, "weight_ih_l0": np.zeros(16)}, "lstm")


def test_from_state_dict_without_biases_is_a_bias_free_module():
    state_dict = {k: v for k, v in to_torch(StackedRNN("rnn", 2, [3])).items()
                  if k.startswith("weight_")}
    net = from_state_dict(state_dict, "rnn", dropout=0.3)
    assert not net.params["layers.1.fwd.b"].any() and net.dropout == 0.3


@pytest.mark.torch
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
@pytest.mark.parametrize("num_layers,bidirectional,batch_first", [(1, False, True), (2, True, False),
                                                                   (3, True, True)])
def test_from_torch_module_and_back(cell, num_layers, bidirectional, batch_first, rng):
    torch = pytest.importorskip("torch")
    from minirnn.interop import from_torch, to_torch_module

    module_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    torch.manual_seed(0)
    module = module_class(3, 5, num_layers=num_layers, bidirectional=bidirectional,
                          batch_first=batch_first).double()
    net = from_torch(module, backend="numpy")
    assert net.num_layers == num_layers and net.bidirectional == bidirectional
    x = rng.standard_normal((2, 6, 3))
    x_torch = torch.from_numpy(x if batch_first else x.transpose(1, 0, 2).copy())
    y_torch, final = module(x_torch)
    y_torch = y_torch.detach().numpy()
    y_torch = y_torch if batch_first else y_torch.transpose(1, 0, 2)
    y, states, _ = net.forward(x)
    np.testing.assert_allclose(y, y_torch, atol=1e-12)
    h_n = (final[0] if cell == "lstm" else final).detach().numpy()
    np.testing.assert_allclose(states_to_torch(states)[0], h_n, atol=1e-12)
    again = to_torch_module(net, batch_first=True)
    np.testing.assert_allclose(again(torch.from_numpy(x))[0].detach().numpy(), y, atol=1e-12)


@pytest.mark.torch
def test_from_torch_rejects_unsupported_modules():
    torch = pytest.importorskip("torch")
    from minirnn.interop import from_torch

    with pytest.raises(ValueError, match="nonlinearity='tanh'"):
        from_torch(torch.nn.RNN(3, 4, nonlinearity="relu"))
    with pytest.raises(ValueError, match="proj_size=2"):
        from_torch(torch.nn.LSTM(3, 4, proj_size=2))
    with pytest.raises(ValueError, match="got Linear"):
        from_torch(torch.nn.Linear(3, 4))


@pytest.mark.torch
def test_dropout_crosses_over_both_ways():
    torch = pytest.importorskip("torch")
    from minirnn.interop import from_torch, to_torch_module

    net = from_torch(torch.nn.LSTM(3, 4, num_layers=2, dropout=0.5), backend="numpy")
    assert net.dropout == 0.5 and net.recurrent_dropout == 0.0
    assert to_torch_module(net).dropout == 0.5
    assert from_torch(torch.nn.GRU(3, 4), backend="numpy").dropout == 0.0
    # one layer drops nothing in either library; torch is not asked to (it would warn)
    assert to_torch_module(StackedRNN("gru", 3, [4], dropout=0.5)).dropout == 0.0


@pytest.mark.torch
def test_to_torch_module_refuses_a_clocked_stack(rng):
    torch = pytest.importorskip("torch")
    from minirnn.interop import to_torch_module

    net = StackedRNN("lstm", 3, [4, 4], clock_periods=[1, 3], backend="numpy")
    with pytest.raises(ValueError, match=r"cannot export this StackedRNN to PyTorch: it has "
                                         r"clock_periods=\[1, 3\]"):
        to_torch_module(net)
    # why: the same weights in a torch module compute another function
    clockless = StackedRNN("lstm", 3, [4, 4], backend="numpy")
    clockless.params = {k: v.copy() for k, v in net.params.items()}
    x = rng.standard_normal((2, 6, 3))
    y_torch = to_torch_module(clockless)(torch.from_numpy(x))[0].detach().numpy()
    np.testing.assert_allclose(clockless.forward(x)[0], y_torch, atol=1e-12)
    assert np.abs(net.forward(x)[0] - y_torch).max() > 1e-3


def test_from_state_dict_takes_the_weights_dtype(rng):
    """float32 weights give a float32 network unless dtype= says otherwise (a side-by-side
    comparison with a float32 torch module is float32 on both sides)."""
    state_dict = to_torch(StackedRNN("gru", 3, [4], seed=1))
    single = {k: v.astype(np.float32) for k, v in state_dict.items()}
    assert from_state_dict(single, "gru").dtype == np.float32
    assert from_state_dict(state_dict, "gru").dtype == np.float64
    assert from_state_dict(single, "gru", dtype=np.float64).dtype == np.float64
    half = {k: v.astype(np.float16) for k, v in state_dict.items()}
    assert from_state_dict(half, "gru").dtype == np.float64


@pytest.mark.torch
def test_from_torch_takes_the_modules_dtype():
    torch = pytest.importorskip("torch")
    from minirnn.interop import from_torch

    assert from_torch(torch.nn.LSTM(3, 4)).dtype == np.float32
    assert from_torch(torch.nn.LSTM(3, 4).double()).dtype == np.float64
    net = from_torch(torch.nn.LSTM(3, 4), dtype=np.float64)
    assert net.dtype == np.float64 and net.params["layers.1.fwd.Wx"].dtype == np.float64
