"""Synthetic sequence tasks with known answers: counting (a^n b^n), balanced brackets, parity,
majority, a signal mixing a fast and a slow timescale, and interleaved spirals (each point of the
plane read as a sequence of its coordinates). NumPy only; random ones take a seed and give the
same arrays for the same seed.

Shape legend: N sequences, T time steps, K symbols (one-hot width), C target channels.

Every function returns a dict of arrays; `x` is always the network input, float64, (N, T, D).
"""
import numpy as np

from ..validation import check_finite_number

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


# ---------------------------------------------------------------- interleaved spirals

def spiral_sequences(points):
    """The spirals' reading of points in the plane: points (N, 2) -> x (N, 2, 1) float64, the
    first coordinate read at step 0 and the second at step 1."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 2:
        raise ValueError(f"points must have shape (N, 2); got shape {points.shape}")
    return points[:, :, None].copy()


def spirals(num, classes=2, turns=3.0, radius=1.0, noise_std=0.02, seed=0):
    """K interleaved spirals in the plane (Lang & Witbrock's two-spiral problem for K = 2), each
    point read as a sequence of its two coordinates.

    Arm k (k = 0..K-1, K = classes) is the curve, for s in [0, 1],

        theta = 2 pi (turns * s + k / K),        clean = radius * s * (cos theta, sin theta)

    Each arm winds `turns` times around the origin out to `radius`; arm k is arm 0 turned by
    2 pi k / K, so along a ray from the origin the arms take turns, radius / (turns K) apart.
    Point i belongs to class i % K (balanced), sits at s ~ U(0, 1) along its arm and gets
    Gaussian noise of sd noise_std (in the units of radius) on each coordinate.

    Reading (`spiral_sequences`): T = 2 steps of D = 1 feature, the first coordinate at step 0
    and the second at step 1. Neither coordinate alone tells the class (a vertical or horizontal
    line through the middle crosses every arm, more than once: at 3 turns the best rule reading
    one coordinate is right about 2 times in 3), so a recurrent network must keep what it read at
    step 0 in its state and combine it with step 1's input; the class is read from the state
    after step 1.

    Returns x (N, 2, 1) float64, points (N, 2) float64 (noisy), labels (N,) int64, s (N,) the
    position along the arm, clean (N, 2) the noise-free points on the arms.
    """
    check_positive_int("num", num)
    check_positive_int("classes", classes, minimum=2)
    if check_finite_number("turns", turns) <= 0:
        raise ValueError(f"turns must be > 0; got {turns!r}")
    if check_finite_number("radius", radius) <= 0:
        raise ValueError(f"radius must be > 0; got {radius!r}")
    if check_finite_number("noise_std", noise_std) < 0:
        raise ValueError(f"noise_std must be >= 0; got {noise_std!r}")
    rng = np.random.default_rng(seed)
    labels = np.arange(num) % classes
    s = rng.uniform(0.0, 1.0, size=num)
    theta = 2 * np.pi * (turns * s + labels / classes)
    clean = radius * s[:, None] * np.stack([np.cos(theta), np.sin(theta)], axis=1)   # (N, 2)
    points = clean + noise_std * rng.standard_normal((num, 2))
    return {"x": spiral_sequences(points), "points": points, "labels": labels, "s": s,
            "clean": clean}


# ---------------------------------------------------------------- transduction (encoder-decoder)
# These return token ids, not x: an encoder-decoder embeds them (minirnn.seq2seq). Source ids:
# 0 is padding, then the task's words. Target ids: the specials, then the task's symbols.
TARGET_SPECIALS = ("<pad>", "<s>", "</s>")   # target ids 0 (padding), 1 (start), 2 (end)
UNITS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
TEENS = ("ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen")
TENS = ("twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
NUMBER_WORDS = ("<pad>", "zero") + UNITS + TEENS + TENS + ("hundred", "thousand", "and")
DIGITS = TARGET_SPECIALS + tuple("0123456789")


def transduction(sources, targets, alignments):
    """Pad token lists into the arrays an encoder-decoder trains on (teacher forcing).

    sources: N lists of source ids (>= 1); targets: N lists of target ids (>= 3), the end id 2 is
    appended here; alignments: N lists with, for each target symbol, the source positions it is
    aligned to. Returns a dict:
        source (N, S) int64, 0-padded          source_mask (N, S) bool     source_lengths (N,)
        target (N, T) int64, ends with 2, 0-padded      target_mask (N, T) bool   target_lengths (N,)
        decoder_input (N, T) int64: the start id 1, then target[:, :-1] (what the decoder reads)
        alignment (N, T, S) bool: alignment[n, t, s] is True when target symbol t is aligned to
                                  source position s; the end symbol's row is all False
    """
    N = len(sources)
    source_lengths = np.array([len(s) for s in sources], dtype=np.int64)
    target_lengths = np.array([len(t) + 1 for t in targets], dtype=np.int64)
    S, T = source_lengths.max(), target_lengths.max()
    source, target = np.zeros((N, S), np.int64), np.zeros((N, T), np.int64)
    alignment = np.zeros((N, T, S), bool)
    for n, (src, tgt, links) in enumerate(zip(sources, targets, alignments)):
        source[n, :len(src)] = src
        target[n, :len(tgt) + 1] = list(tgt) + [2]
        for t, positions in enumerate(links):
            alignment[n, t, list(positions)] = True
    decoder_input = np.concatenate([np.ones((N, 1), np.int64), target[:, :-1]], axis=1)
    return {"source": source, "source_mask": np.arange(S) < source_lengths[:, None],
            "source_lengths": source_lengths, "target": target,
            "target_mask": np.arange(T) < target_lengths[:, None],
            "target_lengths": target_lengths, "decoder_input": np.where(
                np.arange(T) < target_lengths[:, None], decoder_input, 0),
            "alignment": alignment}


def number_words(n):
    """British English words for 0 <= n <= 9999, tens and units as two words, with the result
    aligned digit by digit: (words, links), links[k] = the positions of the words that give
    digit k of str(n).

        3412 -> three thousand four hundred and twelve;   3 <- three, 4 <- four, 1, 2 <- twelve

    A nonzero digit is aligned to the word that names it ("twelve" names two). A zero digit is
    aligned to the word that makes it zero: the units zero of a tens word ("twenty" -> 20) to
    that word, any other zero to the nearest "hundred" or "thousand" before it (305: the 0 to
    "hundred"); "and" names no digit.
    """
    if not isinstance(n, (int, np.integer)) or not 0 <= n <= 9999:
        raise ValueError(f"n must be an int in [0, 9999]; got {n!r}")
    if n == 0:
        return ["zero"], [[0]]
    words, places = [], {}                     # places: {place 3..0: position of its word}
    thousands, hundreds, rest = n // 1000, n // 100 % 10, n % 100
    for digit, place, magnitude in ((thousands, 3, "thousand"), (hundreds, 2, "hundred")):
        if digit:
            places[place] = len(words)
            words += [UNITS[digit - 1], magnitude]
    if rest and words:
        words.append("and")
    if 10 <= rest < 20:
        places[1] = places[0] = len(words)
        words.append(TEENS[rest - 10])
    elif rest:
        if rest >= 20:
            places[1] = places[0] = len(words)  # "twenty": the units zero, until a unit word
            words.append(TENS[rest // 10 - 2])
        if rest % 10:
            places[0] = len(words)
            words.append(UNITS[rest % 10 - 1])
    magnitudes = [(k, {"thousand": 3, "hundred": 2}[w]) for k, w in enumerate(words)
                  if w in ("thousand", "hundred")]
    links = []
    for place in range(len(str(n)) - 1, -1, -1):
        if place not in places:  # a zero: the nearest magnitude word above this place
            places[place] = min((m, k) for k, m in magnitudes if m > place)[1]
        links.append([places[place]])
    return words, links


def spelled_numbers(numbers):
    """Spelled-out numbers to digits: "three hundred and twelve" -> "312" (`number_words`).

    numbers: ints in [0, 9999]. Source ids index NUMBER_WORDS (0 = padding), target ids index
    DIGITS (0 padding, 1 start, 2 end, 3 + d the digit d). Returns the dict of `transduction`
    and numbers (N,) int64. The answer needs the whole source: the number of digits is fixed
    by the first words, the digits themselves by words anywhere.
    """
    numbers = [int(n) for n in np.asarray(numbers).reshape(-1)]
    if not numbers:
        raise ValueError("numbers must hold at least one number")
    spelled = [number_words(n) for n in numbers]
    sources = [[NUMBER_WORDS.index(w) for w in words] for words, _ in spelled]
    targets = [[3 + int(d) for d in str(n)] for n in numbers]
    task = transduction(sources, targets, [links for _, links in spelled])
    return dict(task, numbers=np.array(numbers, dtype=np.int64))


def reversal(num, lengths, num_symbols=10, seed=0):
    """Reverse random strings: source a_1 ... a_L, target a_L ... a_1 (an anti-diagonal alignment).

    lengths: (shortest, longest), each string's length L drawn uniformly from that range. Source
    ids 1..num_symbols (0 = padding); the target id of symbol k is k + 2 (after the specials).
    Returns the dict of `transduction`.
    """
    check_positive_int("num", num)
    check_positive_int("num_symbols", num_symbols)
    shortest, longest = lengths
    check_positive_int("lengths[0]", shortest)
    check_positive_int("lengths[1]", longest, minimum=shortest)
    rng = np.random.default_rng(seed)
    sizes = rng.integers(shortest, longest + 1, size=num)
    sources = [list(rng.integers(1, num_symbols + 1, size=L)) for L in sizes]
    targets = [[k + 2 for k in reversed(src)] for src in sources]
    links = [[[L - 1 - t] for t in range(L)] for L in sizes]
    return transduction(sources, targets, links)


# ---------------------------------------------------------------- congestion on a road grid

def road_grid_congestion(rows=4, cols=4, T=500, delay=2, gain=0.3, decay=0.5, jam_rate=0.03,
                         noise_std=0.02, jams=None, seed=0):
    """Congestion on a grid of one-way streets: jams start at random and travel along the
    streets' direction, arriving `delay` steps later one intersection on (a graph time series
    whose direction of influence is known, for checking what a graph model learned).

    Nodes are the intersections of a rows x cols grid, node r * cols + c at row r, column c.
    The streets run east (c -> c + 1) and south (r -> r + 1): the directed edges u -> v, u being
    v's upstream neighbour. With c_t = 0 for t < 0,

        c_t[v] = decay * c_{t-1}[v] + gain * sum over edges u -> v of c_{t-delay}[u] + jams_t[v]
        series_t[v] = c_t[v] + noise_std * standard normal

    so a jam of size 1 at u reaches v at t + delay with size gain, and never goes west or north.
    jams: None (each node starts a jam of size 1 with probability jam_rate at every step) or
    a (T, N) array of jam sizes (then jam_rate and the random draws for jams are not used).

    Returns a dict:
        series (T, N, 1) float64    the observed levels (one feature per node)
        congestion (T, N) float64   c_t without the noise;   jams (T, N) float64
        adjacency (N, N) float64    the road graph without its direction (symmetric, 0/1): what
                                    a model is given
        upstream (N, N) bool        upstream[v, u]: the edge u -> v exists
        edges (E, 2) int64          the directed edges (u, v), E = rows (cols - 1) + cols (rows - 1)
        positions (N, 2) int64      (row, column) of each node;   delay, the int
    """
    check_positive_int("rows", rows)
    check_positive_int("cols", cols)
    check_positive_int("T", T)
    check_positive_int("delay", delay)
    gain, decay = check_finite_number("gain", gain), check_finite_number("decay", decay)
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"decay must be in [0, 1); got {decay!r}")
    if not 0.0 <= check_finite_number("jam_rate", jam_rate) <= 1.0:
        raise ValueError(f"jam_rate must be in [0, 1]; got {jam_rate!r}")
    if check_finite_number("noise_std", noise_std) < 0:
        raise ValueError(f"noise_std must be >= 0; got {noise_std!r}")
    N = rows * cols
    positions = np.array([(r, c) for r in range(rows) for c in range(cols)], dtype=np.int64)
    edges = np.array([(u, u + 1) for u in range(N) if positions[u, 1] < cols - 1]
                     + [(u, u + cols) for u in range(N) if positions[u, 0] < rows - 1],
                     dtype=np.int64).reshape(-1, 2)
    upstream = np.zeros((N, N), dtype=bool)
    upstream[edges[:, 1], edges[:, 0]] = True
    rng = np.random.default_rng(seed)
    if jams is None:
        jams = (rng.random((T, N)) < jam_rate).astype(np.float64)
    jams = np.asarray(jams, dtype=np.float64)
    if jams.shape != (T, N):
        raise ValueError(f"jams must have shape (T, N) = ({T}, {N}); got shape {jams.shape}")
    congestion = np.zeros((T, N))
    for t in range(T):
        congestion[t] = jams[t]
        if t >= 1:
            congestion[t] += decay * congestion[t - 1]
        if t >= delay:
            congestion[t] += gain * (upstream @ congestion[t - delay])
    series = congestion + noise_std * rng.standard_normal((T, N))
    return {"series": series[:, :, None], "congestion": congestion, "jams": jams,
            "adjacency": (upstream | upstream.T).astype(np.float64), "upstream": upstream,
            "edges": edges, "positions": positions, "delay": delay}


# ---------------------------------------------------------------- anomalies on two timescales

ANOMALY_KINDS = ("normal", "spike", "drift")   # ids 0, 1, 2 in `kinds` and `events`


def multiscale_anomalies(T=4000, normal_steps=1500, period=40, num_spikes=8, num_drifts=4,
                         spike_size=2.0, drift_size=1.0, drift_length=200, noise_std=0.1,
                         spikes=None, drifts=None, seed=0):
    """A periodic signal with fast spikes and slow drifts added at known steps: which detector
    (which layer's score) finds which kind?

        normal_t = sin(2 pi t / period) + 0.5 sin(4 pi t / period + 1) + noise_std * e_t
        series_t = normal_t + spike_size                             at a spike's step s
                 + drift_size * (1 - cos(2 pi (t - d) / L)) / 2      for d <= t < d + L
    (L = drift_length; d a drift's first step).

    A spike lasts one step; a drift is a slow rise and fall of the level, at most
    pi * drift_size / drift_length per step (0.016 with the defaults, well under the noise).
    The first normal_steps steps hold no event (the part to train on). spikes, drifts: None
    (num_spikes and num_drifts events at random, in random order, at least one period apart
    and from both ends of the test part) or lists of start steps (then num_spikes, num_drifts
    and the random placement are not used); events must lie in [normal_steps, T) and not
    overlap; when one of them is a list, None for the other means none.

    Returns a dict:
        x (1, T, 1) float64      the series as a network input
        series (T,) float64      normal plus the events;   normal (T,) float64 without them
        kinds (T,) int64         0 normal, 1 spike, 2 drift (ANOMALY_KINDS) at each step
        events (E, 3) int64      (start, end, kind) of each event, by start; end is exclusive
        normal_steps             the int
    """
    for name, value in (("T", T), ("normal_steps", normal_steps), ("period", period),
                        ("drift_length", drift_length)):
        check_positive_int(name, value)
    for name, value in (("num_spikes", num_spikes), ("num_drifts", num_drifts)):
        check_positive_int(name, value, minimum=0)
    spike_size, drift_size = (check_finite_number("spike_size", spike_size),
                              check_finite_number("drift_size", drift_size))
    if check_finite_number("noise_std", noise_std) < 0:
        raise ValueError(f"noise_std must be >= 0; got {noise_std!r}")
    rng = np.random.default_rng(seed)
    t = np.arange(T)
    normal = (np.sin(2 * np.pi * t / period) + 0.5 * np.sin(4 * np.pi * t / period + 1.0)
              + noise_std * rng.standard_normal(T))
    if spikes is None and drifts is None:
        events = random_events(T, normal_steps, period, num_spikes, num_drifts, drift_length, rng)
    else:
        events = np.array([(s, s + 1, 1) for s in ([] if spikes is None else spikes)]
                          + [(d, d + drift_length, 2) for d in ([] if drifts is None else drifts)],
                          dtype=np.int64).reshape(-1, 3)
        events = events[np.argsort(events[:, 0], kind="stable")]
    if events.size and (events[0, 0] < normal_steps or events[-1, 1] > T
                        or np.any(events[1:, 0] < events[:-1, 1])):
        raise ValueError(f"spikes and drifts must start at or after normal_steps={normal_steps}, "
                         f"end by T={T} and not overlap (a drift lasts drift_length="
                         f"{drift_length} steps); got events (start, end, kind) {events.tolist()}")
    series, kinds = normal.copy(), np.zeros(T, dtype=np.int64)
    for start, end, kind in events:
        phase = 2 * np.pi * np.arange(end - start) / drift_length
        series[start:end] += spike_size if kind == 1 else drift_size * (1 - np.cos(phase)) / 2
        kinds[start:end] = kind
    return {"x": series[None, :, None], "series": series, "normal": normal, "kinds": kinds,
            "events": events, "normal_steps": normal_steps}


def random_events(T, normal_steps, gap, num_spikes, num_drifts, drift_length, rng):
    """(E, 3) events (start, end, kind) in random order in [normal_steps, T), `gap` steps apart
    and from both ends: random spacings of the free steps, so every draw fits."""
    lengths = np.array([1] * num_spikes + [drift_length] * num_drifts)
    kinds = np.array([1] * num_spikes + [2] * num_drifts)
    order = rng.permutation(len(kinds))
    lengths, kinds = lengths[order], kinds[order]
    free = T - normal_steps - lengths.sum() - (len(kinds) + 1) * gap
    if free < 0:
        raise ValueError(f"T={T} leaves no room for {num_spikes} spikes and {num_drifts} drifts "
                         f"of {drift_length} steps after normal_steps={normal_steps}, "
                         f"{gap} steps apart")
    spacing = np.diff(np.sort(rng.integers(0, free + 1, size=len(kinds))), prepend=0)
    starts = normal_steps + gap + np.cumsum(spacing + np.concatenate([[0], lengths[:-1] + gap]))
    return np.stack([starts, starts + lengths, kinds], axis=1).astype(np.int64)
