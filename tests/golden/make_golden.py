"""Generate the PyTorch golden fixtures: `python tests/golden/make_golden.py` (needs torch).

For each cell, 2 and 3 layers, uni- and bidirectional, float64: random weights (biases nonzero),
input, initial states, torch's outputs and final states, random upstream gradients, and torch's
gradients of every weight, the input and the initial states, all saved with torch's names into
tests/golden/<cell>_<layers>layers_<uni|bi>.npz. tests/test_golden.py compares minirnn with them.
"""
import pathlib

import numpy as np

HERE = pathlib.Path(__file__).parent
N, T, D, H = 2, 5, 3, 4
CASES = [(cell, layers, bi) for cell in ("rnn", "lstm", "gru") for layers in (2, 3)
         for bi in (False, True)]


def fixture_name(cell, layers, bidirectional):
    return f"{cell}_{layers}layers_{'bi' if bidirectional else 'uni'}.npz"


def torch_reference(cell, layers, bidirectional, seed):
    """Everything torch computes for one case, as {name: float64 array}."""
    import torch

    torch.manual_seed(seed)
    module_class = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    module = module_class(D, H, num_layers=layers, bidirectional=bidirectional,
                          batch_first=True).double()
    dirs = 2 if bidirectional else 1
    x = torch.randn(N, T, D, dtype=torch.float64, requires_grad=True)
    states0 = [torch.randn(layers * dirs, N, H, dtype=torch.float64, requires_grad=True)
               for _ in range(2 if cell == "lstm" else 1)]
    y, final = module(x, tuple(states0) if cell == "lstm" else states0[0])
    final = final if cell == "lstm" else (final,)
    dy = torch.randn_like(y)
    dfinal = [torch.randn_like(f) for f in final]
    loss = (y * dy).sum() + sum((f * df).sum() for f, df in zip(final, dfinal))
    loss.backward()
    out = {"x": x, "y": y, "dy": dy, "grad.x": x.grad}
    for name, s0, f, df in zip(("h", "c"), states0, final, dfinal):
        out.update({f"{name}0": s0, f"{name}_n": f, f"d{name}_n": df, f"grad.{name}0": s0.grad})
    for name, p in module.named_parameters():
        out.update({f"torch.{name}": p, f"grad.{name}": p.grad})
    return {k: v.detach().numpy().astype(np.float64) for k, v in out.items()}


def main():
    for seed, (cell, layers, bidirectional) in enumerate(CASES):
        path = HERE / fixture_name(cell, layers, bidirectional)
        np.savez_compressed(path, **torch_reference(cell, layers, bidirectional, seed))
        print("wrote", path.name)


if __name__ == "__main__":
    main()
