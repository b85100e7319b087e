"""`python -m minirnn tour`: a guided tour of the library on built-in data.

Each stop is a function that prints what it shows and returns a one-line summary; figures go to
the output folder. The stops run in order under a progress bar.
"""
import pathlib
import time

import numpy as np


def stop_forward_backward(out_dir):
    """Build a 2-layer LSTM with widths [3, 2], run it forward and backward."""
    from .stack import StackedRNN

    net = StackedRNN("lstm", input_size=3, hidden_sizes=[3, 2], seed=0)
    x = np.random.default_rng(0).standard_normal((4, 10, 3))
    y, states, cache = net.forward(x)
    dx, grads = net.backward(np.ones_like(y), cache)
    print(f"  {net}")
    print(f"  x {x.shape} -> y {y.shape}; final states per layer: "
          + ", ".join(f"h{s['h'].shape} c{s['c'].shape}" for s in states))
    print(f"  backward: dx {dx.shape}, {len(grads)} parameter gradients: {', '.join(grads)}")
    return f"forward/backward of {net.cell} {net.hidden_sizes} ran"


def stop_gradient_check(out_dir):
    """Check every gradient of the stack against centered finite differences."""
    from .gradcheck import check_model
    from .stack import StackedRNN

    net = StackedRNN("lstm", input_size=3, hidden_sizes=[3, 2], seed=0)
    report = check_model(net, np.random.default_rng(1).standard_normal((2, 6, 3)))
    print("  " + str(report).replace("\n", "\n  "))
    name, error = report.worst()
    return f"gradient check: worst relative error {error:.1e} ({name})"


STOPS = [stop_forward_backward, stop_gradient_check]


def run_tour(out_dir="minirnn-tour"):
    """Run every stop, writing figures under out_dir. Returns the summaries."""
    from tqdm import tqdm

    out_dir = pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    summaries = []
    bar = tqdm(STOPS, desc="minirnn tour", unit="stop")
    for stop in bar:
        with tqdm.external_write_mode():  # lift the bar while the stop prints
            print(f"\n== {stop.__doc__.splitlines()[0]}")
            start = time.perf_counter()
            summaries.append(stop(out_dir))
            print(f"   ({time.perf_counter() - start:.1f} s)")
    print("\nTour summary:")
    for line in summaries:
        print("  -", line)
    print(f"Figures (if any) are in {out_dir.resolve()}")
    return summaries
