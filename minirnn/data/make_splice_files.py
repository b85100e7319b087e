"""Rebuild minirnn/data/files/splice_sites/ from Biopython's source archive.

Not needed at run time (the file is in the package); kept so anyone can check how it was made.
Biopython is not a dependency: the two GenBank files are read with the few functions below.
Fetch the archive, then run this module:

    pip download --no-deps --no-binary :all: biopython==1.88 -d /tmp/bio
    python -m minirnn.data.make_splice_files /tmp/bio/biopython-1.88.tar.gz

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    splice_sites/splice_sites.npz   per organism, the sequence and the introns of its CDS/mRNA joins
    splice_sites/LICENSE.txt        Biopython's LICENSE.rst, unchanged

Shape legend: S bases of a sequence, M introns.

Coordinates: GenBank counts bases from 1 and includes both ends (a..b); here a segment is
(start, end, strand) with start = a - 1 and end = b, the Python slice seq[start:end] on the
forward strand, and strand +1 or -1 (complement()).
"""
import re
import sys
import tarfile

import numpy as np

from .make_files import FILES

GENBANK_FILES = {"arabidopsis": "Tests/GenBank/arab1.gb",
                 "drosophila": "Tests/GenBank/extra_keywords.gb"}
JOINED_FEATURES = ("CDS", "mRNA")   # features whose join() lists exons in transcript order


def split_top_level(text):
    """'a,join(b,c),d' -> ['a', 'join(b,c)', 'd']: split at the commas outside parentheses."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(text):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return parts + [text[start:]]


def parse_location(text):
    """A GenBank location -> its segments [(start, end, strand)] in transcript order.

    Handles a..b, a single base a, the partial marks < and >, join(...), order(...) and
    complement(...) (which reverses the order of what it holds and flips the strand). A segment
    on another record (ACCESSION.v:a..b) becomes None, so no intron is read across it.

        parse_location("join(1..3,7..9)")              -> [(0, 3, 1), (6, 9, 1)]
        parse_location("complement(join(1..3,7..9))")  -> [(6, 9, -1), (0, 3, -1)]
    """
    text = "".join(text.split())
    for wrapper in ("join(", "order("):
        if text.startswith(wrapper) and text.endswith(")"):
            return [seg for part in split_top_level(text[len(wrapper):-1])
                    for seg in parse_location(part)]
    if text.startswith("complement(") and text.endswith(")"):
        inner = parse_location(text[len("complement("):-1])
        return [None if seg is None else (seg[0], seg[1], -seg[2]) for seg in reversed(inner)]
    if ":" in text:
        return [None]
    match = re.fullmatch(r"<?(\d+)(?:\.\.>?(\d+))?", text)
    if match is None:
        raise ValueError(f"text must be a GenBank location of ranges, join, order and complement; "
                         f"got {text!r}")
    first = int(match[1])
    last = int(match[2]) if match[2] else first
    if last < first:
        raise ValueError(f"text: range {text!r} ends before it starts")
    return [(first - 1, last, 1)]


def introns(segments):
    """The gaps between consecutive local segments of one feature, as (start, end, strand) on the
    forward strand: on the minus strand the next exon lies to the left."""
    gaps = []
    for previous, following in zip(segments, segments[1:]):
        if previous is None or following is None or previous[2] != following[2]:
            continue
        strand = previous[2]
        start, end = (previous[1], following[0]) if strand == 1 else (following[1], previous[0])
        if end <= start:
            raise ValueError(f"segments: {previous} and {following} overlap or are out of order")
        gaps.append((start, end, strand))
    return gaps


def read_genbank(text):
    """One GenBank record -> (sequence, [location string of each CDS and mRNA feature]).

    The sequence is the ORIGIN section upper-cased, numbers and spaces removed. A feature's
    location starts in column 22 of its key line and continues on the following lines until a
    qualifier (/name=...) begins."""
    lines = text.splitlines()
    origin = next(i for i, line in enumerate(lines) if line.startswith("ORIGIN"))
    sequence = "".join("".join(line.split()[1:]) for line in lines[origin + 1:]
                       if not line.startswith("//")).upper()
    locations = []
    for i, line in enumerate(lines[:origin]):
        if line[5:21].strip() in JOINED_FEATURES and not line[:5].strip():
            location = line[21:].strip()
            for more in lines[i + 1:origin]:
                if not more.startswith(" " * 21) or more[21:].startswith("/"):
                    break
                location += more.strip()
            locations.append(location)
    return sequence, locations


def genome_arrays(text):
    """A GenBank record -> (sequence as uint8 ASCII codes (S,), introns (M, 3) int64 rows
    (start, end, strand), distinct, sorted)."""
    sequence, locations = read_genbank(text)
    gaps = sorted({gap for location in locations for gap in introns(parse_location(location))})
    return (np.frombuffer(sequence.encode("ascii"), dtype=np.uint8),
            np.array(gaps, dtype=np.int64).reshape(-1, 3))


def write_splice_files(sdist_path):
    """Both GenBank records -> one .npz of sequences and introns; the licence copied unchanged."""
    arrays = {}
    with tarfile.open(sdist_path) as sdist:
        prefix = sdist.getnames()[0].split("/")[0]
        for organism, name in GENBANK_FILES.items():
            text = sdist.extractfile(f"{prefix}/{name}").read().decode("ascii")
            arrays[f"{organism}_sequence"], arrays[f"{organism}_introns"] = genome_arrays(text)
        licence = sdist.extractfile(f"{prefix}/LICENSE.rst").read()
    folder = FILES / "splice_sites"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "splice_sites.npz", **arrays)
    (folder / "LICENSE.txt").write_bytes(licence)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m minirnn.data.make_splice_files BIOPYTHON_SDIST.tar.gz")
    write_splice_files(sys.argv[1])
