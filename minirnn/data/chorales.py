"""Bach's four-part chorales on an eighth-note grid (music21's corpus, shipped in the package),
cut into windows and split by chorale.

Shape legend: C chorales, N windows, T steps per window (eighth notes), V = 4 voices
(soprano, alto, tenor, bass).

    chorales = load_chorales()            # [{"name", "pitches": (S, 4), "fermatas": (S,), ...}]
    windows = load_chorale_windows()      # dict: pitches_train (N, T, 4), bar_position_train, ...

minirnn/data/files/bach_chorales/README.md has the source, the licence and the parsing rules.
"""
import numpy as np

from ..validation import check_int
from .datasets import data_file, shuffled_split

NO_FERMATA = -1   # steps_to_fermata where no fermata follows in the chorale


def transposition(fifths):
    """Semitones that move a key signature of `fifths` sharps (flats < 0) to none, in -5..6."""
    return (-7 * int(fifths) + 5) % 12 - 5


def steps_to_fermata(fermatas):
    """(S,) bool fermata steps -> (S,) int64: steps until the next fermata begins (0 on the
    steps of a held fermata note, NO_FERMATA after the last one)."""
    fermatas = np.asarray(fermatas, bool)
    found, following = np.full(len(fermatas), NO_FERMATA, np.int64), None
    for t in range(len(fermatas) - 1, -1, -1):
        if fermatas[t]:
            following = t if t == 0 or not fermatas[t - 1] else following
            found[t] = 0
        elif following is not None:
            found[t] = following - t
    return found


def load_chorales(transpose=True):
    """Every shipped chorale, in file order: a list of dicts with
        name str (e.g. 'bwv1.6')        pitches (S, 4) int64 MIDI, 0 a rest (S, A, T, B)
        onsets (S, 4) bool a note starts here     fermatas (S,) bool a voice holds a fermata
        bar_position (S,) int64 eighths after the bar line     bar_length int eighths per bar
        metre (beats, beat_type)        key (fifths, mode 0 major / 1 minor / -1 unmarked)
        steps_to_fermata (S,) int64 (see steps_to_fermata)
    transpose: move every chorale to the key signature without sharps or flats (C major /
    A minor), each by transposition(fifths) semitones; rests stay 0."""
    with data_file("bach_chorales", "chorales.npz").open("rb") as raw:
        with np.load(raw, allow_pickle=False) as arrays:
            a = {name: arrays[name] for name in arrays.files}
    chorales = []
    for c, (first, stop) in enumerate(zip(a["offsets"][:-1], a["offsets"][1:])):
        pitches = a["pitches"][first:stop].astype(np.int64)
        fifths, mode = (int(v) for v in a["keys"][c])
        if transpose:
            pitches = np.where(pitches > 0, pitches + transposition(fifths), 0)
        beats, beat_type = (int(v) for v in a["metres"][c])
        chorales.append({"name": str(a["names"][c]), "pitches": pitches,
                         "onsets": a["onsets"][first:stop],
                         "fermatas": a["fermatas"][first:stop],
                         "bar_position": a["bar_positions"][first:stop].astype(np.int64),
                         "bar_length": 8 * beats // beat_type, "metre": (beats, beat_type),
                         "key": (fifths, mode),
                         "steps_to_fermata": steps_to_fermata(a["fermatas"][first:stop])})
    return chorales


WINDOW_KEYS = ("pitches", "onsets", "fermatas", "bar_position", "steps_to_fermata")


def load_chorale_windows(length=64, test_fraction=0.2, seed=0, transpose=True):
    """Non-overlapping windows of `length` steps of every chorale (a chorale's last partial
    window is dropped; a shorter chorale gives none), split by chorale: the test chorales
    (shuffled_split of the chorales with `seed`) give every test window, so no chorale is in both.

    Returns a dict; for split in ("train", "test"):
        pitches_<split> (N, T, 4) int64      onsets_<split> (N, T, 4) bool
        fermatas_<split> (N, T) bool         bar_position_<split> (N, T) int64
        steps_to_fermata_<split> (N, T) int64     bar_length_<split> (N,) int64
        chorale_<split> (N,) str the chorale's name     start_<split> (N,) int64 its first step
    and "test_chorales", "train_chorales": the names of the chorales of each split (sorted by
    file order), those too short for a window included."""
    length = check_int("length", length, minimum=2)
    chorales = load_chorales(transpose=transpose)
    train, test = shuffled_split(len(chorales), test_fraction=test_fraction, seed=seed)
    windows = {}
    for split, members in (("train", train), ("test", test)):
        rows = [(chorales[c], start) for c in members
                for start in range(0, len(chorales[c]["pitches"]) - length + 1, length)]
        if not rows:
            raise ValueError(f"length={length} leaves no {split} window (chorales have "
                             f"{min(len(c['pitches']) for c in chorales)}.. steps)")
        for key in WINDOW_KEYS:
            windows[f"{key}_{split}"] = np.stack([c[key][s:s + length] for c, s in rows])
        windows[f"bar_length_{split}"] = np.array([c["bar_length"] for c, _ in rows])
        windows[f"chorale_{split}"] = np.array([c["name"] for c, _ in rows])
        windows[f"start_{split}"] = np.array([s for _, s in rows], dtype=np.int64)
        windows[f"{split}_chorales"] = [chorales[c]["name"] for c in members]
    return windows
