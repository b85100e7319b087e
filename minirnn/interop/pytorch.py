"""PyTorch weights <-> StackedRNN, without importing torch at module level.

Layouts. PyTorch stores column-vector weights `weight_ih_l{k}: (G*H, D_in)` and
`weight_hh_l{k}: (G*H, H)` with two biases `bias_ih_l{k}`, `bias_hh_l{k}`: (G*H,), and the reverse
direction under the suffix `_reverse`. minirnn uses the row-vector layout `Wx = weight_ih.T`,
`Wh = weight_hh.T`, and the gate orders are the same (LSTM i,f,g,o; GRU r,z,n). The two biases
fold into one (biases.py), b = bias_ih + bias_hh, except for the GRU candidate n, whose recurrent
bias sits inside the reset product and is kept apart as bhn = bias_hh[2H:3H]. PyTorch layer k is
minirnn layer k + 1. batch_first only changes how a torch module reads its input, not its weights.
A cell matches a torch module through its CellSpec's `torch_mode`.

What crosses over besides the weights. torch's `dropout` argument is minirnn's `dropout`: inverted
dropout, a fresh mask per element and step, on every layer's output but the top one, in training
only; from_torch and to_torch_module carry it. A torch stack has one hidden size, no skip edges,
no clocks and no recurrent dropout, so to_torch (and to_torch_module) refuse a network with any
of them (limits.py): exported, it would compute, or train, another function.
Masks are per call, not part of the model: minirnn's `mask` carries the state over padded steps
and starts a reverse direction at each sequence's true end. torch's modules take no mask; a
right-padded batch packed with nn.utils.rnn.pack_padded_sequence gives the same final states and
the same outputs at the real steps (pad_packed_sequence puts zeros where minirnn's forward
direction repeats its carried state).
"""
import re

import numpy as np

from ..cells import CELLS, get_cell
from ..stack import StackedRNN
from .biases import fold_biases, unfold_biases
from .limits import refuse, wiring_limits

TORCH_DIRECTIONS = {"fwd": "", "bwd": "_reverse"}


def torch_cell(mode):
    """The name of the registered cell whose `torch_mode` is `mode`, or None."""
    return next((spec.name for spec in CELLS.values() if spec.torch_mode == mode), None)


def from_torch(module, dtype=None, return_sequences=True, backend=None):
    """A StackedRNN with the weights and the `dropout` of a `torch.nn.RNN` (tanh), `nn.LSTM` or
    `nn.GRU` (any num_layers, bidirectional or not, batch_first or not). dtype: None (the
    module's: float32 for a float32 module, float64 for a double one) or float32/float64."""
    mode = getattr(module, "mode", None)
    cell = torch_cell(mode)
    if cell is None:
        raise ValueError(f"module must be a torch.nn.RNN with nonlinearity='tanh', nn.LSTM or "
                         f"nn.GRU; got {type(module).__name__} with mode {mode!r}")
    if getattr(module, "proj_size", 0):
        raise ValueError(f"LSTMs with projections (proj_size={module.proj_size}) are not supported")
    state_dict = {k: v.detach().cpu().numpy() for k, v in module.state_dict().items()}
    return from_state_dict(state_dict, cell, dtype=dtype, return_sequences=return_sequences,
                           backend=backend, dropout=module.dropout)


def from_state_dict(state_dict, cell, dtype=None, return_sequences=True, backend=None,
                    dropout=0.0):
    """A StackedRNN from a PyTorch RNN/LSTM/GRU state_dict (tensors or arrays); the sizes,
    number of layers and directions are read off the weight shapes and names, and every key
    and shape is checked against them. dtype: None (the weights': float32 stays float32, any
    other float becomes float64) or float32/float64. dropout: the torch module's (the same
    semantics)."""
    spec = get_cell(cell)
    if spec.torch_mode is None:
        raise ValueError(f"cell {cell!r} has no PyTorch module (its CellSpec has no torch_mode)")
    originals = {k: np.asarray(v.detach().cpu() if hasattr(v, "detach") else v)
                 for k, v in state_dict.items()}
    if dtype is None:
        weights = originals.get("weight_ih_l0")
        dtype = np.float32 if getattr(weights, "dtype", None) == np.float32 else np.float64
    arrays = {k: v.astype(np.float64) for k, v in originals.items()}
    layers = sorted({int(m.group(1)) for k in arrays if (m := re.fullmatch(r"weight_ih_l(\d+)", k))})
    if not layers or layers != list(range(len(layers))):
        raise ValueError(f"state_dict must hold weight_ih_l0, weight_ih_l1, ...; "
                         f"got keys {sorted(arrays)}")
    first = arrays["weight_ih_l0"]
    if first.ndim != 2 or first.shape[0] == 0 or first.shape[0] % spec.gates:
        raise ValueError(f"state_dict['weight_ih_l0'] must be a ({spec.gates}H, D) matrix (a "
                         f"{cell} has {spec.gates} gate blocks of H rows); got shape {first.shape}")
    bidirectional = "weight_ih_l0_reverse" in arrays
    H = first.shape[0] // spec.gates
    check_torch_keys(arrays, torch_shapes(spec, first.shape[1], H, len(layers), bidirectional,
                                          biases=any(k.startswith("bias_") for k in arrays)))
    net = StackedRNN(cell, first.shape[1], [H] * len(layers), bidirectional=bidirectional,
                     return_sequences=return_sequences, dtype=dtype, backend=backend,
                     dropout=dropout)
    for l in range(1, net.num_layers + 1):
        for d in net.directions:
            ours = layer_from_torch(arrays, f"_l{l - 1}{TORCH_DIRECTIONS[d]}", net.spec, H)
            for name, value in ours.items():
                net.params[f"layers.{l}.{d}.{name}"] = value.astype(dtype)
    return net


def torch_shapes(spec, D, H, num_layers, bidirectional, biases):
    """{key: shape} of the state_dict of a torch stack of `spec`'s cell with these sizes."""
    suffixes = list(TORCH_DIRECTIONS.values())[:2 if bidirectional else 1]
    G, shapes = spec.gates, {}
    for k in range(num_layers):
        for suffix in suffixes:
            shapes[f"weight_ih_l{k}{suffix}"] = (G * H, D if k == 0 else len(suffixes) * H)
            shapes[f"weight_hh_l{k}{suffix}"] = (G * H, H)
            if biases:
                shapes[f"bias_ih_l{k}{suffix}"] = shapes[f"bias_hh_l{k}{suffix}"] = (G * H,)
    return shapes


def check_torch_keys(arrays, shapes):
    """The keys of `arrays` must be exactly those of `shapes` and every array that shape."""
    missing = [key for key in shapes if key not in arrays]
    extra = sorted(set(arrays) - set(shapes))
    if missing or extra:
        problems = ([f"is missing {missing}"] if missing else []) + \
                   ([f"has unexpected keys {extra}"] if extra else [])
        raise ValueError(f"state_dict {' and '.join(problems)}; the stack its weight_ih_l* keys "
                         f"describe holds exactly {list(shapes)}")
    for key, shape in shapes.items():
        if arrays[key].shape != shape:
            D, H = shapes["weight_ih_l0"][1], shapes["weight_hh_l0"][1]
            raise ValueError(f"state_dict[{key!r}] has shape {arrays[key].shape}; expected "
                             f"{shape} for the input size {D} and hidden size {H} read off "
                             f"weight_ih_l0")


def layer_from_torch(arrays, suffix, spec, H):
    """minirnn parameters {"Wx", "Wh", "b", ...} of one torch layer and direction."""
    W_ih, W_hh = arrays["weight_ih" + suffix], arrays["weight_hh" + suffix]
    zeros = np.zeros(W_ih.shape[0])
    b_ih, b_hh = arrays.get("bias_ih" + suffix, zeros), arrays.get("bias_hh" + suffix, zeros)
    return {"Wx": W_ih.T, "Wh": W_hh.T, **fold_biases(spec, b_ih, b_hh, H)}


def to_torch(net):
    """The PyTorch state_dict (names -> numpy arrays) of a StackedRNN. The folded bias goes to
    bias_ih and bias_hh is zero (for the GRU: bhn in its n block), which computes the same
    function. A network torch cannot express (check_torch_expressible) is refused."""
    check_torch_expressible(net)
    H = net.hidden_sizes[0]
    state_dict = {}
    for l in range(1, net.num_layers + 1):
        for d in net.directions:
            p = dict(zip(net.spec.param_names, net.layer_params(l, d)))
            suffix = f"_l{l - 1}{TORCH_DIRECTIONS[d]}"
            bias_ih, bias_hh = unfold_biases(net.spec, p, H)
            state_dict.update({"weight_ih" + suffix: p["Wx"].T.copy(),
                               "weight_hh" + suffix: p["Wh"].T.copy(),
                               "bias_ih" + suffix: bias_ih, "bias_hh" + suffix: bias_hh})
    return state_dict


def check_torch_expressible(net):
    """A ValueError naming each feature of `net` a torch.nn.RNN/LSTM/GRU stack has no
    counterpart for: a cell without torch_mode, unequal hidden sizes, skip edges, clocks,
    recurrent dropout."""
    if net.spec.torch_mode is None:
        raise ValueError(f"cell {net.cell!r} has no PyTorch module (its CellSpec has no "
                         f"torch_mode)")
    reasons = []
    if len(set(net.hidden_sizes)) != 1:
        reasons.append(f"unequal hidden sizes {net.hidden_sizes} (a torch stack has one "
                       f"hidden_size)")
    reasons += wiring_limits(net, "PyTorch")
    if net.recurrent_dropout:
        reasons.append(f"recurrent_dropout={net.recurrent_dropout} (torch.nn.RNN/LSTM/GRU have "
                       f"no recurrent dropout, so the module would train differently; to export "
                       f"for inference, copy the weights into a StackedRNN with "
                       f"recurrent_dropout=0)")
    refuse("export this StackedRNN to PyTorch", reasons)


def to_torch_module(net, batch_first=True):
    """A torch.nn.RNN/LSTM/GRU (float64) holding the weights and the `dropout` of `net`; needs
    torch."""
    import torch

    state_dict = to_torch(net)
    module_class = getattr(torch.nn, net.spec.torch_mode.split("_")[0])  # RNN_TANH -> nn.RNN
    module = module_class(net.input_size, net.hidden_sizes[0], num_layers=net.num_layers,
                          bidirectional=net.bidirectional, batch_first=batch_first,
                          # one layer drops nothing in either library (and torch would warn)
                          dropout=net.dropout if net.num_layers > 1 else 0.0).double()
    module.load_state_dict({k: torch.from_numpy(v.astype(np.float64))
                            for k, v in state_dict.items()})
    return module


def gradients_from_torch(net, module):
    """The gradients autograd left on `module` (a `to_torch_module(net)`), in net's layout
    {key: array}: dWx = weight_ih.grad.T, dWh = weight_hh.grad.T, db = bias_ih.grad (to_torch
    puts all of b in bias_ih) and each of the cell's recurrent biases (the GRU's bhn) from its
    block of bias_hh.grad."""
    H = net.hidden_sizes[0]
    tensors = dict(module.named_parameters())
    grads = {}
    for l in range(1, net.num_layers + 1):
        for d in net.directions:
            suffix = f"_l{l - 1}{TORCH_DIRECTIONS[d]}"
            grad = {name: tensors[name + suffix].grad.double().numpy()
                    for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
            values = {"Wx": grad["weight_ih"].T, "Wh": grad["weight_hh"].T, "b": grad["bias_ih"]}
            for name, block in net.spec.recurrent_biases.items():
                values[name] = grad["bias_hh"][block * H:(block + 1) * H]
            grads.update(zip(net.param_keys(l, d), (values[n] for n in net.spec.param_names)))
    return grads


def states_from_torch(net, h, c=None):
    """PyTorch's stacked states h_n (and c_n), each (num_layers * dirs, N, H) with layer k's
    directions at rows dirs*k .. dirs*k + dirs - 1, -> minirnn's list of {'h', 'c'} per layer."""
    dirs = len(net.directions)
    arrays = {"h": np.asarray(h), "c": None if c is None else np.asarray(c)}
    return [{name: arrays[name][dirs * l:dirs * (l + 1)] for name in net.spec.state_names}
            for l in range(net.num_layers)]


def states_to_torch(states):
    """minirnn's per-layer states -> PyTorch's (h_n,) or (h_n, c_n), each (layers * dirs, N, H)."""
    return tuple(np.concatenate([s[name] for s in states]) for name in states[0])
