"""Data for minirnn: small real data sets shipped in the package, a word vocabulary, and
synthetic tasks with known answers.

    from minirnn import data
    texts, scores = data.load_movie_reviews()
    vocab = data.Vocabulary.fit(texts, max_words=10000)
    ids, lengths = vocab.encode(texts, max_len=40)
    task = data.anbn(range(1, 11))          # x, targets, valid, predictable, allowed, ...
"""
from .datasets import (load_airline, load_japanese_vowels, load_movie_reviews, sentiment_labels,
                       shuffled_split)
from .tasks import (ANBN_SYMBOLS, all_bit_strings, all_brackets, anbn, bit_strings, brackets,
                    majority, parity, random_brackets, two_timescale)
from .vocabulary import OOV_ID, PAD_ID, Vocabulary, tokenize

__all__ = ["load_airline", "load_japanese_vowels", "load_movie_reviews", "sentiment_labels",
           "shuffled_split", "ANBN_SYMBOLS", "all_bit_strings", "all_brackets", "anbn",
           "bit_strings", "brackets", "majority", "parity", "random_brackets", "two_timescale",
           "OOV_ID", "PAD_ID", "Vocabulary", "tokenize"]
