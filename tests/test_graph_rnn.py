"""minirnn.graph: the normalised adjacency, the K-hop graph convolution, the graph GRU and
GraphRNN checked against centered differences (float64, nonzero biases and initial states, a
directed graph so a missing transpose shows); the reach of influence on a path graph; the US
income loader; the road-grid congestion generator on hand-checked cases; demos/graph_rnn.py's
split and its main on a tiny setting."""
import json
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import data
from minirnn.cells.gru import gru_forward
from minirnn.gradcheck import check_gradients, numerical_gradient, relative_error
from minirnn.graph import (GraphRNN, graph_conv_backward, graph_conv_forward, graph_gru_backward,
                           graph_gru_forward, graph_gru_step_backward, graph_gru_step_forward,
                           graph_supports, hop_distances, influence, message_passing_backward,
                           message_passing_forward, normalized_adjacency, prediction_jacobian,
                           series_windows)
from minirnn.optim import Adam
from minirnn.train import fit

DEMO = Path(__file__).resolve().parent.parent / "demos" / "graph_rnn.py"
TOLERANCE = 1e-7


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="graph_rnn_demo")


def directed_graph(N, rng):
    """A random directed graph on N nodes (no self loops), every node with an in-edge."""
    A = (rng.random((N, N)) < 0.35).astype(float)
    A[np.arange(N), (np.arange(N) + 1) % N] = 1.0  # a directed cycle: nobody is isolated
    np.fill_diagonal(A, 0.0)
    return A


def path_graph(N):
    A = np.zeros((N, N))
    A[np.arange(N - 1), np.arange(1, N)] = A[np.arange(1, N), np.arange(N - 1)] = 1.0
    return A


# ---------------------------------------------------------------- adjacency

def test_normalized_adjacency_on_a_path_of_three():
    A = path_graph(3)  # degrees with self loops: 2, 3, 2
    sym = normalized_adjacency(A, "symmetric")
    np.testing.assert_allclose(sym[0], [1 / 2, 1 / np.sqrt(6), 0])
    np.testing.assert_allclose(sym[1], [1 / np.sqrt(6), 1 / 3, 1 / np.sqrt(6)])
    np.testing.assert_allclose(sym, sym.T)
    walk = normalized_adjacency(A, "random_walk")
    np.testing.assert_allclose(walk[1], [1 / 3, 1 / 3, 1 / 3])
    np.testing.assert_allclose(walk.sum(axis=1), 1.0)
    isolated = normalized_adjacency(np.zeros((2, 2)), "random_walk", self_loops=False)
    assert np.array_equal(isolated, np.zeros((2, 2)))


def test_dual_random_walk_walks_along_and_against_the_edges():
    A = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0]], float)  # 0 -> 1, 0 -> 2, 1 -> 2
    supports = graph_supports(A, "dual_random_walk")
    assert supports.shape == (2, 3, 3)
    np.testing.assert_allclose(supports[0], normalized_adjacency(A, "random_walk"))
    np.testing.assert_allclose(supports[1], normalized_adjacency(A.T, "random_walk"))
    np.testing.assert_allclose(supports[0][2], [1 / 3, 1 / 3, 1 / 3])  # 2 hears 0, 1 and itself
    np.testing.assert_allclose(supports[1][2], [0, 0, 1])  # 2 feeds nobody
    assert graph_supports(A, "symmetric").shape == (1, 3, 3)


@pytest.mark.parametrize("bad, message", [(np.ones((2, 3)), r"square \(N, N\)"),
                                          (-np.eye(2), "non-negative"),
                                          (np.array([[0, np.nan], [1, 0]]), "non-finite")])
def test_bad_adjacency_is_refused_by_name(bad, message):
    with pytest.raises(ValueError, match="adjacency.*" + message):
        normalized_adjacency(bad)
    with pytest.raises(ValueError, match="kind"):
        graph_supports(np.eye(2), "laplacian")


def test_hop_distances_follow_the_direction_of_the_edges():
    A = np.zeros((4, 4))
    A[1, 0] = A[2, 1] = A[3, 2] = 1.0  # 0 -> 1 -> 2 -> 3: A[receiver, sender]
    hops = hop_distances(A)
    assert hops[3].tolist() == [3, 2, 1, 0]  # 3 hears 0 after three hops
    assert hops[0].tolist() == [0, -1, -1, -1]  # nobody reaches 0
    assert np.array_equal(hop_distances(path_graph(5)), np.abs(np.subtract.outer(range(5),
                                                                                range(5))))


# ---------------------------------------------------------------- graph convolution

def test_graph_conv_is_the_sum_over_supports_and_hops(rng):
    supports = graph_supports(directed_graph(5, rng), "dual_random_walk")
    x = rng.standard_normal((3, 5, 2))
    W, b = rng.standard_normal((2 * (1 + 2 * 3), 4)), rng.standard_normal(4)  # K = 3
    out, _ = graph_conv_forward(x, supports, W, b)
    blocks = np.split(W, 7)
    expected = x @ blocks[0] + b
    for m, S in enumerate(supports):
        for k in range(1, 4):
            expected += np.linalg.matrix_power(S, k) @ x @ blocks[1 + 3 * m + k - 1]
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"W must have shape \(\(1 \+ 2 K\) \* 2, G\)"):
        graph_conv_forward(x, supports, rng.standard_normal((4, 3)))


@pytest.mark.parametrize("hops, bias", [(2, True), (0, True), (1, False)])
def test_graph_conv_gradients(rng, hops, bias):
    supports = graph_supports(directed_graph(5, rng), "dual_random_walk")
    x = rng.standard_normal((2, 3, 5, 2))  # two leading axes
    W = rng.standard_normal((2 * (1 + 2 * hops), 4))
    b = rng.standard_normal(4) if bias else None
    out, cache = graph_conv_forward(x, supports, W, b)
    dout = rng.standard_normal(out.shape)
    dx, dW, db = graph_conv_backward(dout, cache)
    assert (db is None) == (not bias)
    inputs, analytic = {"x": x, "W": W}, {"x": dx, "W": dW}
    if bias:
        inputs["b"], analytic["b"] = b, db
    errors = check_gradients(lambda: graph_conv_forward(x, supports, W, b)[0], inputs, analytic,
                             dout)
    assert max(errors.values()) < TOLERANCE, errors


def test_message_passing_gradients(rng):
    supports = graph_supports(directed_graph(4, rng), "random_walk")
    h, W, b = rng.standard_normal((2, 3, 4, 3)), rng.standard_normal((6, 3)), rng.standard_normal(3)
    m, cache = message_passing_forward(h, supports, W, b)
    dm = rng.standard_normal(m.shape)
    dh, dW, db = message_passing_backward(dm, cache)
    errors = check_gradients(lambda: message_passing_forward(h, supports, W, b)[0],
                             {"h": h, "W": W, "b": b}, {"h": dh, "W": dW, "b": db}, dm)
    assert max(errors.values()) < TOLERANCE, errors


# ---------------------------------------------------------------- graph GRU

def graph_gru_params(D, H, blocks, rng):
    return {"Wx": 0.5 * rng.standard_normal((blocks * D, 3 * H)),
            "Wh": 0.5 * rng.standard_normal((blocks * H, 3 * H)),
            "b": 0.5 * rng.standard_normal(3 * H), "bhn": 0.5 * rng.standard_normal(H)}


def test_graph_gru_step_gradients(rng):
    supports = graph_supports(directed_graph(5, rng), "dual_random_walk")
    p = graph_gru_params(3, 4, 1 + 2 * 2, rng)
    ax, prev_h = rng.standard_normal((2, 5, 12)), 0.5 * rng.standard_normal((2, 5, 4))
    next_h, cache = graph_gru_step_forward(ax, prev_h, supports, p["Wh"], p["bhn"])
    dnext = rng.standard_normal(next_h.shape)
    dax, dprev_h, dWh, dbhn = graph_gru_step_backward(dnext, cache)
    errors = check_gradients(
        lambda: graph_gru_step_forward(ax, prev_h, supports, p["Wh"], p["bhn"])[0],
        {"ax": ax, "prev_h": prev_h, "Wh": p["Wh"], "bhn": p["bhn"]},
        {"ax": dax, "prev_h": dprev_h, "Wh": dWh, "bhn": dbhn}, dnext)
    assert max(errors.values()) < TOLERANCE, errors


def test_graph_gru_sequence_gradients(rng):
    supports = graph_supports(directed_graph(5, rng), "dual_random_walk")
    p = graph_gru_params(3, 4, 1 + 2 * 2, rng)
    x, h0 = rng.standard_normal((2, 4, 5, 3)), 0.5 * rng.standard_normal((2, 5, 4))
    args = lambda: graph_gru_forward(x, h0, supports, p["Wx"], p["Wh"], p["b"], p["bhn"])[0]
    h = args()
    dh, dhT = rng.standard_normal(h.shape), rng.standard_normal(h0.shape)
    _, cache = graph_gru_forward(x, h0, supports, p["Wx"], p["Wh"], p["b"], p["bhn"])
    dx, dh0, dWx, dWh, db, dbhn = graph_gru_backward(dh, cache, dhT)
    errors = check_gradients(lambda: (args(), args()[:, -1]), dict(p, x=x, h0=h0),
                             {"x": dx, "h0": dh0, "Wx": dWx, "Wh": dWh, "b": db, "bhn": dbhn},
                             (dh, dhT))
    assert max(errors.values()) < TOLERANCE, errors


def test_graph_gru_without_hops_is_the_gru_on_every_node(rng):
    supports = graph_supports(directed_graph(4, rng), "symmetric")
    p = graph_gru_params(3, 5, 1, rng)  # K = 0: the weights have D and H rows
    x, h0 = rng.standard_normal((2, 6, 4, 3)), rng.standard_normal((2, 4, 5))
    h, _ = graph_gru_forward(x, h0, supports, p["Wx"], p["Wh"], p["b"], p["bhn"])
    per_node, _ = gru_forward(x.transpose(0, 2, 1, 3).reshape(8, 6, 3), h0.reshape(8, 5),
                              p["Wx"], p["Wh"], p["b"], p["bhn"])
    np.testing.assert_allclose(h, per_node.reshape(2, 4, 6, 5).transpose(0, 2, 1, 3),
                               rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, 4, D\)"):
        graph_gru_forward(x[:, :, :3], h0, supports, p["Wx"], p["Wh"], p["b"], p["bhn"])


# ---------------------------------------------------------------- GraphRNN

def model_gradient_errors(model, x, rng):
    """Max relative errors of every gradient of a GraphRNN: parameters, x and the nonzero
    initial states of the stack and of the graph GRU."""
    B, _, N, _ = x.shape
    initial = {"rnn": model.rnn.random_states(B * N, rng)}
    if model.top == "gru":
        initial["graph"] = 0.5 * rng.standard_normal((B, N, model.graph_size))
    out, cache = model.forward(x, initial_states=initial)
    dout = rng.standard_normal(out.shape)
    dx, grads, dinitial = model.backward(dout, cache, return_dinitial=True)
    assert list(grads) == list(model.params)
    inputs, analytic = dict(model.params, x=x), dict(grads, x=dx)
    for l, states in enumerate(initial["rnn"], start=1):
        for k, value in states.items():
            inputs[f"initial.rnn.{l}.{k}"], analytic[f"initial.rnn.{l}.{k}"] = \
                value, dinitial["rnn"][l - 1][k]
    if "graph" in initial:
        inputs["initial.graph"], analytic["initial.graph"] = initial["graph"], dinitial["graph"]
    return check_gradients(lambda: model.forward(x, initial_states=initial)[0], inputs,
                           analytic, dout)


@pytest.mark.parametrize("top, return_sequences, normalization", [
    ("gru", False, "dual_random_walk"), ("message", True, "random_walk"), (None, False,
                                                                            "symmetric")])
def test_graph_rnn_gradients(rng, top, return_sequences, normalization):
    A = directed_graph(4, rng) if normalization != "symmetric" else path_graph(4)
    model = GraphRNN(A, 2, [3, 2], top=top, hops=2, cell="lstm", output_size=2,
                     normalization=normalization, return_sequences=return_sequences,
                     graph_size=3 if top == "gru" else None, backend="numpy", seed=3)
    assert all(np.any(model.params[k] != 0) for k in model.params if k.endswith((".b", "bhn")))
    errors = model_gradient_errors(model, rng.standard_normal((2, 3, 4, 2)), rng)
    assert max(errors.values()) < TOLERANCE, max(errors.items(), key=lambda kv: kv[1])


def test_graph_rnn_checks_its_arguments(rng):
    model = GraphRNN(path_graph(5), 1, [3], backend="numpy")
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, 5, 1\)"):
        model.forward(rng.standard_normal((2, 3, 4, 1)))
    with pytest.raises(ValueError, match="mask must be None"):
        model.forward(rng.standard_normal((2, 3, 5, 1)), np.ones((2, 3), bool))
    with pytest.raises(ValueError, match=r"initial_states\['graph'\] must have shape"):
        model.forward(rng.standard_normal((2, 3, 5, 1)),
                      initial_states={"graph": np.zeros((2, 5, 4))})
    with pytest.raises(ValueError, match="graph_size"):
        GraphRNN(path_graph(5), 1, [3], top="message", graph_size=4)
    with pytest.raises(ValueError, match="top must be one of"):
        GraphRNN(path_graph(5), 1, [3], top="attention")


@pytest.mark.parametrize("top", ["gru", "message"])
def test_graph_rnn_in_float32_stays_float32(rng, top):
    model = GraphRNN(path_graph(4), 2, [3], top=top, dtype=np.float32, backend="numpy")
    out, cache = model.forward(rng.standard_normal((2, 3, 4, 2)))
    dx, grads = model.backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32
    assert {g.dtype for g in grads.values()} == {p.dtype for p in model.params.values()} == \
        {np.dtype(np.float32)}


def test_graph_rnn_trains_with_fit(rng):
    """The Sequential protocol: fit trains it. The target, each node's neighbourhood mean of the
    last input, needs the graph: message passing learns it, the per-node stack cannot."""
    A = path_graph(5)
    x = rng.standard_normal((64, 3, 5, 1))
    y = normalized_adjacency(A, "random_walk") @ x[:, -1]
    final_loss = {}
    for top in ("message", None):
        model = GraphRNN(A, 1, [6], top=top, backend="numpy", seed=0)
        history = fit(model, "mse", (x, y), optimizer=Adam(lr=0.02), epochs=40, batch_size=16,
                      progress=False)
        final_loss[top] = history["train_loss"][-1]
    assert final_loss["message"] < 0.2 * final_loss[None]


def test_series_windows_read_the_past_and_target_the_next_step():
    series = np.arange(2.0 * 7 * 3).reshape(7, 3, 2)  # (T, N, F)
    x, y, target_steps = series_windows(series, 4)
    assert x.shape == (3, 4, 3, 2) and y.shape == (3, 3, 2)
    assert target_steps.tolist() == [4, 5, 6]
    np.testing.assert_array_equal(x[1], series[1:5])
    np.testing.assert_array_equal(y[2], series[6])
    with pytest.raises(ValueError, match="T > window = 7"):
        series_windows(series, 7)


# ---------------------------------------------------------------- influence

def test_prediction_jacobian_is_the_derivative_of_the_prediction(rng):
    """Row (i, o) of J against centered differences of out[i, o] (two outputs per node, so a
    mix-up of nodes and outputs in the seeds shows)."""
    model = GraphRNN(directed_graph(4, rng), 2, [3], hops=1, output_size=2,
                     normalization="dual_random_walk", backend="numpy", seed=1)
    x = rng.standard_normal((3, 4, 2))
    J = prediction_jacobian(model, x)
    assert J.shape == (4, 2, 3, 4, 2)
    for i, o in [(0, 1), (3, 0)]:
        seed = np.zeros((1, 4, 2))
        seed[0, i, o] = 1.0
        window = x[None].copy()
        numeric = numerical_gradient(lambda: model.forward(window)[0], window, seed)
        assert relative_error(J[i, o], numeric[0]) < TOLERANCE


@pytest.mark.parametrize("top, hops", [("gru", 1), ("gru", 2), ("message", 2), (None, 1)])
def test_influence_reaches_exactly_k_hops_per_step_on_a_path(rng, top, hops):
    """On a path of 9 nodes: input step t of a T-step window moves the last prediction of nodes
    up to model.reach(T)[t] hops away, and not one hop farther (exact zeros)."""
    A = path_graph(9)
    model = GraphRNN(A, 1, [3], top=top, hops=hops, backend="numpy", seed=2)
    T = 4
    influence_map = influence(model, rng.standard_normal((2, T, 9, 1)))  # (N, T, N)
    reach = model.reach(T)
    expected = {"gru": hops * np.arange(T, 0, -1), "message": np.full(T, hops),
                None: np.zeros(T, int)}[top]
    assert reach.tolist() == expected.tolist()
    within = hop_distances(A)[:, None, :] <= reach[None, :, None]  # (N, T, N)
    assert np.all(influence_map[~within] == 0.0)
    assert np.all(influence_map[within] > 1e-12)


# ---------------------------------------------------------------- the US income data

def test_us_income_loader():
    income = data.load_us_income()
    assert income["income"].shape == (81, 48) and income["income"].dtype == np.float64
    assert income["years"].tolist() == list(range(1929, 2010))
    names = income["names"]
    assert len(names) == len(income["abbreviations"]) == 48 and names == sorted(names)
    # values read off usjoin.csv: Alabama 1929 and California 2009
    assert income["income"][0, names.index("Alabama")] == 323.0
    assert income["income"][-1, names.index("California")] == 40902.0
    A = income["adjacency"]
    assert A.shape == (48, 48) and np.array_equal(A, A.T) and not np.any(np.diag(A))
    assert A.sum() == 214 and set(np.unique(A)) == {0.0, 1.0}
    neighbours = lambda s: sorted(names[j] for j in np.flatnonzero(A[names.index(s)]))
    assert neighbours("Alabama") == ["Florida", "Georgia", "Mississippi", "Tennessee"]
    assert neighbours("Maine") == ["New Hampshire"]
    assert "Colorado" in neighbours("Arizona")  # queen contiguity: the Four Corners
    lon, lat = income["centroids"].T
    assert np.all((-125 < lon) & (lon < -66) & (24 < lat) & (lat < 50))
    assert lon[names.index("California")] < lon[names.index("Nevada")] < lon[names.index("Utah")]
    assert np.all(hop_distances(A) >= 0)  # the 48 states are one connected graph


def test_us_income_folder_records_source_and_licence():
    from importlib import resources
    folder = resources.files("minirnn.data").joinpath("files", "us_income")
    readme = folder.joinpath("README.md").read_text(encoding="utf-8")
    for needed in ("## Source", "## Licence", "## What was changed", "libpysal==4.14.1", "BSD"):
        assert needed in readme
    assert "Redistribution and use in source and binary forms" in \
        folder.joinpath("LICENSE.txt").read_text(encoding="utf-8")


# ---------------------------------------------------------------- the congestion generator

def test_one_jam_travels_east_and_south_with_the_delay():
    jams = np.zeros((7, 4))
    jams[0, 0] = 1.0  # a jam at the north-west corner of a 2 x 2 grid
    task = data.road_grid_congestion(2, 2, T=7, delay=2, gain=0.5, decay=0.0, noise_std=0.0,
                                     jams=jams)
    expected = np.zeros((7, 4))
    expected[0, 0] = 1.0
    expected[2, 1] = expected[2, 2] = 0.5  # east and south, two steps later
    expected[4, 3] = 0.5 * (0.5 + 0.5)  # the south-east corner hears both
    np.testing.assert_allclose(task["congestion"], expected)
    np.testing.assert_allclose(task["series"][:, :, 0], expected)
    assert sorted(map(tuple, task["edges"].tolist())) == [(0, 1), (0, 2), (1, 3), (2, 3)]
    assert task["upstream"][1, 0] and not task["upstream"][0, 1]


def test_congestion_decays_in_place_and_the_grid_is_wired_east_and_south():
    jams = np.zeros((5, 3))
    jams[0, 2] = 1.0  # the east end of a 1 x 3 row: nowhere to go
    task = data.road_grid_congestion(1, 3, T=5, delay=1, gain=0.4, decay=0.5, noise_std=0.0,
                                     jams=jams)
    np.testing.assert_allclose(task["congestion"][:, 2], 0.5 ** np.arange(5))
    np.testing.assert_allclose(task["congestion"][:, :2], 0.0)  # never travels west
    grid = data.road_grid_congestion(3, 4, T=10, seed=1)
    assert len(grid["edges"]) == 3 * 3 + 4 * 2
    steps = grid["positions"][grid["edges"][:, 1]] - grid["positions"][grid["edges"][:, 0]]
    assert {tuple(s) for s in steps.tolist()} == {(0, 1), (1, 0)}  # east or south only
    A = grid["adjacency"]
    assert np.array_equal(A, A.T) and np.array_equal(A > 0, grid["upstream"] | grid["upstream"].T)
    assert grid["series"].shape == (10, 12, 1)
    again = data.road_grid_congestion(3, 4, T=10, seed=1)
    np.testing.assert_array_equal(grid["series"], again["series"])


@pytest.mark.parametrize("kwargs, message", [(dict(decay=1.0), "decay"), (dict(delay=0), "delay"),
                                             (dict(jams=np.zeros((3, 4))), "jams"),
                                             (dict(jam_rate=1.5), "jam_rate")])
def test_congestion_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.road_grid_congestion(2, 2, T=5, **kwargs)


# ---------------------------------------------------------------- the demo

def test_income_split_has_no_leakage(demo):
    task = demo["income_windows"]()
    split, years = task["split"], task["target_years"]
    train, val, test = (years[split[k]] for k in ("train", "val", "test"))
    assert train.max() < val.min() and val.max() < test.min()
    assert test.tolist() == list(range(2000, 2010)) and val.tolist() == list(range(1992, 2000))
    assert len(np.intersect1d(split["train"], split["test"])) == 0
    growth = np.diff(np.log(task["dataset"]["income"]), axis=0)
    assert task["sd"] == pytest.approx(growth[:1992 - 1930].std())  # years 1930..1991 only
    # the windows read only years before their target; the inputs are relative to the last one
    window = demo["WINDOW"]
    s = split["train"][-1]
    first_year = years[s] - window
    raw = growth[first_year - 1930:years[s] - 1930]
    np.testing.assert_allclose(task["x"][s, :, :, 0], (raw - raw[-1]) / task["sd"])
    np.testing.assert_allclose(task["y"][s, :, 0], (growth[years[s] - 1930] - raw[-1]) / task["sd"])


def test_demo_main_on_a_tiny_setting(demo, tmp_path):
    summary = demo["main"]([str(tmp_path), "--seeds", "1", "--epochs", "2",
                            "--congestion-steps", "120"])
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["income"]["mae"] == summary["income"]["mae"]
    # persistence computed here, apart from the demo: mean |g_t - g_{t-1}| over 2000-2009
    growth = np.diff(np.log(data.load_us_income()["income"]), axis=0)
    persistence = np.mean(np.abs(growth[-10:] - growth[-11:-1]))
    assert saved["income"]["mae"]["persistence (g_{t+1} = g_t)"] == [pytest.approx(persistence)]
    assert len(saved["income"]["mae"]) == 4 and len(saved["congestion"]["mae"]) == 4
    assert all(np.isfinite(v).all() and len(v) == 1 for v in saved["income"]["mae"].values())
    shares = sum(saved["income"]["influence_by_hops"].values())
    assert shares == pytest.approx(1.0)
    for runs in saved["congestion"]["direction"].values():
        assert 0.0 <= runs[0]["upstream_share"] <= 1.0 and 1 <= runs[0]["peak_lag"] <= 6
    for name in ("income_influence.png", "congestion_influence.png"):
        assert (tmp_path / name).stat().st_size > 10_000
