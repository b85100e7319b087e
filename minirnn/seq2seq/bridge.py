"""The bridge: an encoder's final states -> a decoder's initial states.

Shape legend: N batch, L_e and L_d the encoder's and the decoder's layers, dirs the encoder's
directions (1 or 2), H^e_l and H^d_l hidden sizes, F = dirs * H^e the width of a bridged state.

Decoder layer l starts from the final states of encoder layer l + L_e - L_d: the top layers line
up, and the encoder may be deeper than the decoder, never shallower. Each decoder state (h, and
the LSTM's c) is read from the encoder state of the same name, or from the encoder's h when the
encoder's cell has no such state (a GRU encoder under an LSTM decoder). A bidirectional encoder's
two directions are put side by side:

    z  = [s^fwd, s^bwd]                  (N, F)     each s: that direction's final state
    s0 = z                               a copy, when F = H^d_l and kind="auto"
    s0 = tanh(z @ W + b)                 W: (F, H^d_l), b: (H^d_l,): a Dense layer, otherwise

Backward: dz = ds0 (a copy) or Dense's backward, split back into the directions and added (+=)
into the gradient on the encoder state it came from (one h may start both h0 and c0).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..layers import Dense
from ..validation import check_float_array, check_shape

KINDS = ("auto", "linear")


@dataclass
class Route:
    """Decoder layer `layer`'s initial `state` comes from `source_state` of encoder layer
    `source_layer`, through `dense` (None: a copy)."""
    layer: int
    state: str
    source_layer: int
    source_state: str
    dense: Optional[Dense]

    @property
    def name(self):
        return f"{self.layer}.{self.state}"


class Bridge:
    """encoder, decoder: the two StackedRNNs; kind: "auto" (copy where the widths match, a learned
    linear + tanh map where they differ) or "linear" (always learned).

        initial_states, cache = bridge.forward(encoder_final_states)
        dfinal_states, grads = bridge.backward(dinitial_states, cache)

    `routes`: one Route per decoder layer and state. `params` are named "<l>.<state>.W" and
    "<l>.<state>.b" (decoder layer l).
    """

    def __init__(self, encoder, decoder, kind="auto", seed=0, dtype=np.float64):
        if kind not in KINDS:
            raise ValueError(f"bridge must be one of {KINDS}; got {kind!r}")
        offset = encoder.num_layers - decoder.num_layers
        if offset < 0:
            raise ValueError(f"the decoder ({decoder.num_layers} layers) must not be deeper than "
                             f"the encoder ({encoder.num_layers} layers): decoder layer l starts "
                             f"from encoder layer l + L_e - L_d")
        self.encoder_layers = encoder.num_layers
        self.directions = len(encoder.directions)
        self.routes = []
        for l, H in enumerate(decoder.hidden_sizes, start=1):
            width = encoder.output_widths()[l + offset - 1]
            for state in decoder.spec.state_names:
                dense = (None if kind == "auto" and width == H
                         else Dense(width, H, activation="tanh", seed=seed + l, dtype=dtype))
                source = state if state in encoder.spec.state_names else "h"
                self.routes.append(Route(l, state, l + offset, source, dense))

    @property
    def params(self):
        """The Dense maps' own arrays, "<l>.<state>.W" and "<l>.<state>.b"."""
        return {f"{route.name}.{key}": value for route in self.routes if route.dense is not None
                for key, value in route.dense.params.items()}

    def forward(self, final_states):
        """final_states: the encoder's, a list over its layers of {state: (dirs, N, H^e_l)}.
        Returns the decoder's initial states, a list over its layers of {state: (1, N, H^d_l)},
        and the cache {route name: the Dense cache, or None for a copy}."""
        initial, cache = {}, {}
        for route in self.routes:
            s = final_states[route.source_layer - 1][route.source_state]  # (dirs, N, H^e)
            z = np.concatenate(list(s), axis=-1)  # (N, F): the directions side by side
            s0, cache[route.name] = (z, None) if route.dense is None else route.dense.forward(z)
            initial.setdefault(route.layer, {})[route.state] = s0[None]
        return [initial[l] for l in sorted(initial)], cache

    def backward(self, dinitial, cache):
        """dinitial: the layout of the decoder's initial states. Returns the gradients on the
        encoder's final states (a list over its layers of {state: (dirs, N, H^e_l)}, {} for a
        layer the bridge does not read) and grads (the keys of `params`)."""
        dfinal, grads = [{} for _ in range(self.encoder_layers)], {}
        for route in self.routes:
            label = f"dinitial[{route.layer - 1}][{route.state!r}]"
            ds0 = dinitial[route.layer - 1][route.state]
            check_float_array(label, ds0)
            # forward: s0 = z (a copy) or tanh(z @ W + b)
            if route.dense is None:
                dz = ds0[0]
            else:
                check_shape(label, ds0, (1,) + cache[route.name]["out"].shape)
                dz, dense_grads = route.dense.backward(ds0[0], cache[route.name])
                grads.update({f"{route.name}.{key}": g for key, g in dense_grads.items()})
            # forward: z = [s^fwd, s^bwd]
            ds = np.stack(np.split(dz, self.directions, axis=-1))  # (dirs, N, H^e)
            dsource = dfinal[route.source_layer - 1]
            dsource.setdefault(route.source_state, np.zeros_like(ds))
            dsource[route.source_state] += ds
        return dfinal, grads
