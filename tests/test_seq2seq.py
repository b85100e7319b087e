"""Encoder-decoder with attention: the task generators on hand-checked cases, every gradient
against centered differences (float64), the attention layer against PyTorch autograd, decoding
and the transparency tools."""
from functools import partial

import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.data import tasks
from minirnn.gradcheck import check_gradients, numerical_gradient, relative_error
from minirnn.layers import Embedding
from minirnn.optim import Adam
from minirnn.seq2seq import (Attention, EncoderDecoder, attention_weights, beam_search,
                             exact_match, fit, gradient_norms_by_position, greedy_decode,
                             source_gradients, source_jacobian)
from minirnn.seq2seq.train import loss_and_gradients

TOL = 1e-7


# ---- the task generators ------------------------------------------------------------------------
@pytest.mark.parametrize("n, words, digit_words", [
    (0, "zero", ["zero"]),
    (12, "twelve", ["twelve", "twelve"]),
    (20, "twenty", ["twenty", "twenty"]),
    (45, "forty five", ["forty", "five"]),
    (305, "three hundred and five", ["three", "hundred", "five"]),
    (312, "three hundred and twelve", ["three", "twelve", "twelve"]),
    (1000, "one thousand", ["one", "thousand", "thousand", "thousand"]),
    (1020, "one thousand and twenty", ["one", "thousand", "twenty", "twenty"]),
    (2005, "two thousand and five", ["two", "thousand", "thousand", "five"]),
    (3412, "three thousand four hundred and twelve", ["three", "four", "twelve", "twelve"]),
    (9999, "nine thousand nine hundred and ninety nine", ["nine", "nine", "ninety", "nine"]),
])
def test_number_words_and_their_alignment(n, words, digit_words):
    spelled, links = tasks.number_words(n)
    assert " ".join(spelled) == words
    assert [[spelled[k] for k in link] for link in links] == [[w] for w in digit_words]
    if n == 9999:  # the two "nine"s of 9999 are different words: positions 0 and 2
        assert links[:2] == [[0], [2]]


def test_spelled_numbers_arrays():
    task = tasks.spelled_numbers([312, 5, 2005])
    w = tasks.NUMBER_WORDS.index
    assert task["source"].tolist() == [[w("three"), w("hundred"), w("and"), w("twelve")],
                                       [w("five"), 0, 0, 0],
                                       [w("two"), w("thousand"), w("and"), w("five")]]
    digit = {d: tasks.DIGITS.index(d) for d in "0123456789"}
    assert task["target"].tolist() == [[digit["3"], digit["1"], digit["2"], 2, 0],
                                       [digit["5"], 2, 0, 0, 0],
                                       [digit["2"], digit["0"], digit["0"], digit["5"], 2]]
    assert task["decoder_input"].tolist() == [[1, digit["3"], digit["1"], digit["2"], 0],
                                              [1, digit["5"], 0, 0, 0],
                                              [1, digit["2"], digit["0"], digit["0"], digit["5"]]]
    assert task["target_mask"].sum(axis=1).tolist() == [4, 2, 5]
    assert task["source_mask"].sum(axis=1).tolist() == [4, 1, 4]
    assert np.argwhere(task["alignment"][0]).tolist() == [[0, 0], [1, 3], [2, 3]]
    assert np.argwhere(task["alignment"][2]).tolist() == [[0, 0], [1, 1], [2, 1], [3, 3]]
    assert not task["alignment"][:, -1].any()  # the end symbol of the longest target


def test_reversal_arrays_and_antidiagonal_alignment():
    task = tasks.reversal(20, (2, 6), num_symbols=4, seed=3)
    for n in range(20):
        L = task["source_lengths"][n]
        src = task["source"][n, :L]
        assert 2 <= L <= 6 and not task["source"][n, L:].any() and src.min() >= 1
        assert task["target"][n, :L].tolist() == (src[::-1] + 2).tolist()
        assert task["target"][n, L] == 2 and task["target_lengths"][n] == L + 1
        assert np.argwhere(task["alignment"][n]).tolist() == [[t, L - 1 - t] for t in range(L)]
    again = tasks.reversal(20, (2, 6), num_symbols=4, seed=3)
    assert all(np.array_equal(task[k], again[k]) for k in task)


def test_generators_reject_bad_input():
    with pytest.raises(ValueError, match="n must be an int"):
        tasks.number_words(10000)
    with pytest.raises(ValueError, match="at least one"):
        tasks.spelled_numbers([])
    with pytest.raises(ValueError, match="lengths"):
        tasks.reversal(3, (5, 2))


# ---- helpers ------------------------------------------------------------------------------------
def build(score="additive", input_feeding=True, encoder=("gru", [4, 3], True),
          decoder=("lstm", [5]), bridge="auto", embeddings=False, Ds=3, Dt=2, V=5, seed=0):
    """A small float64 model on the NumPy reference, every parameter (biases too) nonzero."""
    cell, sizes, bidirectional = encoder
    enc = StackedRNN(cell, Ds, sizes, bidirectional=bidirectional, backend="numpy", seed=seed)
    K = enc.output_widths()[-1]
    dec = StackedRNN(decoder[0], Dt + (K if input_feeding else 0), decoder[1], backend="numpy",
                     seed=seed + 1)
    model = EncoderDecoder(enc, dec, V, attention=score, attention_size=4,
                           input_feeding=input_feeding, bridge=bridge, seed=seed + 2,
                           source_embedding=Embedding(7, Ds, seed=3) if embeddings else None,
                           target_embedding=Embedding(V, Dt, seed=4) if embeddings else None)
    rng = np.random.default_rng(seed)
    for value in model.params.values():
        value += 0.3 * rng.standard_normal(value.shape)
    return model


def padded_mask(N, S):
    """Row 0 full, row 1 three real steps, row 2 one."""
    return np.arange(S) < np.array([S, 3, 1][:N])[:, None]


def check_model(model, embeddings=False, N=3, S=5, T=4, num_coords=6, seed=0):
    """Max relative error of every gradient (parameters sparse, inputs in full) for the loss
    sum(dlogits * logits) + sum(dweights * weights), on a padded batch."""
    rng = np.random.default_rng(seed)
    if embeddings:
        source, decoder_input = rng.integers(0, 7, (N, S)), rng.integers(0, 5, (N, T))
    else:
        source = rng.standard_normal((N, S, model.encoder.input_size))
        decoder_input = rng.standard_normal((N, T, model.target_size))
    mask = padded_mask(N, S)
    logits, cache = model.forward(source, decoder_input, mask)
    dlogits = rng.standard_normal(logits.shape)
    dweights = None if model.attention is None else rng.standard_normal(cache.weights.shape)
    dsource, ddecoder_input, grads = model.backward(dlogits, cache, dweights)

    def f():
        logits, cache = model.forward(source, decoder_input, mask)
        return [logits] if dweights is None else [logits, cache.weights]

    dout = [dlogits] if dweights is None else [dlogits, dweights]
    errors = check_gradients(f, model.params, grads, dout, num_coords=num_coords, seed=seed)
    if not embeddings:
        errors.update(check_gradients(f, {"source": source, "decoder_input": decoder_input},
                                      {"source": dsource, "decoder_input": ddecoder_input}, dout))
        assert not dsource[~mask].any()  # padded source steps reach nothing
    return errors


CONFIGS = {
    # additive score, input feeding, a 2-layer bidirectional GRU encoder (widths 8, 6) under a
    # 1-layer LSTM decoder of width 5: a learned bridge, and c0 read from the GRU's h
    "additive-bigru-lstm": dict(score="additive", input_feeding=True),
    # general score without input feeding; the decoder's layers 1, 2 start from encoder layers
    # 1, 2: width 5 -> 3 learned, 4 -> 4 copied
    "general-lstm-2layers": dict(score="general", input_feeding=False,
                                 encoder=("lstm", [5, 4], False), decoder=("lstm", [3, 4])),
    "general-feeding-rnn": dict(score="general", encoder=("rnn", [3], True),
                                decoder=("gru", [6])),
    # no attention: only the bridge, a copy (2 x 3 = 6)
    "none-bilstm-rnn": dict(score=None, input_feeding=False, encoder=("lstm", [3], True),
                            decoder=("rnn", [6])),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_every_gradient_matches_centered_differences(name):
    errors = check_model(build(**CONFIGS[name]))
    assert max(errors.values()) < TOL, errors


def test_gradients_with_embeddings_and_linear_bridge():
    model = build(embeddings=True, bridge="linear", encoder=("lstm", [4], True),
                  decoder=("lstm", [8]))
    assert all(route.dense is not None for route in model.bridge.routes)  # 8 = 8, still learned
    errors = check_model(model, embeddings=True)
    assert {"source_embedding.W", "target_embedding.W", "bridge.1.c.W"} <= set(errors)
    assert max(errors.values()) < TOL, errors


@pytest.mark.parametrize("score", ["additive", "general"])
def test_attention_layer_gradients_and_masking(score, rng):
    att = Attention(score, 3, 4, attention_size=5, seed=1)
    for value in att.params.values():
        value += 0.3 * rng.standard_normal(value.shape)
    query, keys = rng.standard_normal((3, 2, 3)), rng.standard_normal((3, 5, 4))
    mask = padded_mask(3, 5)
    context, weights, cache = att.forward(query, keys, mask)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    assert not weights[~np.broadcast_to(mask[:, None], weights.shape)].any()
    np.testing.assert_allclose(context[2], np.repeat(keys[2, :1], 2, axis=0))  # one real step
    dcontext, dweights = rng.standard_normal(context.shape), rng.standard_normal(weights.shape)
    dquery, dkeys, grads = att.backward(dcontext, cache, dweights)
    assert not dkeys[~mask].any()
    errors = check_gradients(lambda: att.forward(query, keys, mask)[:2],
                             dict(att.params, query=query, keys=keys),
                             dict(grads, query=dquery, keys=dkeys), [dcontext, dweights])
    assert max(errors.values()) < TOL, errors


@pytest.mark.torch
@pytest.mark.parametrize("score", ["additive", "general"])
def test_attention_agrees_with_pytorch_autograd(score, rng):
    torch = pytest.importorskip("torch")
    att = Attention(score, 3, 4, attention_size=5, seed=2)
    query, keys = rng.standard_normal((2, 3, 3)), rng.standard_normal((2, 6, 4))
    mask = padded_mask(2, 6)
    context, weights, cache = att.forward(query, keys, mask)
    dcontext, dweights = rng.standard_normal(context.shape), rng.standard_normal(weights.shape)
    dquery, dkeys, grads = att.backward(dcontext, cache, dweights)

    tensors = {k: torch.tensor(v, requires_grad=True)
               for k, v in dict(att.params, query=query, keys=keys).items()}
    q, k = tensors["query"], tensors["keys"]
    if score == "additive":
        u = torch.tanh((q @ tensors["Wq"])[:, :, None] + (k @ tensors["Wk"])[:, None]
                       + tensors["b"])
        e = u @ tensors["v"]
    else:
        e = (q @ tensors["W"]) @ k.transpose(1, 2)
    e = e.masked_fill(~torch.from_numpy(mask)[:, None], float("-inf"))
    a = torch.softmax(e, dim=-1)
    c = a @ k
    ((c * torch.from_numpy(dcontext)).sum() + (a * torch.from_numpy(dweights)).sum()).backward()
    assert relative_error(context, c.detach().numpy()) < 1e-12
    assert relative_error(weights, a.detach().numpy()) < 1e-12
    ours = dict(grads, query=dquery, keys=dkeys)
    for name, tensor in tensors.items():
        assert relative_error(ours[name], tensor.grad.numpy()) < 1e-12, name


# ---- the bridge ---------------------------------------------------------------------------------
def test_bridge_copies_matching_widths_and_concatenates_directions(rng):
    model = build(score=None, input_feeding=False, encoder=("lstm", [3], True),
                  decoder=("lstm", [6]))
    source = rng.standard_normal((2, 4, 3))
    _, final, _ = model.encoder.forward(source)
    encoding = model.encode(source)
    for state in ("h", "c"):
        expected = np.concatenate([final[0][state][0], final[0][state][1]], axis=-1)
        np.testing.assert_array_equal(encoding.initial_states[0][state][0], expected)
    assert model.bridge.params == {}


def test_bridge_feeds_an_lstm_decoder_from_a_gru_encoder(rng):
    model = build(encoder=("gru", [4], False), decoder=("lstm", [4]), bridge="auto")
    source = rng.standard_normal((2, 3, 3))
    encoding = model.encode(source)
    _, final, _ = model.encoder.forward(source)
    for state in ("h", "c"):  # the GRU has only h: both of the LSTM's states are copies of it
        np.testing.assert_array_equal(encoding.initial_states[0][state], final[0]["h"])


# ---- decoding -----------------------------------------------------------------------------------
@pytest.mark.parametrize("score", ["additive", "general", None])
def test_beam_of_width_one_is_greedy_and_padding_changes_nothing(score, rng):
    model = build(score=score, input_feeding=score is not None, embeddings=True, V=6)
    source = rng.integers(1, 7, (3, 5))
    mask = padded_mask(3, 5)
    greedy = greedy_decode(model, source, 8, mask, start_id=1, end_id=2)
    beam = beam_search(model, source, 8, beam_width=1, source_mask=mask, start_id=1, end_id=2)
    np.testing.assert_array_equal(beam["tokens"], greedy["tokens"])
    np.testing.assert_array_equal(beam["lengths"], greedy["lengths"])
    if score is not None:
        np.testing.assert_allclose(beam["weights"], greedy["weights"], atol=1e-15)
        assert not greedy["weights"][~np.broadcast_to(mask[:, None], greedy["weights"].shape)].any()
    wider = beam_search(model, source, 8, beam_width=3, source_mask=mask, start_id=1, end_id=2)
    for n, length in enumerate(mask.sum(axis=1)):  # each source alone, without its padding
        for batch, decode in ((greedy, greedy_decode),
                              (wider, partial(beam_search, beam_width=3))):
            alone = decode(model, source[n:n + 1, :length], 8, start_id=1, end_id=2)
            width = alone["tokens"].shape[1]
            np.testing.assert_array_equal(alone["tokens"][0], batch["tokens"][n, :width])
            assert not batch["tokens"][n, width:].any()


def test_beam_scores_are_the_log_probabilities_of_its_answers(rng):
    source, mask = rng.integers(1, 7, (3, 5)), padded_mask(3, 5)
    ended_early = False
    for end_bias, k in ((0.0, 1), (0.0, 3), (0.5, 3)):  # with the bias, some answers end early
        model = build(embeddings=True, V=6, seed=5)
        model.head.params["b"][2] += end_bias
        beam = beam_search(model, source, 6, beam_width=k, source_mask=mask, start_id=1, end_id=2)
        tokens = beam["tokens"]
        ended_early |= bool(np.any(beam["lengths"] < tokens.shape[1]))
        decoder_input = np.concatenate([np.ones((3, 1), np.int64), tokens[:, :-1]], axis=1)
        logits, _ = model.forward(source, decoder_input, mask)
        logp = logits - np.log(np.exp(logits).sum(axis=-1, keepdims=True))
        picked = np.take_along_axis(logp, tokens[..., None], axis=-1)[..., 0]
        real = np.arange(tokens.shape[1]) < beam["lengths"][:, None]
        np.testing.assert_allclose(beam["scores"], (picked * real).sum(axis=1), rtol=1e-10)
    assert ended_early


def test_exact_match_compares_through_the_end_token():
    target = np.array([[5, 2, 0], [4, 3, 2]])
    assert exact_match(np.array([[5, 2], [4, 3]]), target) == 0.5  # the second never ended
    assert exact_match(np.array([[5, 2, 0, 0], [4, 3, 2, 0]]), target) == 1.0
    assert exact_match(np.array([[5, 5, 2, 0], [4, 3, 2, 0]]), target) == 0.5


# ---- training and transparency ------------------------------------------------------------------
def test_fit_learns_a_tiny_reversal():
    task = tasks.reversal(24, (2, 3), num_symbols=3, seed=0)
    enc = StackedRNN("gru", 4, [6], bidirectional=True, backend="numpy")
    dec = StackedRNN("gru", 4 + 12, [12], backend="numpy", seed=1)
    model = EncoderDecoder(enc, dec, 6, attention="general", source_embedding=Embedding(4, 4),
                           target_embedding=Embedding(6, 4, seed=1))
    history = fit(model, task, val=task, optimizer=Adam(lr=0.03), epochs=12, batch_size=8,
                  clip_norm=5.0)
    assert history["train_loss"][-1] < 0.3 * history["train_loss"][0]
    assert history["val_loss"][-1] < 0.3 * history["val_loss"][0]
    loss, grads = loss_and_gradients(model, task)
    assert set(grads) == set(model.params) and loss == pytest.approx(history["val_loss"][-1])


def test_path_gradients_sum_to_the_backward_and_the_jacobian_to_differences(rng):
    model = build(score="additive", encoder=("lstm", [4], False), decoder=("lstm", [4]))
    source, decoder_input = rng.standard_normal((3, 5, 3)), rng.standard_normal((3, 4, 2))
    mask = padded_mask(3, 5)
    logits, cache = model.forward(source, decoder_input, mask)
    dlogits = rng.standard_normal(logits.shape)
    paths = source_gradients(model, source, decoder_input, dlogits, mask)
    dsource, _, _ = model.backward(dlogits, cache)
    np.testing.assert_allclose(paths["total"], dsource, atol=1e-14)
    assert np.abs(paths["attention"]).max() > 0 and np.abs(paths["bridge"]).max() > 0
    np.testing.assert_array_equal(attention_weights(cache), cache.weights)

    jac = source_jacobian(model, source, decoder_input, step=2, source_mask=mask)
    assert jac["total"].shape == (3, 5, 5, 3)
    one_logit = np.zeros_like(logits)
    one_logit[:, 2, 1] = 1.0
    numeric = numerical_gradient(lambda: model.forward(source, decoder_input, mask)[0], source,
                                 one_logit)
    assert relative_error(jac["total"][:, 1], numeric) < TOL


def test_without_attention_all_gradient_goes_through_the_bridge(rng):
    model = build(score=None, input_feeding=False, encoder=("lstm", [3], False),
                  decoder=("lstm", [3]), embeddings=True, V=7)
    task = tasks.reversal(4, (5, 5), num_symbols=4, seed=1)  # target ids up to 4 + 2
    norms = gradient_norms_by_position(model, task)
    assert not norms["attention"].any() and np.all(norms["bridge"] > 0)
    np.testing.assert_allclose(norms["total"], norms["bridge"])
    with pytest.raises(ValueError, match="no attention"):
        attention_weights(model.forward(task["source"], task["decoder_input"])[1])


# ---- clear errors -------------------------------------------------------------------------------
def test_bad_arguments_raise_clear_errors(rng):
    enc = StackedRNN("lstm", 3, [4], backend="numpy")
    with pytest.raises(ValueError, match="decoder.input_size must be Dt"):
        EncoderDecoder(enc, StackedRNN("lstm", 3, [4]), 5)
    with pytest.raises(ValueError, match="input_feeding needs attention"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4]), 5, attention=None)
    with pytest.raises(ValueError, match="attention must be one of"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4]), 5, attention="dot")
    with pytest.raises(ValueError, match="not bidirectional"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4], bidirectional=True), 5, attention_size=3)
    with pytest.raises(ValueError, match="must not be deeper"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4, 4]), 5, attention_size=3)
    with pytest.raises(TypeError, match="encoder must be a StackedRNN"):
        EncoderDecoder("lstm", StackedRNN("lstm", 6, [4]), 5, attention_size=3)
    with pytest.raises(ValueError, match="attention_size"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4]), 5)
    with pytest.raises(ValueError, match="bridge must be one of"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4]), 5, attention_size=3, bridge="copy")
    with pytest.raises(ValueError, match="target_embedding has width 3"):
        EncoderDecoder(enc, StackedRNN("lstm", 6, [4]), 5, attention_size=3,
                       target_embedding=Embedding(5, 3))
    model = build(score="general")
    source, decoder_input = rng.standard_normal((2, 4, 3)), rng.standard_normal((2, 3, 2))
    with pytest.raises(ValueError, match="at least one True"):
        model.forward(source, decoder_input, np.array([[True] * 4, [False] * 4]))
    with pytest.raises(ValueError, match=r"decoder_input must have shape \(N, T, 2\)"):
        model.forward(source, rng.standard_normal((2, 3, 5)))
    with pytest.raises(ValueError, match="N = 2"):
        model.forward(source, decoder_input[:1])
    logits, cache = model.forward(source, decoder_input)
    with pytest.raises(ValueError, match=r"dlogits must have shape \(2, 3, 5\)"):
        model.backward(logits[:, :2], cache)
    with pytest.raises(ValueError, match="dweights"):
        model.backward(logits, cache, np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="target_embedding"):
        greedy_decode(model, source, 4)
    with pytest.raises(ValueError, match="keys"):
        fit(model, {"source": source})
