"""Hand-built networks whose weights are set by reasoning, not training, and that provably solve
their task: known answers for the probes and exhibits of what depth and gates can compute.

Shape legend: N batch, T time steps, D input features, L layers, H hidden units.

    leaky_integrator_stack   1-unit tanh layers h_t = tanh(a_l h_{t-1} + u_l in_t): in the
                             near-linear regime, filters with |H(w)| = |u / (1 - a e^{-iw})|
    majority                 one tanh layer summing +-eps per bit; the sign of the sum decides
    balanced_brackets        a 3-layer LSTM: +-1 per bracket, a depth counter in layer 2's cell
                             state, an "ever below zero" counter in layer 3's
    parity_tree              clocked tanh layers combining pairs of pairs: depth log2(T) + 1

Each builder returns a `Construction`: the network, how symbols are encoded as its input, and
the readout that turns its forward pass into answers.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .stack import StackedRNN

SATURATE = 50.0  # sigmoid(50) == 1.0 and tanh(50) == 1.0 exactly in float64


@dataclass
class Construction:
    """net: the StackedRNN. encode: symbols (N, T) -> x (N, T, D). readout: (y, states, cache)
    -> answers (N,). `predict(symbols)` runs all three."""
    name: str
    net: StackedRNN
    encode: Callable
    readout: Callable

    def predict(self, symbols, backend=None):
        """Answers (N,) for the symbol sequences (N, T)."""
        return self.readout(*self.net.forward(self.encode(symbols), backend=backend))


def set_layer(net, layer, Wx, Wh, b):
    """Write one forward-direction layer's weights (given as nested lists or arrays)."""
    for name, value in (("Wx", Wx), ("Wh", Wh), ("b", b)):
        key = f"layers.{layer}.fwd.{name}"
        net.params[key] = np.array(value, dtype=net.dtype).reshape(net.params[key].shape)


def leaky_integrator_stack(recurrent_weights, input_weights=None, backend="numpy"):
    """A stack of 1-unit tanh layers h^l_t = tanh(a_l h^l_{t-1} + u_l h^{l-1}_t), input size 1.

    recurrent_weights: [a_1, ..., a_L]; input_weights: [u_1, ..., u_L] (default ones).
    For small inputs tanh is near-linear and layer l is a first-order filter with transfer
    function u_l / (1 - a_l e^{-iw}) and impulse-response time constant -1 / ln(a_l).
    Returns the StackedRNN.
    """
    a = [float(v) for v in recurrent_weights]
    u = [1.0] * len(a) if input_weights is None else [float(v) for v in input_weights]
    if len(u) != len(a):
        raise ValueError(f"input_weights must have one entry per layer ({len(a)}); got {len(u)}")
    net = StackedRNN("rnn", input_size=1, hidden_sizes=[1] * len(a), backend=backend)
    for l, (a_l, u_l) in enumerate(zip(a, u), start=1):
        set_layer(net, l, [[u_l]], [[a_l]], [0.0])
    return net


# ---- majority -----------------------------------------------------------------------------------
def majority(scale=1e-3, backend="numpy"):
    """Majority of a bit string with one tanh unit that sums: h_t = tanh(h_{t-1} + eps s_t),
    s_t = 2 b_t - 1 = +-1, eps = scale.

    tanh(z) = z - z^3/3 + ..., so while |h| stays small h_T = eps * (#ones - #zeros) up to a
    relative error of order (eps T)^2: the sum is exact enough for its sign. A tie leaves
    h_T = O(eps^3 T), far below the threshold eps / 2, so the readout answers
    "strictly more ones than zeros". Symbols: bits (N, T) of 0/1. Answers: (N,) bool.
    """
    net = StackedRNN("rnn", input_size=1, hidden_sizes=[1], backend=backend)
    set_layer(net, 1, [[scale]], [[1.0]], [0.0])
    return Construction(
        name="majority", net=net,
        encode=lambda bits: (2.0 * np.asarray(bits, dtype=np.float64) - 1.0)[..., None],
        readout=lambda y, states, cache: y[:, -1, 0] > scale / 2)


# ---- balanced brackets --------------------------------------------------------------------------
def brackets_to_symbols(strings):
    """Equal-length strings of '(' and ')' -> (N, T) int array, +1 for '(' and -1 for ')'."""
    if len({len(s) for s in strings}) != 1 or any(set(s) - set("()") for s in strings):
        raise ValueError("strings must be equal-length strings of '(' and ')' only")
    return np.array([[1 if ch == "(" else -1 for ch in s] for s in strings], dtype=np.int64)


def balanced_brackets(k=2.0, s=1.0, backend="numpy"):
    """A 3-layer, 1-unit-per-layer LSTM that checks bracket strings (gate order i, f, g, o; a
    gate bias of +-50 holds it exactly open or closed in float64).

    layer 1  i = o = 1, f = 0, g = tanh(k ('(' - ')')):  c = +-tanh(k), h^1 = +-m,
             m = tanh(tanh(k)): '(' -> +m and ')' -> -m.
    layer 2  i = f = o = 1, g = tanh(s h^1) = +-delta:    c^2_t = delta * depth_t exactly
             (a counter: the forget gate keeps it, the input adds +-delta), h^2 = tanh(c^2).
    layer 3  f = o = 1, g = 1, i = sigmoid(-K h^2 - K theta) with theta = tanh(delta) / 2:
             i = 1 when depth_t < 0 (h^2 <= -tanh(delta)), i < 1e-17 when depth_t >= 0, so
             c^3_T counts the steps at which the depth was negative.
    A string is balanced iff it ends at depth 0 and never dips below: |c^2_T| < delta / 2 and
    c^3_T < 1/2. Symbols: (N, T) of +1 '(' / -1 ')' (see brackets_to_symbols). Answers: (N,) bool.
    """
    net = StackedRNN("lstm", input_size=2, hidden_sizes=[1, 1, 1], backend=backend)
    open_, closed = SATURATE, -SATURATE
    delta = np.tanh(s * np.tanh(np.tanh(k)))
    theta = np.tanh(delta) / 2
    K = 40.0 / theta  # sigmoid(+-40) is 1 / 4e-18: the dip detector is a clean switch
    set_layer(net, 1, [[0, 0, k, 0], [0, 0, -k, 0]], [[0, 0, 0, 0]], [open_, closed, 0, open_])
    set_layer(net, 2, [[0, 0, s, 0]], [[0, 0, 0, 0]], [open_, open_, 0, open_])
    set_layer(net, 3, [[-K, 0, 0, 0]], [[0, 0, 0, 0]], [-K * theta, open_, open_, open_])

    def encode(symbols):
        symbols = np.asarray(symbols)
        return np.stack([symbols == 1, symbols == -1], axis=-1).astype(np.float64)

    def readout(y, states, cache):
        depth_counter, dips = states[1]["c"][0, :, 0], states[2]["c"][0, :, 0]
        return (np.abs(depth_counter) < delta / 2) & (dips < 0.5)

    construction = Construction(name="balanced brackets", net=net, encode=encode, readout=readout)
    construction.depth_scale = delta  # c^2_t = depth_scale * depth_t
    return construction


# ---- parity -------------------------------------------------------------------------------------
def parity_tree(T, backend="numpy"):
    """Parity of T = 2^n bits with log2(T) + 1 clocked tanh layers of 3 units (a binary tree).

    Bits are coded as s = 1 - 2b = +-1, so parity is a product: the XOR of two blocks is the
    product of their signs. Layer l updates every P_l = 2^(l-1) steps (clock_periods), at the end
    of each block of P_l bits, and holds three saturated (+-1) units:

        u1, u2   features of its block: the block's sign pi_l = u1 + u2 + 1
        prev     pi_l of its previous block (copied from u1, u2 when it updates)

    Layer 1 (every step): u1 = tanh(K s_t), u2 = -1, so pi_1 = s_t.
    Layer l >= 2, at the end of a block, reads the sign of the block's second half
    pi_{l-1} = u1' + u2' + 1 and of its first half prev', and with sigma = pi_{l-1} + prev'
    in {-2, 0, 2} (product +1 iff |sigma| = 2) computes

        u1 = tanh(K (sigma - 1)) = +1 iff sigma = 2
        u2 = tanh(K (-sigma - 1)) = +1 iff sigma = -2      => u1 + u2 + 1 = pi_{l-1} * prev'

    a product from two tanh units and a sum: the "nonlinearity approximating multiplication".
    With K = 50 every unit is exactly +-1 in float64. The top layer's pi at t = T-1 is the sign
    of the whole string. Symbols: bits (N, T) of 0/1. Answers: (N,) int parity (1 = odd).
    """
    if not (isinstance(T, (int, np.integer)) and T >= 2 and T & (T - 1) == 0):
        raise ValueError(f"T must be a power of two >= 2; got {T!r}")
    L = int(T).bit_length()  # log2(T) + 1
    K = SATURATE
    net = StackedRNN("rnn", input_size=1, hidden_sizes=[3] * L, backend=backend,
                     clock_periods=[2 ** (l - 1) for l in range(1, L + 1)])
    keep_sign = [[0, 0, K], [0, 0, K], [0, 0, 0]]  # prev = tanh(K (u1 + u2 + 1)) = old pi
    set_layer(net, 1, [[K, 0, 0]], keep_sign, [0, -K, K])
    for l in range(2, L + 1):
        set_layer(net, l, [[K, -K, 0]] * 3, keep_sign, [0, -2 * K, K])

    def readout(y, states, cache):
        sign = y[:, -1, 0] + y[:, -1, 1] + 1.0
        return (sign < 0).astype(np.int64)

    return Construction(
        name="parity tree", net=net,
        encode=lambda bits: (1.0 - 2.0 * np.asarray(bits, dtype=np.float64))[..., None],
        readout=readout)
