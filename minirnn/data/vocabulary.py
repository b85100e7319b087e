"""A small word tokenizer and vocabulary: text -> (N, T) integer ids for an Embedding layer.

Shape legend: N texts, T = max_len token positions.

Tokenisation: lowercase the text, then take the maximal runs of letters and digits (any script),
keeping an apostrophe between two such runs inside the word: "It's a 10/10 film!" ->
["it's", "a", "10", "10", "film"]. Punctuation, underscores and spaces only separate words.

Ids: 0 = padding, 1 = out-of-vocabulary, 2.. = the kept words, most frequent first (ties broken
alphabetically), so an Embedding over this vocabulary has len(vocab) rows and padding index 0.

    vocab = Vocabulary.fit(train_texts, max_words=10000)
    ids, lengths = vocab.encode(texts, max_len=40)     # (N, 40) int64, (N,) int64
    vocab.decode(ids, lengths)                         # back to space-joined tokens
"""
import re
from collections import Counter

import numpy as np

PAD_ID = 0
OOV_ID = 1
PAD_TOKEN = "<pad>"
OOV_TOKEN = "<unk>"
WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")   # letters/digits, apostrophes inside words


def tokenize(text):
    """Lowercase word tokens of one text (see the module docstring for the rule)."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str; got {type(text).__name__}")
    return WORD.findall(text.lower())


def check_texts(texts):
    """texts must be a list/tuple of str (a single str is refused: it would be read as characters)."""
    if isinstance(texts, str) or not isinstance(texts, (list, tuple)):
        raise TypeError(f"texts must be a list of str; got {type(texts).__name__}")
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts[{i}] must be a str; got {type(text).__name__}")


class Vocabulary:
    """Word <-> id mapping with id 0 for padding and 1 for out-of-vocabulary words.

    words: the kept words in id order; words[k] has id k + 2. Build one with `Vocabulary.fit`,
    or rebuild a saved one with `Vocabulary(words)`."""

    def __init__(self, words):
        words = list(words)
        if len(set(words)) != len(words):
            raise ValueError("words must not repeat")
        self.words = words
        self.word_to_id = {word: k + 2 for k, word in enumerate(words)}

    @classmethod
    def fit(cls, texts, max_words=None):
        """Keep the max_words most frequent tokens of texts (all of them if None).

        len(vocab) is then max_words + 2 (at most): the kept words plus padding and OOV."""
        check_texts(texts)
        if max_words is not None and (not isinstance(max_words, int) or max_words < 1):
            raise ValueError(f"max_words must be a positive int or None; got {max_words!r}")
        counts = Counter(token for text in texts for token in tokenize(text))
        ranked = sorted(counts, key=lambda word: (-counts[word], word))
        return cls(ranked[:max_words])

    def __len__(self):
        """Number of ids, padding and OOV included: the Embedding's number of rows."""
        return len(self.words) + 2

    def encode(self, texts, max_len=None):
        """Texts -> ids (N, max_len) int64 and lengths (N,) int64.

        Each row holds the text's token ids from position 0, then padding (0) to the end: right
        padding. A text with more than max_len tokens is truncated to its first max_len tokens,
        and lengths holds min(number of tokens, max_len). A text without any word gets length 0
        and a row of padding. max_len=None uses the longest text's token count (at least 1)."""
        check_texts(texts)
        tokens = [tokenize(text) for text in texts]
        if max_len is None:
            max_len = max([len(t) for t in tokens] + [1])
        if not isinstance(max_len, (int, np.integer)) or max_len < 1:
            raise ValueError(f"max_len must be a positive int or None; got {max_len!r}")
        ids = np.full((len(texts), max_len), PAD_ID, dtype=np.int64)
        lengths = np.zeros(len(texts), dtype=np.int64)
        for n, words in enumerate(tokens):
            kept = words[:max_len]
            ids[n, :len(kept)] = [self.word_to_id.get(word, OOV_ID) for word in kept]
            lengths[n] = len(kept)
        return ids, lengths

    def decode(self, ids, lengths=None):
        """ids (N, T) -> list of N strings: tokens joined by single spaces, OOV as '<unk>'.

        Positions at or after lengths[n] are dropped; without lengths, padding ids (0) are dropped."""
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"ids must be an integer array of shape (N, T); "
                             f"got dtype {ids.dtype} and shape {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must lie in [0, {len(self) - 1}]; "
                             f"got values from {ids.min()} to {ids.max()}")
        if lengths is None:
            rows = [row[row != PAD_ID] for row in ids]
        else:
            rows = [row[:length] for row, length in zip(ids, np.asarray(lengths))]
        return [" ".join(self.token(i) for i in row) for row in rows]

    def token(self, token_id):
        """The word for one id ('<pad>' for 0, '<unk>' for 1)."""
        if token_id == PAD_ID:
            return PAD_TOKEN
        if token_id == OOV_ID:
            return OOV_TOKEN
        return self.words[token_id - 2]
