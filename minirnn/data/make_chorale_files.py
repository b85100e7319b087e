"""Rebuild minirnn/data/files/bach_chorales/ from music21's wheel (its corpus of Bach chorales).

Not needed at run time (the file is in the package); kept so anyone can check how it was made.
music21 is not a dependency: the compressed MusicXML (.mxl, a zip holding one score) is read with
zipfile and xml.etree. Fetch the wheel, then run this module:

    pip download --no-deps music21==10.5.1 -d /tmp/m21
    python -m minirnn.data.make_chorale_files /tmp/m21/music21-10.5.1-py3-none-any.whl

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    bach_chorales/chorales.npz   per chorale, four voices on an eighth-note grid, metre, fermatas
    bach_chorales/LICENSE.txt    music21's LICENSE (BSD 3-Clause) and its corpus/license.txt

Shape legend: C chorales, S grid steps of all chorales together, V = 4 voices (S, A, T, B).

Time is counted in quarter notes as exact Fractions. Grid step k of a chorale is the time k / 2
(an eighth note); a voice's pitch at step k is the note sounding at that instant (a sixteenth
between two grid points is not seen). Only the first voice of each part is read (a part's second
voice, after <backup>, is skipped), and of a <chord/> only its first note.
"""
import io
import sys
import zipfile
from fractions import Fraction
from xml.etree import ElementTree

import numpy as np

from .make_files import FILES

CORPUS = "music21/corpus/bach/"
LICENCES = ("music21-10.5.1.dist-info/licenses/LICENSE", "music21/corpus/license.txt")
VOICES = ("Soprano", "Alto", "Tenor", "Bass")
METRES = ((4, 4), (3, 4))           # other metres (3/2, 12/8) and metre changes are left out
STEP = Fraction(1, 2)               # the grid: an eighth note, in quarter notes
STEP_NAMES = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def midi_number(pitch):
    """A MusicXML <pitch> element -> its MIDI number (C4 = 60)."""
    alter = pitch.findtext("alter")
    return (12 * (int(pitch.findtext("octave")) + 1) + STEP_NAMES[pitch.findtext("step")]
            + int(round(float(alter or 0))))


def read_part(part):
    """One <part> -> (notes, measures, metres, keys).

    notes: [(start, duration, midi or 0 for a rest, tied_from_before, fermata)], times in
    quarter notes (Fractions) from the start of the piece, in time order; measures: [(start,
    length)]; metres: {(beats, beat_type)} seen; keys: [(fifths, mode)] seen, in order."""
    notes, measures, metres, keys = [], [], set(), []
    divisions, measure_start = None, Fraction(0)
    for measure in part.findall("measure"):
        cursor = length = Fraction(0)
        for element in measure:
            if element.tag == "attributes":
                divisions = int(element.findtext("divisions") or divisions)
                for time in element.findall("time"):
                    metres.add((int(time.findtext("beats")), int(time.findtext("beat-type"))))
                for key in element.findall("key"):
                    keys.append((int(key.findtext("fifths")), key.findtext("mode") or ""))
            elif element.tag in ("backup", "forward"):
                shift = Fraction(int(element.findtext("duration")), divisions)
                cursor += shift if element.tag == "forward" else -shift
            elif element.tag == "note":
                if element.find("grace") is not None or element.find("chord") is not None:
                    continue
                duration = Fraction(int(element.findtext("duration")), divisions)
                if element.findtext("voice", "1") == "1":
                    pitch = element.find("pitch")
                    tied = any(tie.get("type") == "stop" for tie in element.findall("tie"))
                    fermata = element.find("notations/fermata") is not None
                    notes.append((measure_start + cursor, duration,
                                  0 if pitch is None else midi_number(pitch), tied, fermata))
                cursor += duration
            length = max(length, cursor)
        measures.append((measure_start, length))
        measure_start += length
    return sorted(notes, key=lambda note: note[0]), measures, metres, keys


def bar_positions(measures, bar_length):
    """(steps,) each grid step's position after its bar line, in eighths.

    A full measure starts a bar. A short one (an upbeat, or a bar split by a repeat sign)
    continues the metre: the first measure, if short, ends on a bar line (an upbeat); a later
    short measure continues from where the measure before it stopped, if that one was short too,
    and starts a bar otherwise. A measure longer than a bar wraps round."""
    positions, carry = [], None
    for index, (start, length) in enumerate(measures):
        if length >= bar_length:
            offset = Fraction(0)
        elif index == 0:
            offset = bar_length - length
        else:
            offset = carry if carry is not None else Fraction(0)
        first, stop = -(-start // STEP), -(-(start + length) // STEP)   # grid steps inside
        positions += [int((offset + k * STEP - start) % bar_length // STEP)
                      for k in range(first, stop)]
        end = offset + length
        carry = end if (length < bar_length and end < bar_length) else None
    return np.array(positions, dtype=np.int64)


def voice_grid(notes, steps):
    """notes of read_part -> per grid step (steps,) each: the MIDI pitch sounding (0: a rest),
    whether a note (not a tied continuation) starts exactly there, whether it has a fermata."""
    pitch, onset = np.zeros(steps, np.int64), np.zeros(steps, bool)
    fermata = np.zeros(steps, bool)
    for start, duration, midi, tied, has_fermata in notes:
        first, stop = -(-start // STEP), -(-(start + duration) // STEP)
        pitch[first:stop], fermata[first:stop] = midi, has_fermata
        if first * STEP == start and first < steps:
            onset[first] = midi > 0 and not tied
    return pitch, onset, fermata


def parse_chorale(xml_text):
    """One MusicXML score (partwise) -> its grid, or None if it is not a plain four-part
    chorale in 4/4 or 3/4 (parts named Soprano, Alto, Tenor, Bass; one metre; voices of equal
    length).

    Returns {"pitches": (S, 4) int64 MIDI (0 rest), "onsets": (S, 4) bool, "fermatas": (S,) bool
    (any voice holds a note with a fermata), "bar_positions": (S,) int64 eighths after the bar
    line, "metre": (beats, beat_type), "key": (fifths, mode 0 major / 1 minor / -1 unmarked)}."""
    root = ElementTree.fromstring(xml_text)
    names = {part.get("id"): (part.findtext("part-name") or "").strip()
             for part in root.iter("score-part")}
    parts = {names.get(part.get("id")): part for part in root.findall("part")}
    if not set(VOICES) <= set(parts):
        return None
    read = [read_part(parts[voice]) for voice in VOICES]
    metres = set().union(*(r[2] for r in read))
    lengths = {sum(length for _, length in r[1]) for r in read}
    if len(metres) != 1 or next(iter(metres)) not in METRES or len(lengths) != 1:
        return None
    beats, beat_type = next(iter(metres))
    steps = int(-(-lengths.pop() // STEP))
    grids = [voice_grid(r[0], steps) for r in read]
    positions = bar_positions(read[0][1], Fraction(4 * beats, beat_type))
    fifths, mode = read[0][3][0] if read[0][3] else (0, "")
    return {"pitches": np.stack([g[0] for g in grids], axis=1),
            "onsets": np.stack([g[1] for g in grids], axis=1),
            "fermatas": np.any([g[2] for g in grids], axis=0),
            "bar_positions": positions[:steps], "metre": (beats, beat_type),
            "key": (fifths, {"major": 0, "minor": 1}.get(mode, -1))}


def mxl_score(mxl_bytes):
    """The score inside a compressed MusicXML file (its container names the root file)."""
    with zipfile.ZipFile(io.BytesIO(mxl_bytes)) as mxl:
        container = ElementTree.fromstring(mxl.read("META-INF/container.xml"))
        return mxl.read(container.find(".//rootfile").get("full-path"))


def chorale_arrays(wheel):
    """Every usable chorale of the wheel's corpus, concatenated (the npz's keys, README.md)."""
    names, parsed = [], []
    for member in sorted(n for n in wheel.namelist() if n.startswith(CORPUS)
                         and n.endswith(".mxl")):
        chorale = parse_chorale(mxl_score(wheel.read(member)))
        if chorale is not None:
            names.append(member[len(CORPUS):-len(".mxl")])
            parsed.append(chorale)
    lengths = [len(c["pitches"]) for c in parsed]
    return {"names": np.array(names),
            "offsets": np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            "pitches": np.concatenate([c["pitches"] for c in parsed]).astype(np.uint8),
            "onsets": np.concatenate([c["onsets"] for c in parsed]),
            "fermatas": np.concatenate([c["fermatas"] for c in parsed]),
            "bar_positions": np.concatenate([c["bar_positions"] for c in parsed]).astype(np.uint8),
            "metres": np.array([c["metre"] for c in parsed], dtype=np.uint8),
            "keys": np.array([c["key"] for c in parsed], dtype=np.int8)}


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        raise SystemExit("usage: python -m minirnn.data.make_chorale_files "
                         "music21-10.5.1-py3-none-any.whl")
    folder = FILES / "bach_chorales"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(argv[0]) as wheel:
        arrays = chorale_arrays(wheel)
        licence = b"\n\n".join(b"==== " + name.encode() + b" ====\n" + wheel.read(name)
                               for name in LICENCES)
    np.savez_compressed(folder / "chorales.npz", **arrays)
    (folder / "LICENSE.txt").write_bytes(licence)
    print(f"{len(arrays['names'])} chorales, {len(arrays['pitches'])} steps -> {folder}")


if __name__ == "__main__":
    main()
