"""Parameter initialisation for one recurrent layer direction.

Default: PyTorch's scheme, every weight and bias drawn from U(-1/sqrt(H), 1/sqrt(H)).
Options: orthogonal recurrent blocks (each H x H gate block of Wh an orthogonal matrix, which
keeps the linear part of the temporal Jacobian norm-preserving at the start of training) and an
LSTM forget-gate bias offset (Jozefowicz et al. 2015 recommend 1.0).
"""
import numpy as np

INITS = ("uniform", "orthogonal")


def orthogonal(n, rng):
    """An n x n random orthogonal matrix (QR of a Gaussian matrix, signs fixed to be uniform)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def init_cell_params(spec, input_size, hidden_size, rng, dtype, init="uniform", forget_bias=0.0):
    """{param name: array} for one direction of one layer of the cell described by `spec`."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    H = hidden_size
    bound = 1.0 / np.sqrt(H)
    params = {name: rng.uniform(-bound, bound, size=shape)
              for name, shape in spec.param_shapes(input_size, H).items()}
    if init == "orthogonal":
        params["Wh"] = np.concatenate([orthogonal(H, rng) for _ in range(spec.gates)], axis=1)
    if spec.name == "lstm":
        params["b"][H:2 * H] += forget_bias  # gate order i, f, g, o
    return {name: p.astype(dtype) for name, p in params.items()}
