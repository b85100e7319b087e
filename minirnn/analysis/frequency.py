"""Frequency response per layer: which layer listens to which timescale.

Shape legend: N batch, T time steps, D input features, L layers, F frequencies, W_l layer width.

Drive the network with one sinusoid per batch row, x_t = offset + A cos(w t) * direction, and,
after the transient, fit every unit of every layer with least squares to

    s_t ~ a cos(w t) + b sin(w t) + m          (t >= transient)

Its response at w is the phasor a - i b; a layer's amplitude is the norm of its units' phasors,
||P_l(w)||. For a network that is linear at this amplitude (small A) this is exactly the
magnitude of the layer's transfer function: a leaky integrator h_t = a h_{t-1} + u x_t has
|H(w)| = |u / (1 - a e^{-iw})|, largest at w = 0 for a > 0 (a low-pass filter that prefers slow
signals) and flat for a = 0. Two views per layer:

    gain_l(w)     = ||P_l(w)|| / A                    response to the network input
    transfer_l(w) = ||P_l(w)|| / ||P_{in_l}(w)||      response to the layer's own input
                                                      (in_l = out_{l-1} + skip sources)

In a stack the gain of layer l multiplies the transfers below it, so a high layer is "slower" in
gain even when it filters nothing itself; the transfer says what the layer adds.
Frequencies are in radians per step, in (0, pi].
"""
from dataclasses import dataclass

import numpy as np

from .states import check_state_name, layer_states


@dataclass
class FrequencyResponse:
    """frequencies: (F,) radians per step. amplitude: (L, F) ||P_l(w)|| per layer (row l-1 is
    layer l). input_amplitude: (F,) the input's amplitude A * ||direction||. gain, transfer:
    (L, F) as in the module docstring. state: which state was measured ('h' or 'c')."""
    frequencies: np.ndarray
    amplitude: np.ndarray
    input_amplitude: np.ndarray
    gain: np.ndarray
    transfer: np.ndarray
    state: str

    def preferred_frequencies(self, kind="gain"):
        """(L,) each layer's preferred frequency: the w of its largest gain (or transfer)."""
        table = {"gain": self.gain, "transfer": self.transfer}
        if kind not in table:
            raise ValueError(f"kind must be 'gain' or 'transfer'; got {kind!r}")
        return self.frequencies[np.argmax(table[kind], axis=1)]

    def table(self):
        """A printable (layers x frequencies) table of gains."""
        head = "layer  " + " ".join(f"{w:8.3f}" for w in self.frequencies)
        rows = [f"{l:5d}  " + " ".join(f"{g:8.3g}" for g in row)
                for l, row in enumerate(self.gain, start=1)]
        return "\n".join([f"gain of {self.state!r} at w (rad/step)", head] + rows)


def sinusoid_design(frequencies, times):
    """(F, T', 3) least-squares design matrices [cos(w t), sin(w t), 1] for each frequency."""
    wt = frequencies[:, None] * times[None, :]
    return np.stack([np.cos(wt), np.sin(wt), np.ones_like(wt)], axis=-1)


def phasors(design_pinv, seq):
    """Fit seq (F, T', W) at each frequency; returns the complex phasors a - i b, (F, W)."""
    coef = design_pinv @ seq  # (F, 3, W)
    return coef[:, 0] - 1j * coef[:, 1]


def frequency_response(net, frequencies, amplitude=0.1, num_steps=400, transient=200,
                       direction=None, offset=None, state="h", backend=None):
    """Measure every layer's response to A cos(w t) for each w in `frequencies` (F,).

    net: a StackedRNN with D inputs. amplitude: A (small keeps a tanh network near-linear).
    num_steps: T, the length of each run; transient: steps discarded before the fit.
    direction: (D,) the input direction (default all ones / sqrt(D)); offset: (D,) a constant
    input the sinusoid rides on (default zeros), which sets the operating point.
    state: 'h' or, for an LSTM, 'c'. Returns a FrequencyResponse.
    """
    frequencies = np.asarray(frequencies, dtype=np.float64).reshape(-1)
    if frequencies.size == 0 or np.any(frequencies <= 0) or np.any(frequencies > np.pi):
        raise ValueError(f"frequencies must be a non-empty list of values in (0, pi] "
                         f"(radians per step); got {frequencies}")
    if not 0 <= transient < num_steps - 3:
        raise ValueError(f"transient must be in [0, num_steps - 3) so that at least 3 steps are "
                         f"fitted; got transient={transient}, num_steps={num_steps}")
    check_state_name(net, state)
    D = net.input_size
    direction = np.full(D, 1.0 / np.sqrt(D)) if direction is None else np.asarray(direction, float)
    offset = np.zeros(D) if offset is None else np.asarray(offset, float)
    if direction.shape != (D,) or offset.shape != (D,):
        raise ValueError(f"direction and offset must have shape ({D},) (the input size); "
                         f"got {direction.shape} and {offset.shape}")
    times = np.arange(num_steps)
    wave = amplitude * np.cos(frequencies[:, None] * times[None, :])  # (F, T)
    x = (offset + wave[..., None] * direction).astype(net.dtype)  # (F, T, D)
    _, _, cache = net.forward(x, backend=backend)

    # rcond drops the sin column at w = pi, where sin(pi t) is only round-off
    design_pinv = np.linalg.pinv(sinusoid_design(frequencies, times[transient:]), rcond=1e-10)
    outputs = {l: phasors(design_pinv, cache.outputs[l][:, transient:])
               for l in range(net.num_layers + 1)}
    measured = [phasors(design_pinv, layer_states(net, cache, l, state)[:, transient:])
                for l in range(1, net.num_layers + 1)]
    amp = np.array([np.linalg.norm(p, axis=-1) for p in measured])  # (L, F)
    input_amp = np.linalg.norm(outputs[0], axis=-1)  # (F,)
    layer_input_amp = np.array([np.linalg.norm(sum(outputs[s] for s in net.layer_sources(l)),
                                               axis=-1) for l in range(1, net.num_layers + 1)])
    tiny = np.finfo(np.float64).tiny
    return FrequencyResponse(frequencies=frequencies, amplitude=amp, input_amplitude=input_amp,
                             gain=amp / np.maximum(input_amp, tiny),
                             transfer=amp / np.maximum(layer_input_amp, tiny), state=state)
