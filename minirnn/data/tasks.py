"""Synthetic sequence tasks with known answers: counting (a^n b^n), balanced brackets, parity,
majority, and a signal mixing a fast and a slow timescale. NumPy only; random ones take a seed
and give the same arrays for the same seed.

Shape legend: N sequences, T time steps, K symbols (one-hot width), C target channels.

Every function returns a dict of arrays; `x` is always the network input, float64, (N, T, D).
"""
import numpy as np

ANBN_SYMBOLS = ("S", "a", "b", "T")   # start, a, b, end: ids 0..3
BRACKETS = "()"                        # '(' is symbol 0 (depth +1), ')' is symbol 1 (depth -1)
MAX_EXHAUSTIVE_T = 20                  # all 2^T strings: N*T*16 bytes of x and symbols


def one_hot(symbols, num_symbols):
    """(N, T) int -> (N, T, K) float64."""
    return np.eye(num_symbols)[symbols]


def check_positive_int(name, value, minimum=1):
    if not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")


# ---------------------------------------------------------------- counting: a^n b^n

def anbn(ns):
    """Next-symbol prediction on a^n b^n, n >= 1 (Gers & Schmidhuber 2001; Weiss et al. 2018).

    For each n in ns the string is S a^n b^n T (S start, T end). Step t reads symbol t of the
    string and the target is symbol t + 1:

        reads:    S  a ... a  b ... b      (2n + 1 steps)
        target:   a  a ... b  b ... T

    While reading a's the next symbol may be a or b (unpredictable); once the first b is read the
    rest is forced: n - 1 more b's, then T exactly when the b's match the a's (a counter).

    Returns a dict, rows padded at the end to T = 2 max(ns) + 1:
        x (N, T, 4) float64     one-hot symbol read (zero rows on padding)
        targets (N, T) int64    next symbol id (0 on padding)
        valid (N, T) bool       t < 2n + 1
        predictable (N, T) bool next symbol fixed by the prefix: step 0 (a follows S, as n >= 1)
                                and every step that reads a b; n + 1 steps per string
        allowed (N, T, 4) bool  the legal next symbols (Gers & Schmidhuber's targets): {a} after S,
                                {a, b} after an a, the forced symbol after a b; none on padding
        lengths (N,) int64 = 2n + 1, and n (N,) int64
    Usual scoring: a string is handled exactly when the argmax prediction equals `targets` at
    every predictable step (Weiss et al.), or lies in `allowed` at every valid step (G & S).
    """
    n = np.asarray(ns, dtype=np.int64).reshape(-1)
    if n.size == 0 or n.min() < 1:
        raise ValueError(f"ns must be a non-empty list of ints >= 1; got {ns!r}")
    lengths = 2 * n + 1
    position = np.arange(lengths.max() + 1)[None, :]            # over the whole string S a^n b^n T
    nn = n[:, None]
    string = np.select([position == 0, position <= nn, position <= 2 * nn], [0, 1, 2], default=3)
    valid = position[:, :-1] < lengths[:, None]
    reads = np.where(valid, string[:, :-1], 0)
    targets = np.where(valid, string[:, 1:], 0)
    predictable = valid & ((position[:, :-1] == 0) | (reads == 2))
    allowed = one_hot(targets, 4).astype(bool) & valid[..., None]
    allowed[..., 1:3] |= (valid & (reads == 1))[..., None]       # after an a: a or b
    return {"x": one_hot(reads, 4) * valid[..., None], "targets": targets, "valid": valid,
            "predictable": predictable, "allowed": allowed, "lengths": lengths, "n": n}


# ---------------------------------------------------------------- balanced brackets

def brackets(symbols):
    """Depths and labels of bracket strings of one length T.

    symbols: a list of N strings over '()' of equal length, or an (N, T) int array of 0 ('(')
    and 1 (')'). Returns a dict:
        x (N, T, 2) float64     one-hot symbols
        symbols (N, T) int64
        depth (N, T) int64      (number of '(') - (number of ')') in the first t + 1 symbols
        balanced (N,) bool      depth never below 0 and 0 at the end
    """
    if isinstance(symbols, (list, tuple)) and all(isinstance(s, str) for s in symbols):
        if len({len(s) for s in symbols}) > 1 or any(set(s) - set(BRACKETS) for s in symbols):
            raise ValueError("bracket strings must all have the same length and hold only '(' and ')'")
        symbols = np.array([[BRACKETS.index(c) for c in s] for s in symbols], dtype=np.int64)
    symbols = np.asarray(symbols)
    if symbols.ndim != 2 or symbols.shape[1] == 0 or not np.all((symbols == 0) | (symbols == 1)):
        raise ValueError(f"symbols must be (N, T) with T >= 1 and values 0 or 1; "
                         f"got shape {symbols.shape}")
    symbols = symbols.astype(np.int64)
    depth = np.cumsum(1 - 2 * symbols, axis=1)
    balanced = (depth.min(axis=1) >= 0) & (depth[:, -1] == 0)
    return {"x": one_hot(symbols, 2), "symbols": symbols, "depth": depth, "balanced": balanced}


def all_brackets(T):
    """`brackets` of all 2^T strings of length T (row i: i in binary, first symbol = top bit)."""
    return brackets(all_bit_strings(T))


def random_brackets(num, T, balanced_fraction=0.5, seed=0):
    """`brackets` of num random strings of even length T, in random order.

    round(balanced_fraction * num) are balanced, drawn uniformly from all balanced strings of
    length T (cycle lemma: shuffle T/2 up and T/2 + 1 down steps, rotate to start after the first
    minimum of the running sum, drop the final down step). The rest are the hard negatives: T/2
    '(' and T/2 ')' in uniform random order, conditioned on being unbalanced, so the counts always
    match and only a depth below zero somewhere gives them away."""
    check_positive_int("num", num)
    check_positive_int("T", T, minimum=2)
    if T % 2:
        raise ValueError(f"T must be even (a balanced string has as many '(' as ')'); got {T}")
    if not 0.0 <= balanced_fraction <= 1.0:
        raise ValueError(f"balanced_fraction must be in [0, 1]; got {balanced_fraction}")
    rng = np.random.default_rng(seed)
    num_balanced = int(round(balanced_fraction * num))
    half = T // 2
    steps = rng.permuted(np.tile([1] * half + [-1] * (half + 1), (num_balanced, 1)), axis=1)
    first_min = np.argmin(np.cumsum(steps, axis=1), axis=1)
    rotation = (first_min[:, None] + 1 + np.arange(T + 1)) % (T + 1)
    dyck = np.take_along_axis(steps, rotation, axis=1)[:, :T]
    unbalanced = np.tile([1] * half + [-1] * half, (num - num_balanced, 1))
    redraw = np.ones(len(unbalanced), dtype=bool)
    while redraw.any():
        unbalanced[redraw] = rng.permuted(unbalanced[redraw], axis=1)
        redraw = np.cumsum(unbalanced, axis=1).min(axis=1) >= 0
    steps = np.concatenate([dyck, unbalanced])[rng.permutation(num)]
    return brackets((1 - steps) // 2)


# ---------------------------------------------------------------- parity and majority

def all_bit_strings(T):
    """(2^T, T) int64: row i is i written in T bits, the most significant bit at t = 0."""
    check_positive_int("T", T)
    if T > MAX_EXHAUSTIVE_T:
        raise ValueError(f"all 2^T strings only for T <= {MAX_EXHAUSTIVE_T}; got T={T} "
                         f"(draw random strings with num=...)")
    return (np.arange(2 ** T)[:, None] >> np.arange(T - 1, -1, -1)) & 1


def bit_strings(T, num=None, seed=0):
    """All 2^T bit strings (num=None, see all_bit_strings) or num uniform random ones: (N, T) int64."""
    if num is None:
        return all_bit_strings(T)
    check_positive_int("T", T)
    check_positive_int("num", num)
    return np.random.default_rng(seed).integers(0, 2, size=(num, T))


def parity(T, num=None, seed=0):
    """Parity of bit strings: all 2^T of them (num=None) or num random ones.

    Returns x (N, T, 1) float64 bits, bits (N, T) int64, y (N,) int64 = sum(bits) % 2, and
    y_seq (N, T) int64 = the running parity of bits[:, :t + 1] (a per-step target)."""
    bits = bit_strings(T, num, seed)
    running = np.cumsum(bits, axis=1) % 2
    return {"x": bits[..., None].astype(np.float64), "bits": bits, "y": running[:, -1],
            "y_seq": running}


def majority(T, num=None, seed=0):
    """Majority of bit strings: all 2^T of them (num=None) or num random ones.

    y = 1 when the ones strictly outnumber the zeros (2 * sum > T), else 0: a tie (even T only)
    counts as 0. Returns x (N, T, 1) float64, bits (N, T) int64, y (N,) int64, ones (N,) int64
    = sum(bits), and y_seq (N, T) int64 = the same rule applied to bits[:, :t + 1]."""
    bits = bit_strings(T, num, seed)
    ones = np.cumsum(bits, axis=1)
    running = (2 * ones > np.arange(1, bits.shape[1] + 1)).astype(np.int64)
    return {"x": bits[..., None].astype(np.float64), "bits": bits, "y": running[:, -1],
            "ones": ones[:, -1], "y_seq": running}


# ---------------------------------------------------------------- two timescales

def two_timescale(num, T=200, fast=8.0, slow=64.0, kind="sine", noise_std=0.05, seed=0):
    """One input channel, the sum of a fast and a slow component; targets ask for each part.

        x_t = slow_t + fast_t + noise_std * e_t,     y_t = (slow_t, fast_t)

    fast, slow: the two timescales in steps. kind="sine": a component is
    a * sin(2 pi t / period + phase), period = the timescale, amplitude a ~ U(0.5, 1.5) and
    phase ~ U(0, 2 pi) drawn per sequence. kind="ar": a unit-variance AR(1) process
    s_t = rho s_{t-1} + sqrt(1 - rho^2) e_t with rho = exp(-1 / timescale), started from its
    stationary distribution. Defaults: periods 8 and 64 over 200 steps (25 fast and about 3 slow
    cycles), noise 0.05. Predicting y[..., 0] needs the slow signal (a low-pass readout),
    y[..., 1] the fast one (a high-pass readout).

    Returns x (N, T, 1) float64, y (N, T, 2) float64 (channel 0 slow, channel 1 fast), and the
    noise-free slow (N, T) and fast (N, T)."""
    check_positive_int("num", num)
    check_positive_int("T", T)
    if not 0 < fast < slow:
        raise ValueError(f"need 0 < fast < slow timescales; got fast={fast}, slow={slow}")
    if kind not in ("sine", "ar"):
        raise ValueError(f"kind must be 'sine' or 'ar'; got {kind!r}")
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0; got {noise_std}")
    rng = np.random.default_rng(seed)
    generate = sine_component if kind == "sine" else ar_component
    slow_part, fast_part = generate(num, T, slow, rng), generate(num, T, fast, rng)
    x = slow_part + fast_part + noise_std * rng.standard_normal((num, T))
    return {"x": x[..., None], "y": np.stack([slow_part, fast_part], axis=-1),
            "slow": slow_part, "fast": fast_part}


def sine_component(num, T, period, rng):
    amplitude = rng.uniform(0.5, 1.5, size=(num, 1))
    phase = rng.uniform(0.0, 2 * np.pi, size=(num, 1))
    return amplitude * np.sin(2 * np.pi * np.arange(T) / period + phase)


def ar_component(num, T, timescale, rng):
    rho = np.exp(-1.0 / timescale)
    shocks = rng.standard_normal((num, T))
    s = np.empty((num, T))
    s[:, 0] = shocks[:, 0]                                    # stationary: variance 1
    for t in range(1, T):
        s[:, t] = rho * s[:, t - 1] + np.sqrt(1 - rho ** 2) * shocks[:, t]
    return s
