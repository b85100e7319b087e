"""Lesions: switch off one part of a network, rerun, and see what changes.

Shape legend: L layers, H hidden units of the lesioned layer, G gates per cell.

Every lesion returns a modified *copy*; the original network is never touched.

    lesion_recurrence(net, l)        Wh of layer l set to 0: h_{t-1} no longer enters the gates.
                                     The LSTM cell path c_t = f c_{t-1} + ... and the GRU
                                     interpolation z h_{t-1} remain unless memoryless=True, which
                                     also clamps the LSTM forget gate (GRU update gate) closed,
                                     leaving a feedforward layer.
    clamp_gate(net, l, gate, value)  a sigmoid gate held at `value` for every input: its columns
                                     of Wx and Wh set to 0 and its bias to logit(value)
                                     ('open' = 1, 'closed' = 0, saturated at +-50).
    remove_skip_edge(net, (s, d))    the skip edge s -> d deleted.

`lesion_study` runs a task loss and the impulse-response time constants on the intact network
and on each lesioned copy, and reports the changes layer by layer.
"""
import copy
from dataclasses import dataclass

import numpy as np

from .impulse import impulse_response
from .states import check_layer

SATURATE = 50.0  # sigmoid(+-50) is exactly 1.0 / 2e-22 in float64


def copy_network(net):
    """An independent copy of a StackedRNN (parameters and skip edges copied)."""
    return copy.deepcopy(net)


def check_directions(net, direction):
    if direction is None:
        return list(net.directions)
    if direction not in net.directions:
        raise ValueError(f"direction must be None (all) or one of {net.directions}; "
                         f"got {direction!r}")
    return [direction]


def lesion_recurrence(net, layer, direction=None, memoryless=False):
    """A copy of net with layer `layer`'s recurrent matrix Wh set to zero (in one direction, or
    all with direction=None). memoryless=True also clamps the LSTM forget gate / GRU update gate
    closed, so the layer keeps nothing from step to step."""
    layer = check_layer(net, layer)
    lesioned = copy_network(net)
    for d in check_directions(net, direction):
        lesioned.params[f"layers.{layer}.{d}.Wh"][...] = 0.0
    if memoryless and net.spec.memory_gate is not None:  # the gate that keeps the old state
        lesioned = clamp_gate(lesioned, layer, net.spec.memory_gate, "closed", direction)
    return lesioned


def gate_bias(value):
    """The bias that holds a sigmoid gate at `value`: logit(value), saturated at +-50."""
    value = {"open": 1.0, "closed": 0.0}.get(value, value)
    if isinstance(value, str) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"value must be 'open', 'closed' or a number in [0, 1]; got {value!r}")
    with np.errstate(divide="ignore"):
        return float(np.clip(np.log(value) - np.log1p(-value), -SATURATE, SATURATE))


def clamp_gate(net, layer, gate, value, direction=None):
    """A copy of net with one sigmoid gate of layer `layer` held at `value` ('open', 'closed' or
    a number in [0, 1]) for every unit. gate: 'i', 'f' or 'o' (LSTM), 'r' or 'z' (GRU)."""
    layer = check_layer(net, layer)
    gates = net.spec.sigmoid_gates
    if gate not in gates:
        raise ValueError(f"gate must be one of {sorted(gates)} for a {net.cell} network; "
                         f"got {gate!r}")
    bias = gate_bias(value)
    H = net.hidden_sizes[layer - 1]
    cols = slice(gates[gate] * H, (gates[gate] + 1) * H)
    lesioned = copy_network(net)
    for d in check_directions(net, direction):
        for name in ("Wx", "Wh"):
            lesioned.params[f"layers.{layer}.{d}.{name}"][:, cols] = 0.0
        lesioned.params[f"layers.{layer}.{d}.b"][cols] = bias
    return lesioned


def remove_skip_edge(net, edge):
    """A copy of net without the skip edge (src, dst)."""
    edge = tuple(int(v) for v in edge)
    if edge not in net.skip_edges:
        raise ValueError(f"edge must be one of the network's skip edges {net.skip_edges}; "
                         f"got {edge}")
    lesioned = copy_network(net)
    lesioned.skip_edges = [e for e in net.skip_edges if e != edge]
    lesioned.config["skip"] = [list(e) for e in lesioned.skip_edges] or None
    return lesioned


def standard_lesions(net):
    """{name: lesioned copy}: every layer's recurrence (Wh = 0) and every skip edge."""
    lesions = {f"layer {l} recurrence": lesion_recurrence(net, l)
               for l in range(1, net.num_layers + 1)}
    lesions.update({f"skip {s}->{d}": remove_skip_edge(net, (s, d)) for s, d in net.skip_edges})
    return lesions


@dataclass
class LesionStudy:
    """names: ['intact', lesion names...]; loss: (R,) the task loss of each; time_constant:
    (R, L) impulse-response tau per layer (inf: no decay within the run). delta_loss,
    delta_time_constant: each row minus the intact row."""
    names: list
    loss: np.ndarray
    time_constant: np.ndarray

    @property
    def delta_loss(self):
        return self.loss - self.loss[0]

    @property
    def delta_time_constant(self):
        with np.errstate(invalid="ignore"):
            return self.time_constant - self.time_constant[0]

    def table(self):
        """A printable table: loss, its change, and tau per layer for each lesion."""
        width = max(len(n) for n in self.names)
        L = self.time_constant.shape[1]
        head = f"{'lesion':<{width}}  {'loss':>9}  {'d loss':>9}  " + "  ".join(
            f"{'tau ' + str(l):>8}" for l in range(1, L + 1))
        rows = [f"{n:<{width}}  {loss:9.4g}  {dl:+9.3g}  " + "  ".join(f"{t:8.3g}" for t in taus)
                for n, loss, dl, taus in zip(self.names, self.loss, self.delta_loss,
                                             self.time_constant)]
        return "\n".join([head] + rows)


def lesion_study(net, loss, lesions=None, impulse=None):
    """Compare the intact network with each lesion.

    loss: a function net -> float, the task loss (e.g. the mean loss on a fixed test batch).
    lesions: {name: lesioned copy of net}; default `standard_lesions(net)`.
    impulse: keyword arguments for `impulse_response` (t0, num_steps, magnitude, state, ...).
    Returns a LesionStudy.
    """
    lesions = standard_lesions(net) if lesions is None else lesions
    nets = {"intact": net, **lesions}
    impulse = impulse or {}
    return LesionStudy(
        names=list(nets),
        loss=np.array([float(loss(n)) for n in nets.values()]),
        time_constant=np.array([impulse_response(n, **impulse).time_constant
                                for n in nets.values()]))
