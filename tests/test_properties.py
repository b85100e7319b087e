"""Property tests over random stacks (hypothesis): the Numba kernels and the NumPy reference
agree on everything a run produces, and a padded batch agrees with its sequences run alone.

The stacks: cell rnn / lstm / gru, 1-4 layers of widths 1-9, uni- or bidirectional, skip edges
(none, "l-2", or an explicit list whose widths match), return_sequences, clocks (periods 1-3),
dropout and recurrent dropout (0 or 0.3, in a training run with a seeded rng), float64; batches
of N 1-4 sequences of T 1-6 steps of D 1-5 features, nonzero initial states, random upstream
gradients on y, on the final states and injected at one layer (dlayers).

How many examples. MINIRNN_PROPERTY_PROFILE picks one of the settings profiles registered below:

    ci (default)   CI_EXAMPLES examples per property, derandomized: the same examples every run
                   (the whole file: about 24 s on 2 cores with Numba's on-disk cache warm,
                   45 s cold)
    thorough       10,000 examples per property, a fresh random search every run

and MINIRNN_PROPERTY_EXAMPLES=K, if set, replaces either profile's count. The thorough run:

    MINIRNN_PROPERTY_PROFILE=thorough python -m pytest -q tests/test_properties.py -p no:cacheprovider

Neither profile keeps an example database (database=None); a failure prints its falsifying
example, and a thorough run also the @reproduce_failure blob. Hypothesis still caches the
constants it reads from the source in its storage directory (./.hypothesis by default); this file
moves that to <tmp>/minirnn-hypothesis unless HYPOTHESIS_STORAGE_DIRECTORY is set, so a run
writes nothing into the repository.
"""
import os
import tempfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.extra import numpy as hnp

from minirnn import StackedRNN

if not os.environ.get("HYPOTHESIS_STORAGE_DIRECTORY"):
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "minirnn-hypothesis")

CI_EXAMPLES = 1500
settings.register_profile("minirnn-ci", max_examples=CI_EXAMPLES, deadline=None,
                          derandomize=True, database=None)
settings.register_profile("minirnn-thorough", max_examples=10_000, deadline=None,
                          database=None, print_blob=True)


def property_settings():
    """The profile MINIRNN_PROPERTY_PROFILE names (default "ci"), with max_examples replaced by
    MINIRNN_PROPERTY_EXAMPLES when that is set."""
    name = os.environ.get("MINIRNN_PROPERTY_PROFILE", "ci")
    if name not in ("ci", "thorough"):
        raise ValueError(f"MINIRNN_PROPERTY_PROFILE must be 'ci' or 'thorough'; got {name!r}")
    profile = settings.get_profile(f"minirnn-{name}")
    examples = os.environ.get("MINIRNN_PROPERTY_EXAMPLES")
    return profile if examples is None else settings(profile, max_examples=int(examples))


PROPERTY_SETTINGS = property_settings()
RTOL = ATOL = 1e-10  # float64; the backends agreed to 2.3e-12 over 10,000 random stacks


# ---- strategies ---------------------------------------------------------------------------------
def counts(low, high):
    """An int in low..high, each about equally often (st.integers draws its bounds far more often:
    a third of all sequences would have one step)."""
    return st.sampled_from(range(low, high + 1))


@st.composite
def stack_configs(draw):
    """The keyword arguments of a random float64 StackedRNN. Skip edges are drawn first and the
    widths to match them: an edge (src, dst) adds out_src to in_dst, so W_src = W_{dst-1}
    (W_0 = D); the nodes an edge ties share one hidden size, and a tie to the input sets D."""
    L = draw(counts(1, 4))
    bidirectional = draw(st.booleans())
    dirs = 2 if bidirectional else 1
    skip = draw(st.sampled_from([None, "l-2", "list"]))
    if skip == "l-2":
        edges = [(l - 2, l) for l in range(3, L + 1)]
    elif skip == "list":
        candidates = [(src, dst) for dst in range(2, L + 1) for src in range(dst - 1)]
        edges = draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True)) \
            if candidates else []
        skip = edges
    else:
        edges = []
    group = list(range(L + 1))  # union-find over the widths W_0 .. W_L

    def root(node):
        while group[node] != node:
            node = group[node]
        return node

    for src, dst in edges:
        group[root(src)] = root(dst - 1)
    tied = {}  # root -> the widths W_0 .. W_L tied together
    for node in range(L + 1):
        tied.setdefault(root(node), []).append(node)
    sizes = {}  # root -> the hidden size of the layers in its group
    for r, nodes in tied.items():
        if nodes != [0]:  # a group holding the input: H * dirs = D must lie in 1..5
            sizes[r] = draw(st.integers(1, 5 // dirs if 0 in nodes else 9))
    D = sizes[root(0)] * dirs if root(0) in sizes else draw(st.integers(1, 5))
    return dict(cell=draw(st.sampled_from(["rnn", "lstm", "gru"])), input_size=D,
                hidden_sizes=[sizes[root(l)] for l in range(1, L + 1)],
                bidirectional=bidirectional, skip=skip,
                return_sequences=draw(st.booleans()),
                clock_periods=draw(st.none() | st.lists(st.integers(1, 3), min_size=L,
                                                        max_size=L)),
                dropout=draw(st.sampled_from([0.0, 0.3])),
                recurrent_dropout=draw(st.sampled_from([0.0, 0.3])),
                init=draw(st.sampled_from(["uniform", "orthogonal"])),
                forget_bias=draw(st.sampled_from([0.0, 1.0])),
                seed=draw(st.integers(0, 2**16)), dtype=np.float64)


@st.composite
def backend_problems(draw):
    """A random stack and a run of it: batch shape, a mask (any (N, T) bool, all-False rows
    included: those sequences carry their initial states throughout) or None, whether it is a
    training run, where to inject a gradient, and the seed of its arrays."""
    config = draw(stack_configs())
    N, T = draw(counts(1, 4)), draw(counts(1, 6))
    return dict(config=config, N=N, T=T, mask=draw(st.none() | hnp.arrays(np.bool_, (N, T))),
                train=draw(st.booleans()), **upstream_choices(draw, len(config["hidden_sizes"])),
                data_seed=draw(st.integers(0, 2**32 - 1)))


@st.composite
def padded_problems(draw):
    """A random stack and a padded batch: sequence n has length lengths[n] in 1..T and mask
    mask[n, t] = t < lengths[n]; the backend that runs it."""
    config = draw(stack_configs())
    N, T = draw(counts(1, 4)), draw(counts(1, 6))
    return dict(config=config, N=N, T=T,
                lengths=draw(st.lists(counts(1, T), min_size=N, max_size=N)),
                backend=draw(st.sampled_from(["numpy", "numba"])), train=draw(st.booleans()),
                **upstream_choices(draw, len(config["hidden_sizes"])),
                data_seed=draw(st.integers(0, 2**32 - 1)))


def upstream_choices(draw, L):
    """Which upstream gradients a run gets besides dy: on the final states, and at one layer."""
    return dict(with_dstates=draw(st.booleans()), inject=draw(st.none() | st.integers(1, L)))


def problem_arrays(net, problem, rng):
    """x (N, T, D), initial states, dy, dstates (or None) and dlayers (or None) drawn from rng;
    dy and dlayers are zero where `step_mask` (N, T) is False, if the problem has one."""
    N, T = problem["N"], problem["T"]
    x = rng.standard_normal((N, T, net.input_size))
    initial = net.random_states(N, rng)
    real = problem.get("step_mask")
    W = net.output_widths()
    dy = rng.standard_normal((N, T, W[-1]) if net.return_sequences else (N, W[-1]))
    if real is not None and net.return_sequences:
        dy *= real[:, :, None]
    dstates = ([{k: rng.standard_normal(s.shape) for k, s in layer.items()} for layer in initial]
               if problem["with_dstates"] else None)
    dlayers = None
    if problem["inject"] is not None:
        l = problem["inject"]
        g = rng.standard_normal((N, T, W[l - 1]))
        dlayers = {l: g if real is None else g * real[:, :, None]}
    return x, initial, dy, dstates, dlayers


def assert_close(actual, expected, what):
    assert actual.shape == expected.shape, (what, actual.shape, expected.shape)
    np.testing.assert_allclose(actual, expected, rtol=RTOL, atol=ATOL, err_msg=what)


def assert_same_masks(cache, cache_ref):
    """The same dropout masks on layer outputs and the same recurrent-dropout masks (the second
    cache may be a `sequence_masks` view)."""
    assert cache.dropout.keys() == cache_ref.dropout.keys()
    for l, m in cache_ref.dropout.items():
        np.testing.assert_array_equal(cache.dropout[l], m, err_msg=f"dropout[{l}]")
    for l, layer in cache_ref.layers.items():
        for d, c in layer.items():
            m = cache.layers[l][d]["recurrent_mask"]
            assert (m is None) == (c["recurrent_mask"] is None), (l, d)
            if m is not None:
                np.testing.assert_array_equal(m, c["recurrent_mask"], err_msg=f"recurrent {l} {d}")


# ---- property 1: the two backends agree ---------------------------------------------------------
@PROPERTY_SETTINGS
@given(backend_problems())
def test_numba_and_numpy_backends_agree(problem):
    """The same forward (y, every layer's output, final states) and backward (dx, every parameter
    gradient, the initial-state gradients) on both backends, from the same dropout masks (the same
    seeded rng); and the Numba backward of the NumPy forward's cache agrees too."""
    net = StackedRNN(**problem["config"])
    rng = np.random.default_rng(problem["data_seed"])
    x, initial, dy, dstates, dlayers = problem_arrays(net, problem, rng)
    train, mask = problem["train"], problem["mask"]
    runs = {}
    for backend in ("numpy", "numba"):
        y, states, cache = net.forward(x, initial, mask=mask, backend=backend, train=train,
                                       rng=np.random.default_rng([problem["data_seed"], 1]))
        assert cache.backend == backend
        runs[backend] = (y, states, cache) + net.backward(dy, cache, dstates, dlayers,
                                                          return_dinitial=True)
    y_ref, states_ref, cache_ref, dx_ref, grads_ref, dinit_ref = runs["numpy"]
    y, states, cache, dx, grads, dinit = runs["numba"]

    assert_same_masks(cache, cache_ref)
    if train and net.dropout > 0:
        assert len(cache_ref.dropout) == net.num_layers - 1
    assert_close(y, y_ref, "y")
    for l in range(1, net.num_layers + 1):
        assert_close(cache.outputs[l], cache_ref.outputs[l], f"outputs[{l}]")
        for k in net.spec.state_names:
            assert_close(states[l - 1][k], states_ref[l - 1][k], f"final state {l} {k}")
            assert_close(dinit[l - 1][k], dinit_ref[l - 1][k], f"dinitial {l} {k}")
    assert_close(dx, dx_ref, "dx")
    assert grads.keys() == grads_ref.keys() == net.params.keys()
    for key in grads_ref:
        assert_close(grads[key], grads_ref[key], key)

    dx_cross, grads_cross = net.backward(dy, cache_ref, dstates, dlayers, backend="numba")
    assert_close(dx_cross, dx_ref, "dx (numba backward of the numpy cache)")
    for key in grads_ref:
        assert_close(grads_cross[key], grads_ref[key], f"{key} (numba backward, numpy cache)")


# ---- property 2: a padded batch is its sequences run alone --------------------------------------
class RecordedDraws(np.random.Generator):
    """A seeded numpy Generator that keeps every array rng.random(shape) returns: the uniforms
    behind each dropout mask of a training run (masking.sample_dropout_masks)."""

    def __init__(self, seed):
        super().__init__(np.random.PCG64(seed))
        self.draws = []

    def random(self, *args, **kwargs):
        self.draws.append(super().random(*args, **kwargs))
        return self.draws[-1]


class ReplayedDraws(np.random.Generator):
    """A Generator whose rng.random(shape) replays a batch run's draws for sequence n alone,
    truncated to `length` steps: the rows of sequence n and, of an (N, T, W) output-mask draw,
    its first `length` steps. So the run alone drops exactly what the batch run dropped for that
    sequence (the test compares the masks in the two caches)."""

    def __init__(self, draws, n, length):
        super().__init__(np.random.PCG64(0))
        self.draws, self.n, self.length = list(draws), n, length

    def random(self, size=None, *args, **kwargs):
        assert self.draws, "the run alone draws more dropout masks than the batch run did"
        u = self.draws.pop(0)
        part = u[self.n:self.n + 1, :self.length] if u.ndim == 3 else u[self.n:self.n + 1]
        assert part.shape == tuple(size), ("the dropout draws changed layout", u.shape, size)
        return part


def sequence_masks(cache, n, length):
    """The dropout masks of a batch run's cache that sequence n's first `length` steps saw, in
    the layout of a run of that sequence alone: an object with .dropout and .layers as
    assert_same_masks reads them."""
    layers = {l: {d: {"recurrent_mask": None if c["recurrent_mask"] is None
                      else c["recurrent_mask"][n:n + 1]} for d, c in layer.items()}
              for l, layer in cache.layers.items()}
    dropout = {l: m[n:n + 1, :length] for l, m in cache.dropout.items()}
    return SimpleNamespace(dropout=dropout, layers=layers)


@PROPERTY_SETTINGS
@given(padded_problems())
def test_padded_batch_matches_each_sequence_run_alone(problem):
    """Sequence n of a padded batch (mask[n, t] = t < len_n) gets what x[n:n+1, :len_n] alone
    gets: y at its real steps (with return_sequences=False, the summary at its true end: the
    reverse direction starts there), every layer's output at its real steps, the final states,
    dx at its real steps (zero at the padded ones), its initial-state gradients; and the batch's
    parameter gradients are the sum over the sequences' (dy, dlayers zero at padded steps)."""
    net = StackedRNN(**problem["config"], backend=problem["backend"])
    T, lengths = problem["T"], problem["lengths"]
    mask = np.arange(T)[None, :] < np.array(lengths)[:, None]
    rng = np.random.default_rng(problem["data_seed"])
    x, initial, dy, dstates, dlayers = problem_arrays(net, dict(problem, step_mask=mask), rng)
    x[~mask] = 1e3 * rng.standard_normal(x[~mask].shape)  # padding that would show if read
    train = problem["train"]
    draws = RecordedDraws([problem["data_seed"], 1])
    y, states, cache = net.forward(x, initial, mask=mask, train=train, rng=draws)
    dx, grads, dinit = net.backward(dy, cache, dstates, dlayers, return_dinitial=True)
    grads_sum = {key: np.zeros_like(g) for key, g in grads.items()}

    def row(layers, n):  # sequence n's part of a list over layers of {name: (dirs, N, H)}
        return None if layers is None else [{k: s[:, n:n + 1] for k, s in layer.items()}
                                            for layer in layers]

    for n, length in enumerate(lengths):
        real = slice(0, length)
        y_n, states_n, cache_n = net.forward(x[n:n + 1, real], row(initial, n), train=train,
                                             rng=ReplayedDraws(draws.draws, n, length))
        assert_same_masks(cache_n, sequence_masks(cache, n, length))
        dy_n = dy[n:n + 1, real] if net.return_sequences else dy[n:n + 1]
        dlayers_n = None if dlayers is None else {l: g[n:n + 1, real] for l, g in dlayers.items()}
        dx_n, grads_n, dinit_n = net.backward(dy_n, cache_n, row(dstates, n), dlayers_n,
                                              return_dinitial=True)

        assert_close(y[n, real] if net.return_sequences else y[n], y_n[0], f"y, sequence {n}")
        for l in range(1, net.num_layers + 1):
            assert_close(cache.outputs[l][n, real], cache_n.outputs[l][0], f"outputs[{l}] {n}")
            for k in net.spec.state_names:
                assert_close(states[l - 1][k][:, n], states_n[l - 1][k][:, 0],
                             f"final state {l} {k}, sequence {n}")
                assert_close(dinit[l - 1][k][:, n], dinit_n[l - 1][k][:, 0],
                             f"dinitial {l} {k}, sequence {n}")
        assert_close(dx[n, real], dx_n[0], f"dx, sequence {n}")
        assert np.all(dx[n, length:] == 0), f"padded steps of sequence {n} got gradient"
        for key, g in grads_n.items():
            grads_sum[key] += g
    for key in grads:
        assert_close(grads[key], grads_sum[key], f"{key}: batch against the sum of the sequences")
