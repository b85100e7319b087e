"""`python -m minirnn tour`: a guided tour of the library on built-in data.

Each stop is a function that prints what it shows, writes its figure (if any) into the output
folder and returns a one-line summary. The stops run in order under a progress bar; together they
take a minute or two on 2 cores (the first run also compiles the Numba kernels, which are cached).
Each stop says which backend it runs: the tools a learner reads and checks with (gradient checks,
Jacobians) run the NumPy reference; running and training a network use the Numba kernels. How fast
either is belongs to benchmarks/, not here.
"""
import contextlib
import pathlib
import sys
import time

import numpy as np

from .stack import StackedRNN


def stop_forward_backward(out_dir):
    """Build a 2-layer LSTM with widths [3, 2], run it forward and backward (numba backend)."""
    net = StackedRNN("lstm", input_size=3, hidden_sizes=[3, 2], seed=0)
    x = np.random.default_rng(0).standard_normal((4, 10, 3))
    y, states, cache = net.forward(x)
    dx, grads = net.backward(np.ones_like(y), cache)
    print(f"  {net}")
    print(f"  x {x.shape} -> y {y.shape}; final states per layer: "
          + ", ".join(f"h{s['h'].shape} c{s['c'].shape}" for s in states))
    print(f"  backward: dx {dx.shape}, {len(grads)} parameter gradients: {', '.join(grads)}")
    return f"forward/backward of {net.cell} {net.hidden_sizes} ran ({net.backend} backend)"


def stop_gradient_check(out_dir):
    """Check every gradient of the stack against centered finite differences (both backends)."""
    from .gradcheck import check_model

    net = StackedRNN("lstm", input_size=3, hidden_sizes=[3, 2], seed=0)
    x = np.random.default_rng(1).standard_normal((2, 6, 3))
    reports = check_model(net, x, backend=("numpy", "numba"))
    print("  check_model runs the NumPy reference by default (an edit to lstm_step_backward "
          "shows here);\n  backend=('numpy', 'numba') checks the kernels as well:")
    print("  " + str(reports).replace("\n", "\n  "))
    backend, name, error = reports.worst()
    return f"gradient check: worst relative error {error:.1e} ({name}, {backend})"


def training_step(net, x, backend):
    """Forward, a loss sum(y), and backward; returns y, dx and every gradient."""
    y, _, cache = net.forward(x, backend=backend)
    dx, grads = net.backward(np.ones_like(y), cache)
    return [y, dx, *grads.values()]


def stop_backends(out_dir):
    """The Numba kernels compute what the NumPy reference computes (both backends)."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((32, 100, 64))
    worst, lines = 0.0, []
    for cell in ("rnn", "lstm", "gru"):
        net = StackedRNN(cell, 64, [64, 64], seed=0)
        results = [training_step(net, x, backend) for backend in ("numba", "numpy")]
        error = max(np.max(np.abs(a - b)) for a, b in zip(*results))
        worst = max(worst, error)
        lines.append(f"  {cell:4s}: max |numba - numpy| over y, dx and every gradient = {error:.1e}")
    print("  one training step, 2 layers, H = D = 64, batch 32, T = 100, float64 "
          "(timings: benchmarks/bench_cells.py):")
    print("\n".join(lines))
    return f"numba and numpy backends agree to {worst:.0e}"


def stop_gradient_flow(out_dir):
    """Where the gradient goes: the (layer x time) gradient-flow map, with and without skips
    (numpy backend)."""
    from .jacobians import gradient_flow
    from .plot import describe_networks, plot_gradient_flow

    rng = np.random.default_rng(3)
    L, T = 6, 30
    x = rng.standard_normal((8, T, 4))
    maps, nets = {}, []
    for skip in (None, "l-2"):
        net = StackedRNN("rnn", 4, [16] * L, skip=skip, init="orthogonal", seed=0)
        nets.append(net)
        grid = maps[f"tanh RNN, skip={skip or 'none'}"] = gradient_flow(net, x)
        print(f"  skip={skip or 'none':4s}: ||dLoss/dh^l|| at t = T-1 for layers 1..{L}, loss on "
              f"layer {L}: {np.array2string(grid[:, -1], precision=3)}")
    plot_gradient_flow(maps, out_dir / "gradient_flow.png",
                       title=r"$\log_{10}\|\partial\mathcal{L}/\partial h_t^l\|$ for a loss "
                             r"$\mathcal{L} = v \cdot h_{T-1}^{L}$ at the top layer's last step",
                       about=(r"$v$: a random unit vector per sequence.   skip=l-2: skip edges "
                              r"$l-2 \to l$.   " + describe_networks(nets, x.shape)
                              + r", $x \sim \mathcal{N}(0, 1)$"))
    ratio = maps["tanh RNN, skip=l-2"][0, -1] / maps["tanh RNN, skip=none"][0, -1]
    return f"gradient flow: skip edges raise layer 1's gradient x{ratio:.1f} (gradient_flow.png)"


def stop_vanishing_products(out_dir):
    """Vanishing products: how fast d s_T / d s_t shrinks with the span, per cell (numpy
    backend)."""
    from .jacobians import decay_rate, product_norms, singular_values, step_jacobians
    from .plot import describe_networks, plot_vanishing_products

    x = np.random.default_rng(4).standard_normal((8, 60, 4))
    curves, rates, nets = {}, {}, []
    for cell in ("rnn", "lstm", "gru"):
        net = StackedRNN(cell, 4, [32], seed=0, backend="numpy")
        nets.append(net)
        _, _, cache = net.forward(x)
        jacobians = step_jacobians(net, cache)
        norms = curves[cell] = product_norms(jacobians, layer=1)
        norms["singular_values"] = singular_values(jacobians.temporal[1]["fwd"])
        norms["state_names"] = net.spec.state_names
        rates[cell] = decay_rate(norms["span"], norms["spectral"])
        print(f"  {cell:4s}: the spectral norm shrinks by x{rates[cell]:.3f} per step "
              f"(||d s_59 / d s_-1|| ~ {np.exp(np.mean(np.log(norms['spectral'][:, -1]))):.1e}, "
              f"s_-1 the initial state)")
    plot_vanishing_products(curves, out_dir / "vanishing_products.png",
                            about="one network per cell: " + describe_networks(nets, x.shape)
                                  + r", $x \sim \mathcal{N}(0, 1)$")
    return ("vanishing products: per-step factor " +
            ", ".join(f"{c} {r:.2f}" for c, r in rates.items()) + " (vanishing_products.png)")


def stop_fibonacci_paths(out_dir):
    """Skip edges l-2 -> l: the gradient paths from layer L to layer 1 number Fibonacci(L) (numpy
    backend)."""
    from .jacobians import count_gradient_paths, path_decomposition
    from .plot import describe_networks, plot_gradient_paths

    layers = list(range(1, 21))
    counts = [count_gradient_paths(StackedRNN("rnn", 1, [1] * L, skip="l-2"), L, 1)
              for L in layers]
    print(f"  paths from layer L to layer 1, L = 1..20 (counted on real models): {counts}")
    net = StackedRNN("lstm", 4, [4] * 6, skip="l-2", seed=1, backend="numpy")
    x = np.random.default_rng(5).standard_normal((4, 5, 4))
    _, _, cache = net.forward(x)
    decomposition = path_decomposition(net, cache, t=2)
    error = np.max(np.abs(decomposition.total - decomposition.full))
    print(f"  6-layer LSTM: the {len(decomposition.paths)} path products sum to the full Jacobian "
          f"d out^6 / d out^1 within {error:.1e}")
    plot_gradient_paths(layers, counts, decomposition.by_length(), out_dir / "fibonacci_paths.png",
                        full=decomposition.full,
                        about="The decomposed network (right), at step $t = 2$: "
                              + describe_networks([net], x.shape))
    return f"Fibonacci paths: {counts[:10]}...; path sum == Jacobian to {error:.0e}"


def stop_timescales(out_dir):
    """A timescale probe: leaky integrators with known recurrence, probed per layer (numpy
    backend)."""
    from .analysis import frequency_response, impulse_response
    from .constructions import leaky_integrator_stack
    from .plot import plot_frequency_response, plot_impulse_response

    a = [0.3, 0.8, 0.95]
    net = leaky_integrator_stack(a)
    frequencies = np.geomspace(0.01, np.pi, 20)
    response = frequency_response(net, frequencies, amplitude=1e-3)
    impulse = impulse_response(net, magnitude=1e-3, num_steps=200)
    about = (r"Three 1-unit tanh layers $h_t = \tanh(a\, h_{t-1} + in_t)$ with "
             rf"$a$ = {', '.join(map(str, a))} (layers 1, 2, 3), input amplitude $10^{{-3}}$")
    plot_frequency_response(response, out_dir / "frequency_response.png", about=about)
    plot_impulse_response(impulse, out_dir / "impulse_response.png", about=about)
    print(f"  1-unit tanh layers h_t = tanh(a h_(t-1) + in_t) with a = {a}")
    print("  layer  a     transfer at w=pi / w=0.01   impulse tau (a lone layer: -1/ln a)")
    for l, a_l in enumerate(a):
        print(f"  {l + 1:5d}  {a_l:4.2f}  {response.transfer[l, -1] / response.transfer[l, 0]:24.3f}"
              f"   {impulse.time_constant[l]:6.2f} ({-1 / np.log(a_l):.2f})")
    return ("timescales: the more recurrent a layer, the lower the frequencies it passes and the "
            "longer it rings (frequency_response.png, impulse_response.png)")


def stop_constructions(out_dir):
    """Hand-built networks: a clocked parity tree and an LSTM bracket counter, checked exhaustively
    (numpy backend)."""
    from .analysis import probe_layer
    from .constructions import balanced_brackets, parity_tree
    from .data.tasks import all_bit_strings, random_brackets

    summary = []
    for T in (8, 16):
        bits = all_bit_strings(T)
        tree = parity_tree(T)
        correct = np.mean(tree.predict(bits) == bits.sum(axis=1) % 2)
        print(f"  parity tree, T = {T}: {tree.net.num_layers} clocked layers "
              f"(periods {tree.net.clock_periods}), correct on {correct:.0%} of all {len(bits)} inputs")
        summary.append(f"parity T={T} {correct:.0%}")
    brackets = balanced_brackets()
    data = random_brackets(200, 100, seed=0)
    symbols = 1 - 2 * data["symbols"]  # the construction reads '(' as +1, ')' as -1
    correct = np.mean(brackets.predict(symbols) == data["balanced"])
    probe = probe_layer(brackets.net, brackets.encode(symbols), data["depth"], layer=2, state="c")
    print(f"  bracket counter (3-layer LSTM): correct on {correct:.0%} of 200 random strings of "
          f"length 100; a linear probe reads the depth from layer 2's cell state with held-out "
          f"R^2 = {probe.r2_test:.4f}")
    return "constructions: " + ", ".join(summary) + f", brackets {correct:.0%}"


def stop_training(out_dir):
    """A short training run: a 2-layer LSTM separates a slow and a fast signal (numba backend)."""
    from .data.tasks import two_timescale
    from .layers import Dense
    from .model import Recurrent, Sequential
    from .optim import Adam
    from .plot import describe_networks, plot_learning_curves
    from .train import fit

    train, test = two_timescale(128, T=100, seed=0), two_timescale(32, T=100, seed=1)
    net = StackedRNN("lstm", 1, [16, 16], seed=0)
    model = Sequential([("lstm", Recurrent(net)), ("head", Dense(16, 2, seed=0))])
    history = fit(model, "mse", (train["x"], train["y"]), val=(test["x"], test["y"]),
                  optimizer=Adam(lr=1e-2), epochs=15, batch_size=16, clip_norm=1.0,
                  progress=False)
    baseline = float(np.mean((test["y"] - test["y"].mean(axis=(0, 1))) ** 2))
    print(f"  validation mse per epoch: {np.array2string(np.array(history['val_loss']), precision=3)}")
    print(f"  baseline (predict each target's mean): {baseline:.3f}")
    plot_learning_curves({"2-layer LSTM [16, 16]": history}, out_dir / "learning_curves.png",
                         about=f"{describe_networks([net])}, a Dense(16, 2) readout; loss: "
                               f"the mean squared error of the slow and the fast output; "
                               f"{len(train['x'])} training and {len(test['x'])} validation "
                               f"sequences of $T = 100$ steps, batches of 16, Adam lr $10^{{-2}}$")
    return (f"training: validation mse {history['val_loss'][0]:.3f} -> {history['val_loss'][-1]:.3f}"
            f" in 15 epochs (baseline {baseline:.3f}; learning_curves.png)")


STOPS = [stop_forward_backward, stop_gradient_check, stop_backends, stop_gradient_flow,
         stop_vanishing_products, stop_fibonacci_paths, stop_timescales, stop_constructions,
         stop_training]


def run_tour(out_dir="minirnn-tour"):
    """Run every stop, writing figures under out_dir. Returns the summaries.

    The progress bar shares stdout with the stops' printed lines and is drawn only when stdout is
    a terminal (not in a pipe or a log file); while a stop runs, its lines go through tqdm.write,
    which lifts the bar, writes the whole line and redraws the bar under it.
    """
    from tqdm import tqdm
    from tqdm.contrib import DummyTqdmFile

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = []
    with tqdm(STOPS, desc="minirnn tour", unit="stop", file=sys.stdout, disable=None) as bar, \
            contextlib.redirect_stdout(DummyTqdmFile(sys.stdout)):
        for stop in bar:
            print(f"\n== {' '.join(stop.__doc__.split())}")
            start = time.perf_counter()
            summaries.append(stop(out_dir))
            print(f"   ({time.perf_counter() - start:.1f} s)")
    print("\nTour summary:")
    for line in summaries:
        print("  -", line)
    print(f"Figures are in {out_dir.resolve()}")
    return summaries
