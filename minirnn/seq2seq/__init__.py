"""Encoder-decoder models with attention, forward and backward written by hand.

    attention.py     additive (Bahdanau) and general (Luong) scores, the masked softmax, the context
    bridge.py        the encoder's final states -> the decoder's initial states
    model.py         EncoderDecoder: encoder, bridge, the decoder loop (input feeding), the head
    train.py         teacher-forced training with minirnn's loss, clipping and optimizers
    decode.py        greedy decoding, beam search, exact match
    transparency.py  attention weights, and the gradient reaching each source step per path

    from minirnn import StackedRNN, data
    from minirnn.layers import Embedding
    from minirnn.seq2seq import EncoderDecoder, fit, greedy_decode

    task = data.spelled_numbers(range(1000))        # "three hundred and twelve" -> "312"
    encoder = StackedRNN("lstm", 16, [32], bidirectional=True)
    decoder = StackedRNN("lstm", 16 + 64, [64])       # target vectors, then the context
    model = EncoderDecoder(encoder, decoder, len(data.DIGITS), "additive", attention_size=32,
                           source_embedding=Embedding(len(data.NUMBER_WORDS), 16, padding_idx=0),
                           target_embedding=Embedding(len(data.DIGITS), 16, padding_idx=0))
    fit(model, task, epochs=20, clip_norm=5.0)
    greedy_decode(model, task["source"], max_length=6, source_mask=task["source_mask"])
"""
from .attention import (Attention, additive_scores, additive_scores_backward, attention_backward,
                        attention_forward, general_scores, general_scores_backward,
                        masked_softmax, masked_softmax_backward)
from .bridge import Bridge
from .decode import beam_search, exact_match, greedy_decode
from .model import EncoderDecoder
from .train import evaluate_loss, fit
from .transparency import (attention_weights, gradient_norms_by_position, source_gradients,
                           source_jacobian)

__all__ = ["Attention", "additive_scores", "additive_scores_backward", "general_scores",
           "general_scores_backward", "masked_softmax", "masked_softmax_backward",
           "attention_forward", "attention_backward", "Bridge", "EncoderDecoder", "fit",
           "evaluate_loss", "greedy_decode", "beam_search", "exact_match", "attention_weights",
           "source_gradients", "source_jacobian", "gradient_norms_by_position"]
