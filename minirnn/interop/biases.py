"""The one layout difference PyTorch and Keras share: two biases per gate block instead of one.

Shape legend: G gate blocks, H hidden units.

Both frameworks keep an input bias and a recurrent bias, each (G*H,). minirnn folds them into one,
b = input_bias + recurrent_bias, except for the blocks a cell keeps apart
(`CellSpec.recurrent_biases`): the GRU's candidate n, whose recurrent bias bhn sits inside the
reset product r * (h @ Wh_n + bhn) and so cannot be folded. Going back, the folded b becomes the
input bias and the recurrent bias is zero outside the kept blocks: the same function (the split
of a folded sum cannot be recovered).
"""
import numpy as np


def fold_biases(spec, input_bias, recurrent_bias, H):
    """{"b": (G*H,), and each kept-apart recurrent bias of `spec`: (H,)} from the two biases."""
    folded, kept = recurrent_bias.copy(), {}
    for name, block in spec.recurrent_biases.items():
        columns = slice(block * H, (block + 1) * H)
        kept[name] = recurrent_bias[columns].copy()
        folded[columns] = 0.0
    return {"b": input_bias + folded, **kept}


def unfold_biases(spec, params, H):
    """(input bias, recurrent bias), each (G*H,), from a cell's parameters {"b", ...}."""
    recurrent_bias = np.zeros_like(params["b"])
    for name, block in spec.recurrent_biases.items():
        recurrent_bias[block * H:(block + 1) * H] = params[name]
    return params["b"].copy(), recurrent_bias
