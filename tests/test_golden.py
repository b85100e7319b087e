"""Second witness: minirnn against PyTorch 2.13 on the same weights, inputs and upstream gradients.

The committed fixtures (tests/golden/*.npz, made by tests/golden/make_golden.py) need no torch;
test_live_torch_agrees recomputes them with torch when it is installed and skips otherwise.
"""
import pathlib
import sys

import numpy as np
import pytest

from minirnn.interop import from_state_dict, states_from_torch, states_to_torch

GOLDEN = pathlib.Path(__file__).parent / "golden"
sys.path.insert(0, str(GOLDEN))
from make_golden import CASES, fixture_name, torch_reference  # noqa: E402

TOL = 1e-10


def minirnn_like_torch(cell, reference, backend):
    """minirnn's outputs and gradients for a fixture, under torch's names and layouts."""
    weights = {k[len("torch."):]: v for k, v in reference.items() if k.startswith("torch.")}
    net = from_state_dict(weights, cell, backend=backend)
    names = net.spec.state_names
    initial = states_from_torch(net, *(reference[f"{n}0"] for n in names))
    y, states, cache = net.forward(reference["x"], initial)
    dstates = states_from_torch(net, *(reference[f"d{n}_n"] for n in names))
    dx, grads, dinitial = net.backward(reference["dy"], cache, dstates, return_dinitial=True)
    out = {"y": y, "grad.x": dx}
    for n, final, dinit in zip(names, states_to_torch(states), states_to_torch(dinitial)):
        out.update({f"{n}_n": final, f"grad.{n}0": dinit})
    H = net.hidden_sizes[0]
    for l in range(1, net.num_layers + 1):
        for d, suffix in (("fwd", ""), ("bwd", "_reverse")):
            if d not in net.directions:
                continue
            g = {name: grads[f"layers.{l}.{d}.{name}"] for name in net.spec.param_names}
            s = f"_l{l - 1}{suffix}"
            # b = bias_ih + bias_hh, so both biases get db (the GRU's n block: db and dbhn)
            bias_hh = np.concatenate([g["b"][:2 * H], g["bhn"]]) if cell == "gru" else g["b"]
            out.update({f"grad.weight_ih{s}": g["Wx"].T, f"grad.weight_hh{s}": g["Wh"].T,
                        f"grad.bias_ih{s}": g["b"], f"grad.bias_hh{s}": bias_hh})
    return out


def compare(ours, reference):
    expected = {k for k in reference if k == "y" or k.endswith("_n") and not k.startswith("d")
                or k.startswith("grad.")}
    assert set(ours) == expected
    errors = {k: float(np.max(np.abs(ours[k] - reference[k]))) for k in expected}
    assert max(errors.values()) < TOL, errors
    return errors


@pytest.mark.parametrize("backend", ["numpy", "numba"])
@pytest.mark.parametrize("cell,layers,bidirectional", CASES)
def test_matches_committed_torch_fixture(cell, layers, bidirectional, backend):
    with np.load(GOLDEN / fixture_name(cell, layers, bidirectional), allow_pickle=False) as f:
        reference = dict(f)
    compare(minirnn_like_torch(cell, reference, backend), reference)


@pytest.mark.torch
@pytest.mark.parametrize("cell,layers,bidirectional", CASES)
def test_live_torch_agrees(cell, layers, bidirectional):
    pytest.importorskip("torch")
    seed = CASES.index((cell, layers, bidirectional))
    reference = torch_reference(cell, layers, bidirectional, seed)
    compare(minirnn_like_torch(cell, reference, "numpy"), reference)
