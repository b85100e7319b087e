"""Parameter initialisation for one recurrent layer direction, and for a whole stack.

Default: PyTorch's scheme, every weight and bias drawn from U(-1/sqrt(H), 1/sqrt(H)).
Options: orthogonal recurrent blocks (each H x H gate block of Wh an orthogonal matrix, which
keeps the linear part of the temporal Jacobian norm-preserving at the start of training) and a
forget-gate bias offset for a cell that has one, the LSTM (Jozefowicz et al. 2015 recommend 1.0).
"""
import numpy as np

from .validation import check_finite_number

INITS = ("uniform", "orthogonal")


def orthogonal(n, rng):
    """An n x n random orthogonal matrix (QR of a Gaussian matrix, signs fixed to be uniform)."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))


def init_cell_params(spec, input_size, hidden_size, rng, dtype, init="uniform", forget_bias=0.0):
    """{param name: array} for one direction of one layer of the cell described by `spec`.
    forget_bias: a finite number added to the forget gate's bias (a nan there makes every output
    nan)."""
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}; got {init!r}")
    forget_bias = check_finite_number("forget_bias", forget_bias)
    H = hidden_size
    bound = 1.0 / np.sqrt(H)
    params = {name: rng.uniform(-bound, bound, size=shape)
              for name, shape in spec.param_shapes(input_size, H).items()}
    if init == "orthogonal":
        params["Wh"] = np.concatenate([orthogonal(H, rng) for _ in range(spec.gates)], axis=1)
    if spec.forget_gate is not None:
        block = spec.sigmoid_gates[spec.forget_gate]
        params["b"][block * H:(block + 1) * H] += forget_bias
    return {name: p.astype(dtype) for name, p in params.items()}


def init_stack_params(net, seed, init="uniform", forget_bias=0.0):
    """Every parameter of the StackedRNN `net`, {"layers.<l>.<direction>.<name>": array}, drawn
    layer by layer and direction by direction from one generator seeded with `seed`."""
    rng = np.random.default_rng(seed)
    widths = [net.input_size] + net.output_widths()
    params = {}
    for l in range(1, net.num_layers + 1):
        for d in net.directions:
            layer = init_cell_params(net.spec, widths[l - 1], net.hidden_sizes[l - 1], rng,
                                     net.dtype, init=init, forget_bias=forget_bias)
            params.update(zip(net.param_keys(l, d), layer.values()))
    return params
