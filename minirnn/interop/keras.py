"""Keras weights <-> minirnn, without importing Keras (plain numpy arrays in, arrays out).

Shape legend: D input features, H hidden units, V vocabulary, E embedding width, K outputs.

Keras stores each recurrent layer as the list `layer.get_weights()` = [kernel, recurrent_kernel,
bias] in the same row-vector layout as minirnn (x @ kernel), so the matrices need no transpose:

    SimpleRNN  kernel (D, H)    recurrent_kernel (H, H)    bias (H,)       == Wx, Wh, b
    LSTM       kernel (D, 4H)   recurrent_kernel (H, 4H)   bias (4H,)      gates i,f,c,o == i,f,g,o
    GRU        kernel (D, 3H)   recurrent_kernel (H, 3H)   bias (2, 3H)    gates z,r,h  != r,z,n

A cell's CellSpec says how its layout differs (`keras_gate_order`, `recurrent_biases`); only the
GRU differs, in two ways. Keras orders its gate blocks z, r, h; minirnn orders them r, z, n, so
the blocks are permuted. With reset_after=True (the Keras 2/3 default) the bias is two rows,
[input bias; recurrent bias], and the reset multiplies the recurrent part including its bias,

    z = sigmoid(x Wz + bz_in + h Uz + bz_rec)        h_new = z * h + (1 - z) * hh
    r = sigmoid(x Wr + br_in + h Ur + br_rec)        hh = tanh(x Wh + bh_in + r * (h Uh + bh_rec))

which is minirnn's GRU with b = [br_in + br_rec, bz_in + bz_rec, bh_in] and bhn = bh_rec (the
fold of biases.py, which PyTorch's import shares).
A reset_after=False GRU (bias (3H,)) resets h before the matmul: a different function, rejected.
Keras' activations are assumed to be the defaults (tanh, and sigmoid for the gates).

Exporting folds the r and z biases into the input row and leaves zeros in their recurrent slots
(the same function; Keras' own split of a folded sum cannot be recovered). A Bidirectional Keras
layer lists the forward layer's weights, then the backward layer's, like minirnn's fwd, bwd.
Embedding ([embeddings (V, E)]) and Dense ([kernel (D, K), bias (K,)]) are copied as they are.

What the weights do not carry, and how it maps (the Keras model is built by the caller):
- widths may differ from layer to layer, as in any Keras stack.
- `dropout` (inverted, a fresh mask per element and step on every layer's output but the top one)
  is a keras.layers.Dropout(rate) between the recurrent layers, not the layers' own `dropout=`
  (a mask on each layer's input, the data x included, the same at every step).
- `recurrent_dropout` (one mask per sequence on h_{t-1} where it enters the recurrent product) is
  SimpleRNN's `recurrent_dropout`. Keras' LSTM and GRU (Keras >= 3.8, and Keras 2 with
  implementation=1) draw one mask per gate block instead of one shared by all gates, so an LSTM
  or GRU with recurrent dropout would train differently there: to_keras refuses it.
- skip edges and clocks have no Keras layer: to_keras and load_keras_weights refuse them
  (limits.py).
- an Embedding's padding_idx (a row that never receives gradient) has no Keras counterpart; its
  weights go across as they are.
- masks are per call, not part of the model. minirnn's `mask` carries the state over padded steps
  and starts a reverse direction at each sequence's true end, as Keras' masking (mask_zero=True
  on the Embedding, or a Masking layer) does: the final states and the outputs at the real steps
  agree. At padded positions a Keras layer repeats its last output (minirnn's forward direction
  does too) and a Bidirectional layer outputs zeros.
"""
import numpy as np

from ..cells import get_cell
from ..layers import Embedding
from ..model import Recurrent, Sequential
from ..stack import StackedRNN
from .biases import fold_biases, unfold_biases
from .limits import refuse, wiring_limits


def keras_spec(cell):
    """The CellSpec of `cell`, which must have a Keras layer (a `keras_gate_order`)."""
    spec = get_cell(cell)
    if spec.keras_gate_order is None:
        raise ValueError(f"cell {cell!r} has no Keras layer (its CellSpec has no "
                         f"keras_gate_order)")
    return spec


def reorder_blocks(array, order):
    """The G H-wide gate blocks of the last axis, block k of the result being block order[k]."""
    blocks = np.split(array, len(order), axis=-1)
    return np.concatenate([blocks[k] for k in order], axis=-1)


def layer_from_keras(cell, kernel, recurrent_kernel, bias):
    """minirnn parameters {"Wx", "Wh", "b", ...} of one Keras SimpleRNN/LSTM/GRU layer."""
    spec = keras_spec(cell)
    kernel, recurrent_kernel, bias = (np.asarray(a, dtype=np.float64)
                                      for a in (kernel, recurrent_kernel, bias))
    H, G, order = recurrent_kernel.shape[0], spec.gates, spec.keras_gate_order
    two_biases = bool(spec.recurrent_biases)  # Keras keeps the input and recurrent bias rows
    expected = {"kernel": (kernel.shape[0], G * H), "recurrent_kernel": (H, G * H),
                "bias": (2, G * H) if two_biases else (G * H,)}
    if two_biases and bias.shape == (G * H,):
        raise ValueError(f"a Keras {cell} with one bias row (a GRU with reset_after=False, bias "
                         f"of shape (3H,)) resets the state before the recurrent matmul; minirnn's "
                         f"resets after it (Keras reset_after=True), so these weights compute "
                         f"another function")
    for name, array in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel), ("bias", bias)):
        if array.shape != expected[name]:
            raise ValueError(f"Keras {cell} {name} must have shape {expected[name]} for "
                             f"H={H}; got {array.shape}")
    input_bias, recurrent_bias = (reorder_blocks(bias, order) if two_biases
                                  else (reorder_blocks(bias, order), np.zeros(G * H)))
    return {"Wx": reorder_blocks(kernel, order), "Wh": reorder_blocks(recurrent_kernel, order),
            **fold_biases(spec, input_bias, recurrent_bias, H)}


def layer_to_keras(cell, params):
    """[kernel, recurrent_kernel, bias] of one Keras layer from minirnn parameters."""
    spec = keras_spec(cell)
    to_keras_order = np.argsort(spec.keras_gate_order)  # Keras block j is minirnn block [j]
    H = params["Wh"].shape[0]
    input_bias, recurrent_bias = unfold_biases(spec, params, H)
    bias = (np.stack([input_bias, recurrent_bias]) if spec.recurrent_biases else input_bias)
    return [reorder_blocks(params["Wx"], to_keras_order),
            reorder_blocks(params["Wh"], to_keras_order), reorder_blocks(bias, to_keras_order)]


def from_keras(cell, weights, bidirectional=False, return_sequences=True, dtype=np.float64,
               backend=None):
    """A StackedRNN from the weights of stacked Keras layers of one cell type: the concatenation
    of their get_weights() lists (three arrays per layer and direction, use_bias=True).
    The sizes are read off the shapes."""
    directions = 2 if bidirectional else 1
    keras_spec(cell)
    if len(weights) == 0 or len(weights) % (3 * directions):
        raise ValueError(f"weights must hold 3 arrays (kernel, recurrent_kernel, bias) per layer"
                         f"{' and direction' if bidirectional else ''}; got {len(weights)} arrays")
    hidden_sizes = [np.shape(weights[k + 1])[0] for k in range(0, len(weights), 3 * directions)]
    net = StackedRNN(cell, np.shape(weights[0])[0], hidden_sizes, bidirectional=bidirectional,
                     return_sequences=return_sequences, dtype=dtype, backend=backend)
    return load_keras_weights(net, weights)


def recurrent_slots(net):
    """[(layer, direction)] in Keras' weight order (layers in depth, forward before backward)."""
    return [(l, d) for l in range(1, net.num_layers + 1) for d in net.directions]


def load_keras_weights(model, weights):
    """Copy a Keras model's get_weights() list into an existing minirnn model of the same
    architecture, in place, and return it. model: a StackedRNN or a Sequential of Embedding,
    Recurrent and Dense layers (Keras: Embedding, stacked SimpleRNN/LSTM/GRU, Dense)."""
    weights = list(weights)
    new = {}
    for prefix, layer in layers_of(model):
        if isinstance(layer, StackedRNN):
            refuse(f"load Keras weights into {net_name(prefix)}",
                   wiring_limits(layer, "Keras"))
            for l, d in recurrent_slots(layer):
                arrays = take(weights, 3, f"{prefix}layer {l} ({d})")
                for name, value in layer_from_keras(layer.cell, *arrays).items():
                    new[f"{prefix}layers.{l}.{d}.{name}"] = value
        elif isinstance(layer, Embedding):
            new[f"{prefix}W"], = take(weights, 1, f"{prefix}embeddings")
        else:
            new[f"{prefix}W"], new[f"{prefix}b"] = take(weights, 2, f"{prefix}kernel and bias")
    if weights:
        raise ValueError(f"{len(weights)} Keras weight arrays left over after filling the model; "
                         f"the architectures differ")
    params = model.params
    for name, value in new.items():
        if value.shape != params[name].shape:
            raise ValueError(f"Keras weight for {name} has shape {value.shape}; the model "
                             f"expects {params[name].shape}")
    for name, value in new.items():
        params[name][...] = value  # in place: the arrays stay the layers' own
    return model


def to_keras(model):
    """The list of arrays a Keras model of the same architecture takes in set_weights(). A
    StackedRNN Keras cannot express (check_keras_expressible) is refused."""
    weights = []
    for prefix, layer in layers_of(model):
        if isinstance(layer, StackedRNN):
            check_keras_expressible(layer, prefix)
            for l, d in recurrent_slots(layer):
                params = {k: layer.params[f"layers.{l}.{d}.{k}"] for k in layer.spec.param_names}
                weights += layer_to_keras(layer.cell, params)
        elif isinstance(layer, Embedding):
            weights.append(layer.params["W"].copy())
        else:
            weights += [layer.params["W"].copy(), layer.params["b"].copy()]
    return weights


def check_keras_expressible(net, prefix=""):
    """A ValueError naming each feature of `net` that stacked Keras layers have no counterpart
    for: skip edges, clocks, and recurrent dropout in a cell of several gate blocks."""
    keras_spec(net.cell)
    reasons = wiring_limits(net, "Keras")
    if net.recurrent_dropout and net.spec.gates > 1:
        reasons.append(f"recurrent_dropout={net.recurrent_dropout} in a {net.cell} (Keras' LSTM "
                       f"and GRU drop h_(t-1) with one mask per gate block, minirnn with one mask "
                       f"shared by all {net.spec.gates}, so the model would train differently; "
                       f"to export for inference, copy the weights into a StackedRNN with "
                       f"recurrent_dropout=0)")
    refuse(f"export {net_name(prefix)} to Keras", reasons)


def net_name(prefix):
    """How messages name the StackedRNN at parameter-name prefix "" or "<layer name>."."""
    return f"the StackedRNN of layer {prefix[:-1]!r}" if prefix else "this StackedRNN"


def layers_of(model):
    """[(parameter-name prefix, layer)] with StackedRNNs unwrapped from Recurrent."""
    if isinstance(model, StackedRNN):
        return [("", model)]
    if not isinstance(model, Sequential):
        raise TypeError(f"model must be a StackedRNN or a Sequential; got {type(model).__name__}")
    return [(f"{name}.", layer.net if isinstance(layer, Recurrent) else layer)
            for name, layer in model.layers.items()]


def take(weights, count, what):
    """Pop the next `count` arrays off the front of the list."""
    if len(weights) < count:
        raise ValueError(f"Keras weights ran out at {what}: needed {count} more arrays, "
                         f"{len(weights)} left; the architectures differ")
    return [np.asarray(weights.pop(0), dtype=np.float64) for _ in range(count)]
