"""Data for minirnn: small real data sets shipped in the package, a word vocabulary, and
synthetic tasks with known answers.

    from minirnn import data
    texts, scores = data.load_movie_reviews()
    vocab = data.Vocabulary.fit(texts, max_words=10000)
    ids, lengths = vocab.encode(texts, max_len=40)
    task = data.anbn(range(1, 11))          # x, targets, valid, predictable, allowed, ...
"""
from .datasets import (WEATHER_COLUMNS, load_airline, load_japanese_vowels, load_movie_reviews,
                       load_seattle_weather, sentiment_labels, shuffled_split)
from .tasks import (ANBN_SYMBOLS, DIGITS, NUMBER_WORDS, TARGET_SPECIALS, all_bit_strings,
                    all_brackets, anbn, bit_strings, brackets, majority, number_words, parity,
                    random_brackets, reversal, road_grid_congestion, spelled_numbers,
                    spiral_sequences, spirals, transduction, two_timescale)
from .tasks import ANOMALY_KINDS, multiscale_anomalies
from .anomalies import load_mitbih_ecg, load_ucr_internal_bleeding
from .chorales import load_chorale_windows, load_chorales
from .cycling import load_cycling_workout, load_workout_windows
from .climate import decimal_year, fill_gaps, final_years_split, load_co2, load_elnino
from .light_curves import load_light_curve_windows, load_light_curves
from .splice_sites import load_genomes, load_intron_windows, load_splice_sites
from .us_income import load_us_income
from .vocabulary import OOV_ID, PAD_ID, Vocabulary, tokenize

__all__ = ["load_airline", "load_japanese_vowels", "load_movie_reviews", "load_seattle_weather",
           "WEATHER_COLUMNS", "sentiment_labels", "shuffled_split", "ANBN_SYMBOLS",
           "all_bit_strings", "all_brackets", "anbn", "bit_strings", "brackets", "majority",
           "parity", "random_brackets", "spiral_sequences", "spirals", "two_timescale", "DIGITS",
           "NUMBER_WORDS", "TARGET_SPECIALS", "number_words", "spelled_numbers", "reversal",
           "transduction", "load_us_income", "load_genomes", "load_splice_sites",
           "load_intron_windows", "road_grid_congestion", "OOV_ID", "PAD_ID",
           "Vocabulary", "tokenize", "ANOMALY_KINDS", "multiscale_anomalies",
           "load_mitbih_ecg", "load_ucr_internal_bleeding", "load_light_curves",
           "load_light_curve_windows", "load_elnino", "load_co2", "fill_gaps",
           "decimal_year", "final_years_split", "load_chorales",
           "load_chorale_windows",
           "load_cycling_workout", "load_workout_windows"]
