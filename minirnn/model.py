"""Sequential: layers chained in order, with one merged params dict.

Shape legend: N batch, T time steps, D input features, K output features.

    model = Sequential([("embed", Embedding(V, 32, padding_idx=0)),
                        ("rnn", Recurrent(StackedRNN("rnn", 32, [5, 5], return_sequences=False))),
                        ("head", Dense(5, 1))])
    out, cache = model.forward(ids, mask=mask)      # ids: (N, T) -> out: (N, 1) logits
    dx, grads = model.backward(dout, cache)         # grads has exactly the keys of model.params

Forward runs the layers in order; backward runs them in reverse, each layer's input gradient
becoming the previous layer's output gradient:

    out_0 = x;   out_k, cache_k = layer_k.forward(out_{k-1})
    dout_K = dout;   dout_{k-1}, grads_k = layer_k.backward(dout_k, cache_k)

Parameter names are "<layer name>.<the layer's own name>", e.g. "head.W" or
"rnn.layers.2.fwd.Wh". Layer names default to the layer kind ("embedding", "dense", or the cell
of a recurrent layer: "rnn", "lstm", "gru"), with "_2", "_3", ... for repeats.

A (N, T) mask (True = real step, False = padding) goes to every recurrent layer. It stays
attached to the output while the output is still a sequence; a recurrent layer with
return_sequences=False consumes it. `cache.output_mask` is what is left, which the training
loop passes to the loss (a masked sequence loss when the model outputs sequences).

The cache is one level deep per layer: `cache.layers["lstm"]` is that recurrent layer's
StackCache, so `cache.layers["lstm"].outputs[2]` is its second layer's output sequence.
Gradients from other losses on a recurrent layer's insides (regularisers.py) go to
`backward(dout, cache, dlayers={"lstm": {l: ...}}, dgates={"lstm": {l: {direction: ...}}})`,
which hands them to that layer's `StackedRNN.backward`.
"""
from dataclasses import dataclass

from .layers import Dense, Embedding


@dataclass
class ModelCache:
    """What `Sequential.forward` keeps. layers: {layer name: that layer's cache (a StackCache for
    a Recurrent layer, a dict for Embedding and Dense)}; final_states: {recurrent layer name: its
    final states (the layout of StackedRNN.zero_states)}; output_mask: the (N, T) mask if the
    output is still a sequence, else None."""
    layers: dict
    final_states: dict
    output_mask: object


class Recurrent:
    """Adapter that makes a `StackedRNN` a layer of `Sequential`.

    forward(x, mask=None, initial_states=None, train=False, rng=None) calls
    net.forward(x, initial_states, ...) and returns its output and its StackCache (whose
    final_states serve stateful, truncated BPTT); backward(dout, cache, dlayers=None, dgates=None)
    calls net.backward and returns (dx, grads).
    `params` is the net's own dict, so optimizer updates reach the net.
    """

    def __init__(self, net):
        self.net = net
        self.kind = net.cell

    @property
    def params(self):
        return self.net.params

    @property
    def config(self):
        return self.net.config

    def forward(self, x, mask=None, initial_states=None, train=False, rng=None):
        """x: (N, T, D); mask: None or (N, T) bool (False = padded step); train: dropout on,
        drawn from rng. Returns y ((N, T, W_L) or (N, W_L)) and the net's StackCache."""
        y, _, cache = self.net.forward(x, initial_states, mask=mask, train=train, rng=rng)
        return y, cache

    def backward(self, dout, cache, dlayers=None, dgates=None):
        """dout: the gradient on y; dlayers, dgates: gradients injected inside the stack (see
        StackedRNN.backward). Returns dx: (N, T, D) and grads (keys of net.params)."""
        return self.net.backward(dout, cache, dlayers=dlayers, dgates=dgates)

    def __repr__(self):
        return f"Recurrent({self.net!r})"


LAYER_TYPES = {"Embedding": Embedding, "Dense": Dense, "Recurrent": Recurrent}


class Sequential:
    """Layers chained in order. layers: a list of layers or of (name, layer) pairs."""

    def __init__(self, layers):
        self.layers = {}
        for item in layers:
            name, layer = item if isinstance(item, tuple) else (None, item)
            if not isinstance(layer, tuple(LAYER_TYPES.values())):
                raise TypeError(f"layers must be Embedding, Dense or Recurrent (wrap a StackedRNN "
                                f"in Recurrent); got {type(layer).__name__}")
            name = name or self.default_name(layer)
            if not isinstance(name, str) or "." in name or not name or name in self.layers:
                raise ValueError(f"layer names must be unique non-empty strings without '.'; "
                                 f"got {name!r}")
            self.layers[name] = layer
        if not self.layers:
            raise ValueError("Sequential needs at least one layer")

    def default_name(self, layer):
        kind = getattr(layer, "kind", type(layer).__name__.lower())
        name, k = kind, 1
        while name in self.layers:
            k += 1
            name = f"{kind}_{k}"
        return name

    def recurrent_names(self):
        """The names of the Recurrent layers, as a set."""
        return {name for name, layer in self.layers.items() if isinstance(layer, Recurrent)}

    @property
    def params(self):
        """{"<layer>.<param>": array}: the layers' own arrays (not copies), so in-place updates
        of these arrays change the layers."""
        return {f"{name}.{key}": value for name, layer in self.layers.items()
                for key, value in layer.params.items()}

    @property
    def config(self):
        """JSON-able description: [{"name", "type", "config"}] in layer order."""
        return {"layers": [{"name": name, "type": type(layer).__name__, "config": layer.config}
                           for name, layer in self.layers.items()]}

    def forward(self, x, mask=None, initial_states=None, train=False, rng=None):
        """x: the first layer's input ((N, T) token ids or (N, T, D)); mask: None or (N, T) bool;
        initial_states: None or {recurrent layer name: its initial states}.

        Returns out and a ModelCache: final_states = {recurrent layer name: final states},
        output_mask = the mask if the output is still a sequence, else None.
        """
        initial_states = initial_states or {}
        unknown = set(initial_states) - self.recurrent_names()
        if unknown:
            raise ValueError(f"initial_states keys must be names of recurrent layers; "
                             f"got {sorted(unknown)}")
        caches, final_states, out = {}, {}, x
        for name, layer in self.layers.items():
            if isinstance(layer, Recurrent):
                out, caches[name] = layer.forward(out, mask, initial_states.get(name), train, rng)
                final_states[name] = caches[name].final_states
                mask = mask if layer.net.return_sequences else None
            else:
                out, caches[name] = layer.forward(out)
        return out, ModelCache(caches, final_states, mask)

    def backward(self, dout, cache, dlayers=None, dgates=None):
        """dout: gradient on the output. dlayers, dgates: None or {recurrent layer name: that
        layer's `StackedRNN.backward` dlayers / dgates}, gradients injected inside it. Returns dx
        (None when the first layer is an Embedding) and grads with exactly the keys of `params`."""
        dlayers, dgates = dlayers or {}, dgates or {}
        recurrent = self.recurrent_names()
        for argument, value in (("dlayers", dlayers), ("dgates", dgates)):
            if set(value) - recurrent:
                raise ValueError(f"{argument} keys must be names of recurrent layers "
                                 f"{sorted(recurrent)}; got {sorted(value)}")
        grads = {}
        for name in reversed(list(self.layers)):
            injected = ({"dlayers": dlayers.get(name), "dgates": dgates.get(name)}
                        if name in recurrent else {})
            dout, layer_grads = self.layers[name].backward(dout, cache.layers[name], **injected)
            grads.update({f"{name}.{key}": g for key, g in layer_grads.items()})
        return dout, {key: grads[key] for key in self.params}

    def __repr__(self):
        inner = ",\n  ".join(f"({name!r}, {layer!r})" for name, layer in self.layers.items())
        return f"Sequential([\n  {inner}])"
