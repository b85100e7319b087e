"""Do higher layers of a trained stack listen to slower signals?

    python demos/timescales.py [output folder]        (default ./timescales-out)

Trains a 3-layer tanh RNN (a Dense readout on the top layer) on minirnn.data.tasks.two_timescale:
the input is a fast (period 8) plus a slow (period 64) sinusoid, and the net must output both
parts separately at every step. Then it probes the trained stack:

  frequency_response.png  each layer's gain (response / network input) and transfer
                          (response / its own input) over a sweep of frequencies
  impulse_response.png    each layer's distance from the unperturbed run after a kick at t0
  lesions.png             the loss after removing each layer's recurrence (Wh = 0)

and prints, per layer, the preferred frequency, the gain at the slow versus the fast frequency,
the impulse time constant, and for each lesion the loss on the slow and on the fast output.
The textbook claim is that higher layers prefer slower signals; the printout says whether this
network bears it out.
"""
import argparse
import os

import numpy as np

from minirnn import StackedRNN
from minirnn.analysis import (frequency_response, impulse_response, lesion_recurrence,
                              lesion_study)
from minirnn.plot import (describe_networks, plot_frequency_response, plot_impulse_response,
                          plot_lesions)
from minirnn.data.tasks import two_timescale
from minirnn.layers import Dense
from minirnn.model import Recurrent, Sequential
from minirnn.optim import Adam
from minirnn.train import fit

FAST, SLOW = 8.0, 64.0


def channel_losses(net, head, data):
    """Mean squared error of the slow and of the fast output channel."""
    y, _, _ = net.forward(data["x"])
    pred, _ = head.forward(y)
    return np.mean((pred - data["y"]) ** 2, axis=(0, 1))  # (2,): slow, fast


def main(out, epochs=30, hidden=12, seed=0, backend=None):
    os.makedirs(out, exist_ok=True)
    train = two_timescale(256, T=200, fast=FAST, slow=SLOW, seed=seed)
    test = two_timescale(64, T=200, fast=FAST, slow=SLOW, seed=seed + 1)
    net = StackedRNN("rnn", 1, [hidden] * 3, seed=seed, backend=backend)
    head = Dense(hidden, 2, seed=seed)
    model = Sequential([("rnn", Recurrent(net)), ("head", head)])
    history = fit(model, "mse", (train["x"], train["y"]), val=(test["x"], test["y"]),
                  optimizer=Adam(lr=3e-3), epochs=epochs, batch_size=32, clip_norm=1.0,
                  seed=seed, progress=False)
    print(f"trained {epochs} epochs: train mse {history['train_loss'][-1]:.4f}, "
          f"test mse {history['val_loss'][-1]:.4f}")
    slow_mse, fast_mse = channel_losses(net, head, test)
    print(f"test mse: slow output {slow_mse:.4f}, fast output {fast_mse:.4f} "
          f"(variance of each target ~{np.var(test['y'][..., 0]):.2f})")

    trained = (f"{describe_networks([net])}, a Dense({hidden}, 2) readout; trained {epochs} "
               f"epochs to split a slow (period {SLOW:g}) plus a fast (period {FAST:g}) sinusoid "
               f"into its two parts")
    w_slow, w_fast = 2 * np.pi / SLOW, 2 * np.pi / FAST
    freqs = np.unique(np.concatenate([np.geomspace(2 * np.pi / 400, np.pi, 24), [w_slow, w_fast]]))
    response = frequency_response(net, freqs, amplitude=0.1, num_steps=800, transient=400)
    plot_frequency_response(response, os.path.join(out, "frequency_response.png"),
                            about=f"{trained}; probe amplitude $A = 0.1$")
    i_slow, i_fast = np.searchsorted(freqs, w_slow), np.searchsorted(freqs, w_fast)
    print("\nfrequency response (input amplitude 0.1 around zero input):")
    print("layer  preferred period (gain)  preferred period (transfer)  gain slow/fast  "
          "transfer slow/fast")
    for l in range(net.num_layers):
        print(f"{l + 1:5d}  {2 * np.pi / response.preferred_frequencies('gain')[l]:23.1f}  "
              f"{2 * np.pi / response.preferred_frequencies('transfer')[l]:27.1f}  "
              f"{response.gain[l, i_slow] / response.gain[l, i_fast]:14.2f}  "
              f"{response.transfer[l, i_slow] / response.transfer[l, i_fast]:18.2f}")
    ratios = response.transfer[:, i_slow] / response.transfer[:, i_fast]
    verdict = "yes" if np.all(np.diff(ratios) > 0) else "no"
    print(f"does each layer favour the slow signal more than the layer below it (transfer)? "
          f"{verdict}")

    impulse = impulse_response(net, t0=20, num_steps=200, magnitude=0.1)
    plot_impulse_response(impulse, os.path.join(out, "impulse_response.png"),
                          about=f"{trained}; kick size 0.1")
    print("\n" + impulse.table())

    lesions = {f"layer {l} recurrence": lesion_recurrence(net, l)
               for l in range(1, net.num_layers + 1)}
    study = lesion_study(net, lambda n: float(np.mean(channel_losses(n, head, test))), lesions,
                         impulse={"t0": 20, "num_steps": 200, "magnitude": 0.1})
    plot_lesions(study, os.path.join(out, "lesions.png"),
                 about=r"Lesion 'layer $l$ recurrence': $W_h = 0$ in layer $l$.   Task loss: the "
                       f"test mean squared error of both outputs.   {trained}")
    print("\nlesions (loss = test mse of both outputs; tau = impulse time constant per layer):")
    print(study.table())
    print("\nper output channel after each lesion (slow mse, fast mse):")
    for name, lesioned in {"intact": net, **lesions}.items():
        slow_mse, fast_mse = channel_losses(lesioned, head, test)
        print(f"  {name:<20} slow {slow_mse:8.4f}   fast {fast_mse:8.4f}")
    print(f"\nfigures written to {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", default="timescales-out")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    main(args.out, epochs=args.epochs, seed=args.seed)
