"""Keras weights <-> minirnn, without importing Keras (plain numpy arrays in, arrays out).

Shape legend: D input features, H hidden units, V vocabulary, E embedding width, K outputs.

Keras stores each recurrent layer as the list `layer.get_weights()` = [kernel, recurrent_kernel,
bias] in the same row-vector layout as minirnn (x @ kernel), so the matrices need no transpose:

    SimpleRNN  kernel (D, H)    recurrent_kernel (H, H)    bias (H,)       == Wx, Wh, b
    LSTM       kernel (D, 4H)   recurrent_kernel (H, 4H)   bias (4H,)      gates i,f,c,o == i,f,g,o
    GRU        kernel (D, 3H)   recurrent_kernel (H, 3H)   bias (2, 3H)    gates z,r,h  != r,z,n

The GRU needs two changes. Keras orders its gate blocks z, r, h; minirnn orders them r, z, n, so
the blocks are permuted. With reset_after=True (the Keras 2/3 default) the bias is two rows,
[input bias; recurrent bias], and the reset multiplies the recurrent part including its bias,

    z = sigmoid(x Wz + bz_in + h Uz + bz_rec)        h_new = z * h + (1 - z) * hh
    r = sigmoid(x Wr + br_in + h Ur + br_rec)        hh = tanh(x Wh + bh_in + r * (h Uh + bh_rec))

which is minirnn's GRU with b = [br_in + br_rec, bz_in + bz_rec, bh_in] and bhn = bh_rec.
A reset_after=False GRU (bias (3H,)) resets h before the matmul: a different function, rejected.
Keras' activations are assumed to be the defaults (tanh, and sigmoid for the gates).

Exporting folds the r and z biases into the input row and leaves zeros in their recurrent slots
(the same function; Keras' own split of a folded sum cannot be recovered). A Bidirectional Keras
layer lists the forward layer's weights, then the backward layer's, like minirnn's fwd, bwd.
Embedding ([embeddings (V, E)]) and Dense ([kernel (D, K), bias (K,)]) are copied as they are.
"""
import numpy as np

from ..layers import Embedding
from ..model import Recurrent, Sequential
from ..stack import StackedRNN

KERAS_GATES = {"rnn": 1, "lstm": 4, "gru": 3}
KERAS_TO_MINIRNN_GRU = [1, 0, 2]  # minirnn block k (r, z, n) is Keras block [1, 0, 2][k] (z, r, h)


def gru_blocks(array, order):
    """Permute the three H-wide gate blocks of the last axis into `order`."""
    blocks = np.split(array, 3, axis=-1)
    return np.concatenate([blocks[k] for k in order], axis=-1)


def layer_from_keras(cell, kernel, recurrent_kernel, bias):
    """minirnn parameters {"Wx", "Wh", "b"(, "bhn")} of one Keras SimpleRNN/LSTM/GRU layer."""
    if cell not in KERAS_GATES:
        raise ValueError(f"cell must be one of {sorted(KERAS_GATES)}; got {cell!r}")
    kernel, recurrent_kernel, bias = (np.asarray(a, dtype=np.float64)
                                      for a in (kernel, recurrent_kernel, bias))
    H, G = recurrent_kernel.shape[0], KERAS_GATES[cell]
    expected = {"kernel": (kernel.shape[0], G * H), "recurrent_kernel": (H, G * H),
                "bias": (2, G * H) if cell == "gru" else (G * H,)}
    if cell == "gru" and bias.shape == (G * H,):
        raise ValueError("a Keras GRU with reset_after=False (bias of shape (3H,)) resets the "
                         "state before the recurrent matmul; minirnn's GRU resets after it "
                         "(Keras reset_after=True), so these weights compute another function")
    for name, array in (("kernel", kernel), ("recurrent_kernel", recurrent_kernel), ("bias", bias)):
        if array.shape != expected[name]:
            raise ValueError(f"Keras {cell} {name} must have shape {expected[name]} for "
                             f"H={H}; got {array.shape}")
    if cell != "gru":
        return {"Wx": kernel, "Wh": recurrent_kernel, "b": bias}
    input_bias, recurrent_bias = gru_blocks(bias, KERAS_TO_MINIRNN_GRU)  # each (3H,) in r, z, n
    b = input_bias + np.concatenate([recurrent_bias[:2 * H], np.zeros(H)])  # r, z fold; n apart
    return {"Wx": gru_blocks(kernel, KERAS_TO_MINIRNN_GRU),
            "Wh": gru_blocks(recurrent_kernel, KERAS_TO_MINIRNN_GRU),
            "b": b, "bhn": recurrent_bias[2 * H:]}


def layer_to_keras(cell, params):
    """[kernel, recurrent_kernel, bias] of one Keras layer from minirnn parameters."""
    if cell != "gru":
        return [params["Wx"].copy(), params["Wh"].copy(), params["b"].copy()]
    # gru_blocks with the same permutation maps r, z, n back to z, r, h (it swaps two blocks)
    recurrent_bias = np.concatenate([np.zeros(2 * params["bhn"].shape[0]), params["bhn"]])
    bias = np.stack([gru_blocks(params["b"], KERAS_TO_MINIRNN_GRU),
                     gru_blocks(recurrent_bias, KERAS_TO_MINIRNN_GRU)])
    return [gru_blocks(params["Wx"], KERAS_TO_MINIRNN_GRU),
            gru_blocks(params["Wh"], KERAS_TO_MINIRNN_GRU), bias.astype(params["b"].dtype)]


def from_keras(cell, weights, bidirectional=False, return_sequences=True, dtype=np.float64,
               backend=None):
    """A StackedRNN from the weights of stacked Keras layers of one cell type: the concatenation
    of their get_weights() lists (three arrays per layer and direction, use_bias=True).
    The sizes are read off the shapes."""
    directions = 2 if bidirectional else 1
    if cell not in KERAS_GATES:
        raise ValueError(f"cell must be one of {sorted(KERAS_GATES)}; got {cell!r}")
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
            if layer.skip_edges:
                raise ValueError("Keras stacks have no skip edges; this StackedRNN has "
                                 f"{layer.skip_edges}")
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
    """The list of arrays a Keras model of the same architecture takes in set_weights()."""
    weights = []
    for prefix, layer in layers_of(model):
        if isinstance(layer, StackedRNN):
            for l, d in recurrent_slots(layer):
                params = {k: layer.params[f"layers.{l}.{d}.{k}"] for k in layer.spec.param_names}
                weights += layer_to_keras(layer.cell, params)
        elif isinstance(layer, Embedding):
            weights.append(layer.params["W"].copy())
        else:
            weights += [layer.params["W"].copy(), layer.params["b"].copy()]
    return weights


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
