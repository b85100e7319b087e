"""Impulse response per layer: how long each layer remembers a kick to the input.

Shape legend: N batch, T time steps, D input features, L layers.

Run the network twice on the same input, once with an impulse added at step t0,

    x'_t = x_t + m * direction * [t == t0],

and follow the distance d_l(t) = ||s_l'(t) - s_l(t)|| of each layer's state from the unperturbed
run (averaged over the batch). Its decay time constant tau_l is the time from the peak of d_l
until its upper envelope max_{s >= t} d_l(s) first falls below peak / e, interpolated in log d;
for a pure exponential d(t) = d_0 a^t that is exactly tau = -1 / ln(a). A layer whose distance
has not fallen to 1/e by the end of the run has tau = inf (it integrates: a perfect counter
never forgets). Layers are classified as

    accumulating   tau >= threshold (long ringing: the layer integrates its input)
    filtering      tau <  threshold (fast decay: the layer responds to recent input only)
"""
from dataclasses import dataclass

import numpy as np

from .states import check_state_name, layer_states


@dataclass
class ImpulseResponse:
    """distance: (L, T) d_l(t) (row l-1 is layer l); t0: the impulse step; peak_time: (L,) the
    step of each layer's largest distance; time_constant: (L,) tau_l in steps (inf: no decay to
    1/e within the run; nan: the layer never moved); persistence: (L,) d_l(T-1) / peak;
    kinds: 'accumulating' / 'filtering' / 'silent' per layer; threshold: the tau that separates
    them; state: 'h' or 'c'."""
    distance: np.ndarray
    t0: int
    peak_time: np.ndarray
    time_constant: np.ndarray
    persistence: np.ndarray
    kinds: list
    threshold: float
    state: str

    def table(self):
        """A printable summary, one row per layer."""
        rows = [f"layer {l}: tau = {tau:8.3g} steps, persistence {p:8.3g}, {kind}"
                for l, (tau, p, kind) in enumerate(
                    zip(self.time_constant, self.persistence, self.kinds), start=1)]
        return "\n".join([f"impulse at t0 = {self.t0} ({self.state!r}); accumulating if "
                          f"tau >= {self.threshold:g}"] + rows)


def decay_time_constant(distance):
    """tau of a distance curve (T,): steps from its peak until its upper envelope falls below
    peak / e (log-interpolated); inf if it never does, nan if the curve is all zero."""
    distance = np.asarray(distance, dtype=np.float64)
    peak_time = int(np.argmax(distance))
    peak = distance[peak_time]
    if not peak > 0:
        return np.nan
    envelope = np.maximum.accumulate(distance[peak_time:][::-1])[::-1]
    below = np.nonzero(envelope < peak / np.e)[0]
    if below.size == 0:
        return np.inf
    k = int(below[0])  # first step after the peak below peak / e; envelope[k-1] >= peak / e
    log_hi = np.log(envelope[k - 1])
    log_lo = np.log(max(envelope[k], np.finfo(np.float64).tiny))
    return (k - 1) + (log_hi - (np.log(peak) - 1.0)) / (log_hi - log_lo)


def impulse_response(net, t0=10, num_steps=100, magnitude=1.0, direction=None, x=None,
                     initial_states=None, state="h", threshold=None, backend=None):
    """Kick the input at step t0 and measure how each layer's state departs and recovers.

    net: a StackedRNN with D inputs. x: (N, T, D) the baseline input (default zeros (1, T, D)
    with T = num_steps). magnitude, direction (D,): the impulse m * direction (direction defaults
    to all ones / sqrt(D)). state: 'h' or, for an LSTM, 'c'. threshold: the tau separating
    accumulating from filtering layers (default a quarter of the steps after t0).
    Returns an ImpulseResponse.
    """
    check_state_name(net, state)
    D = net.input_size
    x = np.zeros((1, num_steps, D), dtype=net.dtype) if x is None else np.asarray(x)
    N, T = x.shape[0], x.shape[1]
    if not 0 <= t0 < T - 1:
        raise ValueError(f"t0 must be in [0, T - 1) = [0, {T - 1}) so that the decay is seen; "
                         f"got {t0}")
    direction = np.full(D, 1.0 / np.sqrt(D)) if direction is None else np.asarray(direction, float)
    if direction.shape != (D,):
        raise ValueError(f"direction must have shape ({D},) (the input size); "
                         f"got {direction.shape}")
    kicked = x.copy()
    kicked[:, t0] += magnitude * direction
    both = np.concatenate([x, kicked]).astype(net.dtype)  # (2N, T, D): one batched run
    if initial_states is not None:
        initial_states = [{k: np.concatenate([v, v], axis=1) for k, v in s.items()}
                          for s in initial_states]
    _, _, cache = net.forward(both, initial_states=initial_states, backend=backend)
    distance = np.array([
        np.linalg.norm(np.diff(layer_states(net, cache, l, state).reshape(2, N, T, -1), axis=0)[0],
                       axis=-1).mean(axis=0)
        for l in range(1, net.num_layers + 1)])  # (L, T)
    threshold = 0.25 * (T - 1 - t0) if threshold is None else float(threshold)
    taus = np.array([decay_time_constant(d) for d in distance])
    peaks = distance.max(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        persistence = np.where(peaks > 0, distance[:, -1] / peaks, np.nan)
    kinds = ["silent" if np.isnan(tau) else "accumulating" if tau >= threshold else "filtering"
             for tau in taus]
    return ImpulseResponse(distance=distance, t0=int(t0), peak_time=np.argmax(distance, axis=1),
                           time_constant=taus, persistence=persistence, kinds=kinds,
                           threshold=threshold, state=state)
