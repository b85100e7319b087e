"""EncoderDecoder: a StackedRNN encoder, a bridge, a StackedRNN decoder run one step at a time,
attention over the encoder's outputs, and a Dense head on [decoder output, context].

Shape legend: N batch, S source steps, T target steps, Ds and Dt the vectors the encoder and the
decoder read at a step (embedding widths when the inputs are token ids), K the encoder's top-layer
output width, U the decoder's top hidden size, V the output vocabulary.

Forward, with teacher forcing (the decoder reads the reference target shifted right, y_in):

    x = embed(source)                                  (N, S, Ds)
    memory, final = encoder(x, mask)                   (N, S, K) and the encoder's final states
    s_0 = bridge(final)                                the decoder's initial states (bridge.py)
    for t = 0 .. T-1:
        in_t = [embed(y_in)_t, context_{t-1}]          input feeding, context_{-1} = 0  (N, Dt + K)
             = embed(y_in)_t                           without input feeding            (N, Dt)
        h_t, s_{t+1} = decoder(in_t, s_t)              one step of the decoder stack    (N, U)
        context_t, a_t = attention(h_t, memory, mask)  (N, K), (N, S)  (attention.py)
        logits_t = [h_t, context_t] @ W + b            (N, V); h_t @ W + b without attention

Backward is the loop in reverse, t = T-1 .. 0. The gradient on context_t gathers the head's part
and, with input feeding, the part of step t+1's input gradient that belongs to the context; the
gradient on h_t gathers the head's part and the attention query's; the decoder step's backward
returns the gradient on s_t (carried to step t-1) and on in_t. Every step adds (+=) its key
gradient into dmemory and its parameter gradients into zeroed buffers. After the loop the
gradient on s_0 goes back through the bridge to the encoder's final states, and the encoder's
backward takes both: dmemory on its output sequence and the bridge's on its final states. These
are the two paths from a decoder output back to a source step, and `backward_encoder` can run
either alone (transparency.py measures them).
"""
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..cells.masking import check_mask
from ..layers import Dense, Embedding
from ..stack import StackedRNN
from ..validation import check_gradient, check_sequence, shape_str
from .attention import Attention
from .bridge import Bridge

SCORES = (None, "additive", "general")


@dataclass
class Encoding:
    """What `encode` computes once per batch of sources. memory: (N, S, K) the encoder's top-layer
    outputs (attention's keys and values); mask: (N, S) bool or None; initial_states: the
    decoder's (StackedRNN layout); caches: {"source_embedding", "encoder", "bridge"}."""
    memory: np.ndarray
    mask: Optional[np.ndarray]
    initial_states: list
    caches: dict


@dataclass
class Step:
    """One decoder step's caches: the decoder's StackCache, the attention's (None without
    attention) and the head's."""
    decoder: object
    attention: Optional[dict]
    head: dict


@dataclass
class Seq2SeqCache:
    """What `forward` keeps. encoding: the Encoding; target_embedding: the Embedding cache or
    None; steps: a Step per target step; weights: (N, T, S), the attention weights of every
    decoder step (None without attention)."""
    encoding: Encoding
    target_embedding: Optional[dict]
    steps: list
    weights: Optional[np.ndarray]


class EncoderDecoder:
    """encoder: a StackedRNN (any cell, bidirectional allowed, per-layer widths); decoder: a
    one-direction StackedRNN with input size Dt (+ K with input feeding); neither with dropout,
    and the decoder without clocks (it runs one step per call).
    output_size: V.  attention: None, "additive" (attention_size A) or "general".
    input_feeding: the context of step t joins the decoder's input at t + 1 (needs attention).
    source_embedding, target_embedding: None (the inputs are float vectors) or an Embedding
    (token ids; decoding needs the target one).  bridge: "auto" or "linear" (bridge.py).

        logits, cache = model.forward(source, decoder_input, source_mask)
        dsource, ddecoder_input, grads = model.backward(dlogits, cache, dweights=None)

    `params` merges the parts' own arrays under their names: "encoder.layers.1.fwd.Wx",
    "bridge.1.h.W", "decoder...", "attention.Wq", "head.W", "source_embedding.W", ...
    """

    def __init__(self, encoder, decoder, output_size, attention="additive", attention_size=None,
                 input_feeding=True, source_embedding=None, target_embedding=None,
                 bridge="auto", seed=0):
        check_networks(encoder, decoder)
        if attention not in SCORES:
            raise ValueError(f"attention must be one of {SCORES}; got {attention!r}")
        if input_feeding and attention is None:
            raise ValueError("input_feeding needs attention (it feeds the context back); pass "
                             "input_feeding=False for a model without attention")
        self.encoder, self.decoder, self.input_feeding = encoder, decoder, bool(input_feeding)
        self.source_embedding, self.target_embedding = source_embedding, target_embedding
        K, U, dtype = encoder.output_widths()[-1], decoder.hidden_sizes[-1], decoder.dtype
        self.target_size = decoder.input_size - (K if self.input_feeding else 0)
        if self.target_size < 1:
            raise ValueError(f"decoder.input_size must be Dt + {K} (target vectors, then the "
                             f"width-{K} context of input feeding); got {decoder.input_size}")
        check_embedding("source_embedding", source_embedding, encoder.input_size,
                        "encoder.input_size")
        check_embedding("target_embedding", target_embedding, self.target_size,
                        f"decoder.input_size - {K}, the context's width (input feeding)"
                        if self.input_feeding else "decoder.input_size")
        self.bridge = Bridge(encoder, decoder, bridge, seed=seed, dtype=dtype)
        self.attention = (None if attention is None else
                          Attention(attention, U, K, attention_size, seed=seed, dtype=dtype))
        self.head = Dense(U + (0 if attention is None else K), output_size, seed=seed, dtype=dtype)

    @property
    def parts(self):
        """{name: part} for every part with parameters, in forward order."""
        parts = {"source_embedding": self.source_embedding, "encoder": self.encoder,
                 "bridge": self.bridge, "target_embedding": self.target_embedding,
                 "decoder": self.decoder, "attention": self.attention, "head": self.head}
        return {name: part for name, part in parts.items() if part is not None}

    @property
    def params(self):
        """{"<part>.<its parameter>": array}: the parts' own arrays, so updates in place reach
        them."""
        return {f"{name}.{key}": value for name, part in self.parts.items()
                for key, value in part.params.items()}

    def zero_grads(self):
        """{key: zeros shaped like params[key]}: the buffers a backward pass adds into."""
        return {key: np.zeros_like(value) for key, value in self.params.items()}

    # ---- forward --------------------------------------------------------------------------------
    def encode(self, source, source_mask=None, backend=None):
        """source: (N, S) ids or (N, S, Ds) vectors; source_mask: None or (N, S) bool, True on
        real steps (at least one per row). Returns the Encoding."""
        x, embedding_cache = embed(self.source_embedding, source, "source")
        mask = check_mask(source_mask, x, "source_mask")
        if mask is not None and not mask.any(axis=1).all():
            raise ValueError("source_mask must have at least one True (a real step) per row")
        memory, final, encoder_cache = self.encoder.forward(x, mask=mask, backend=backend)
        initial, bridge_cache = self.bridge.forward(final)
        return Encoding(memory, mask, initial, {"source_embedding": embedding_cache,
                                                "encoder": encoder_cache, "bridge": bridge_cache})

    def step(self, inputs, states, context, encoding, backend=None):
        """One decoder step. inputs: (N, 1, Dt) the target vectors read; states: the decoder's
        (StackedRNN layout); context: (N, 1, K) the previous step's (input feeding) or None.

        Returns logits: (N, 1, V), the new states, context: (N, 1, K) and weights: (N, 1, S)
        (both None without attention), and the Step cache."""
        # in_t = [y_t, context_{t-1}]
        x = np.concatenate([inputs, context], axis=-1) if self.input_feeding else inputs
        h, states, decoder_cache = self.decoder.forward(x, states, backend=backend)
        context, weights, attention_cache, out = None, None, None, h
        if self.attention is not None:
            context, weights, attention_cache = self.attention.forward(h, encoding.memory,
                                                                       encoding.mask)
            out = np.concatenate([h, context], axis=-1)  # [h_t, context_t]
        logits, head_cache = self.head.forward(out)
        return logits, states, context, weights, Step(decoder_cache, attention_cache, head_cache)

    def forward(self, source, decoder_input, source_mask=None, backend=None):
        """Teacher forcing. source: (N, S) ids or (N, S, Ds); decoder_input: (N, T) ids or
        (N, T, Dt), what the decoder reads (the target shifted right, after a start token);
        source_mask: None or (N, S) bool. Returns logits: (N, T, V) and a Seq2SeqCache."""
        encoding = self.encode(source, source_mask, backend)
        y_in, embedding_cache = embed(self.target_embedding, decoder_input, "decoder_input",
                                      self.target_size)
        N, S, K = encoding.memory.shape
        if y_in.shape[0] != N:
            raise ValueError(f"decoder_input must hold N = {N} sequences like source; got shape "
                             f"{shape_str(y_in.shape)}")
        T = y_in.shape[1]
        dtype = self.decoder.dtype
        logits = np.empty((N, T, self.head.out_features), dtype)
        weights = None if self.attention is None else np.empty((N, T, S), dtype)
        states, steps = encoding.initial_states, []
        context = np.zeros((N, 1, K), dtype) if self.input_feeding else None
        for t in range(T):
            logits[:, t:t + 1], states, context, a, step = self.step(
                y_in[:, t:t + 1], states, context, encoding, backend)
            if weights is not None:
                weights[:, t] = a[:, 0]
            steps.append(step)
        return logits, Seq2SeqCache(encoding, embedding_cache, steps, weights)

    # ---- backward -------------------------------------------------------------------------------
    def backward(self, dlogits, cache, dweights=None):
        """dlogits: (N, T, V); dweights: None or (N, T, S), a gradient injected on the attention
        weights. Returns dsource: (N, S, Ds) and ddecoder_input: (N, T, Dt), the gradients on the
        vectors the encoder and the decoder read (the embeddings' outputs when the inputs are
        ids), and grads (exactly the keys of `params`)."""
        grads = self.zero_grads()
        ddecoder_input, dmemory, dinitial = self.backward_decoder(dlogits, cache, grads, dweights)
        dsource = self.backward_encoder(dmemory, dinitial, cache.encoding, grads)
        return dsource, ddecoder_input, grads

    def backward_decoder(self, dlogits, cache, grads, dweights=None):
        """The decoder loop in reverse, adding into grads (zeroed buffers, the keys of `params`).
        Returns ddecoder_input: (N, T, Dt), dmemory: (N, S, K) (the attention's path to the
        encoder) and the gradient on the decoder's initial states (the bridge's path)."""
        memory, weights = cache.encoding.memory, cache.weights
        N, T = memory.shape[0], len(cache.steps)
        check_gradient("dlogits", dlogits, (N, T, self.head.out_features))
        if dweights is not None and weights is None:
            raise ValueError("dweights needs a model with attention (it has no weights)")
        if dweights is not None:
            check_gradient("dweights", dweights, weights.shape)
        dmemory = np.zeros_like(memory)
        dinputs = np.zeros((N, T, self.target_size), memory.dtype)
        U = self.decoder.hidden_sizes[-1]
        dstates, dcontext_next = None, None  # from step t+1: on s_{t+1}, and on context_t
        for t in reversed(range(T)):
            step = cache.steps[t]
            # forward: logits_t = head([h_t, context_t])
            dout, head_grads = self.head.backward(dlogits[:, t:t + 1], step.head)
            add_grads(grads, "head", head_grads)
            dh = dout[..., :U]
            if self.attention is not None:
                dcontext = dout[..., U:]
                if dcontext_next is not None:  # input feeding: context_t is also in_{t+1}
                    dcontext = dcontext + dcontext_next
                # forward: context_t, a_t = attention(h_t, memory)
                dquery, dkeys, attention_grads = self.attention.backward(
                    dcontext, step.attention, None if dweights is None else dweights[:, t:t + 1])
                add_grads(grads, "attention", attention_grads)
                dmemory += dkeys
                dh = dh + dquery
            # forward: h_t, s_{t+1} = decoder(in_t, s_t)
            din, decoder_grads, dstates = self.decoder.backward(dh, step.decoder, dstates,
                                                                return_dinitial=True)
            add_grads(grads, "decoder", decoder_grads)
            # forward: in_t = [y_t, context_{t-1}]
            dinputs[:, t:t + 1] = din[..., :self.target_size]
            dcontext_next = din[..., self.target_size:] if self.input_feeding else None
        if self.target_embedding is not None:
            # forward: y_in = embed(decoder_input)
            _, embedding_grads = self.target_embedding.backward(dinputs, cache.target_embedding)
            add_grads(grads, "target_embedding", embedding_grads)
        return dinputs, dmemory, dstates

    def backward_encoder(self, dmemory, dinitial, encoding, grads):
        """The encoder's backward from dmemory: (N, S, K) (the attention's path; None: none) and
        the gradient on the decoder's initial states (the bridge's path; None: none), adding
        into grads. Returns dsource: (N, S, Ds)."""
        dfinal = None
        if dinitial is not None:
            # forward: s_0 = bridge(final)
            dfinal, bridge_grads = self.bridge.backward(dinitial, encoding.caches["bridge"])
            add_grads(grads, "bridge", bridge_grads)
        # forward: memory, final = encoder(x)
        dsource, encoder_grads = self.encoder.backward(dmemory, encoding.caches["encoder"],
                                                       dstates=dfinal)
        add_grads(grads, "encoder", encoder_grads)
        if self.source_embedding is not None:
            # forward: x = embed(source)
            _, embedding_grads = self.source_embedding.backward(
                dsource, encoding.caches["source_embedding"])
            add_grads(grads, "source_embedding", embedding_grads)
        return dsource

    def __repr__(self):
        score = None if self.attention is None else self.attention.score
        return (f"EncoderDecoder(encoder={self.encoder!r}, decoder={self.decoder!r}, "
                f"attention={score!r}, input_feeding={self.input_feeding})")


def add_grads(grads, prefix, part):
    """grads["<prefix>.<key>"] += part[key] for every key of a part's gradients."""
    for key, g in part.items():
        grads[f"{prefix}.{key}"] += g


def embed(embedding, inputs, name, size=None):
    """The vectors a network reads: embedding(ids) -> (out, cache), or the float inputs (N, T, D)
    themselves (checked against `size` when given) and no cache."""
    if embedding is not None:
        return embedding.forward(inputs)
    if size is not None:
        check_sequence(name, inputs, size)
    return inputs, None


def check_embedding(name, embedding, size, where):
    """None, or an Embedding whose width is the `size` the network reads (`where` says why)."""
    if embedding is None:
        return
    if not isinstance(embedding, Embedding):
        raise TypeError(f"{name} must be None or an Embedding; got {type(embedding).__name__}")
    if embedding.dim != size:
        raise ValueError(f"{name} has width {embedding.dim}; the network reads vectors of size "
                         f"{size} ({where})")


def check_networks(encoder, decoder):
    """The encoder and decoder must be StackedRNNs that the model can run."""
    for name, net in (("encoder", encoder), ("decoder", decoder)):
        if not isinstance(net, StackedRNN):
            raise TypeError(f"{name} must be a StackedRNN; got {type(net).__name__}")
        if not net.return_sequences:
            raise ValueError(f"{name} must have return_sequences=True")
        if net.dropout or net.recurrent_dropout:
            raise ValueError(f"{name}: EncoderDecoder does not apply dropout; build it with "
                             f"dropout=0 and recurrent_dropout=0")
    if decoder.bidirectional or decoder.config["clock_periods"] is not None:
        raise ValueError("decoder must run forward in time one step at a time: not "
                         "bidirectional, no clock_periods")
    if encoder.dtype != decoder.dtype:
        raise TypeError(f"encoder and decoder must have one dtype; got {encoder.dtype} and "
                        f"{decoder.dtype}")
