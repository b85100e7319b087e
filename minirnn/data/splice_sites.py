"""DNA splice sites from two annotated genomic clones shipped in the package: windows around
true donor (GT) and acceptor (AG) sites against decoy GT/AG dinucleotides, and whole introns
against decoys that share one of their ends.

Shape legend: N windows, T steps per window, S bases of a genome, M introns.

    genomes = load_genomes()           # {organism: {"sequence": (S,) codes, "introns": (M, 3)}}
    sites = load_splice_sites()        # dict: x_train (N, 52) codes, y_train, site_train, ...
    pairs = load_intron_windows()      # dict: x_train (N, T) codes, lengths_train, y_train, ...

Bases are coded by their index in ALPHABET = "ACGTN". An intron is a row (start, end, strand):
the slice seq[start:end] of the forward strand, read as its reverse complement when strand is
-1. Every window is read on the strand of its site, 5' to 3', and covers the forward-strand bases
start .. start + T - 1 (`start` is recorded with it, so windows can be checked for overlap).
One organism (default Drosophila) is held out whole as the test set, so no test window shares a
base with a training window. The data's source, licence and counts:
minirnn/data/files/splice_sites/README.md.
"""
import numpy as np

from .datasets import data_file

ALPHABET = "ACGTN"
COMPLEMENT = np.array([3, 2, 1, 0, 4])   # A<->T, C<->G, N->N, in ALPHABET's codes
ORGANISMS = ("arabidopsis", "drosophila")
DONOR, ACCEPTOR = "GT", "AG"             # the first and the last two bases of an intron
MIN_INTRON_LENGTH = 30   # drops arab1's 12-base gap: too short for a spliceosomal intron
DECOY_SHIFT = 10         # an intron decoy's other end is at least this far from the true one


def encode(sequence):
    """A DNA string -> (len,) int64 codes, indices in ALPHABET; any other letter (case-blind)
    becomes N."""
    lookup = np.full(256, ALPHABET.index("N"), dtype=np.int64)
    for code, base in enumerate(ALPHABET):
        lookup[ord(base)] = lookup[ord(base.lower())] = code
    return lookup[np.frombuffer(sequence.encode("ascii"), dtype=np.uint8)]


def decode(codes):
    """Codes (...,) -> the DNA string they spell (flattened)."""
    return "".join(ALPHABET[c] for c in np.ravel(codes))


def reverse_complement(codes):
    """The other strand of codes (S,), read 5' to 3'."""
    return COMPLEMENT[np.asarray(codes)[::-1]]


def load_genomes():
    """Both shipped genomic clones: {organism: {"sequence": (S,) int64 codes,
    "introns": (M, 3) int64 rows (start, end, strand)}}, organisms in ORGANISMS order. The
    introns are every gap between the exons of a CDS join() in the GenBank file (all begin GT and
    end AG on their strand)."""
    with data_file("splice_sites", "splice_sites.npz").open("rb") as raw:
        with np.load(raw, allow_pickle=False) as arrays:
            return {name: {"sequence": encode(arrays[f"{name}_sequence"].tobytes().decode("ascii")),
                           "introns": arrays[f"{name}_introns"]} for name in ORGANISMS}


def strand_views(genome):
    """Each strand of a genome as (strand, its sequence 5' to 3', its introns as (first, stop)
    index arrays in that sequence)."""
    sequence, introns = genome["sequence"], genome["introns"]
    S = len(sequence)
    plus, minus = introns[introns[:, 2] == 1], introns[introns[:, 2] == -1]
    return [(1, sequence, (plus[:, 0], plus[:, 1])),
            (-1, reverse_complement(sequence), (S - minus[:, 1], S - minus[:, 0]))]


def forward_start(strand, first, T, S):
    """The forward-strand index of the leftmost base of the window [first, first + T) of a
    strand's sequence."""
    return first if strand == 1 else S - (first + T)


def dinucleotides(sequence, pair, lo, hi):
    """The positions p in [lo, hi) where sequence[p:p + 2] spells pair."""
    first, second = (ALPHABET.index(base) for base in pair)
    p = np.arange(max(lo, 0), min(hi, len(sequence) - 1))
    return p[(sequence[p] == first) & (sequence[p + 1] == second)]


def check_organism(test_organism):
    if test_organism not in ORGANISMS:
        raise ValueError(f"test_organism must be one of {ORGANISMS}; got {test_organism!r}")


def check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    return int(value)


def split_by_organism(windows, test_organism):
    """{column: array} over both organisms -> {column_train, column_test}: the test split is every
    window of test_organism."""
    test = windows["organism"] == test_organism
    return {f"{key}_{split}": values[rows] for key, values in windows.items()
            for split, rows in (("train", ~test), ("test", test))}


def stack_columns(parts):
    """[{column: array}] -> {column: the arrays concatenated}."""
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def site_windows(organism, genome, flank, decoys_per_site, rng):
    """One organism's site windows: true donors, decoy GTs, true acceptors, decoy AGs."""
    S, T = len(genome["sequence"]), 2 * flank + 2
    found = {(site, label): [] for site in (0, 1) for label in (1, 0)}
    for strand, sequence, (first, stop) in strand_views(genome):
        kept = stop - first >= MIN_INTRON_LENGTH
        for site, (pair, ends) in enumerate(((DONOR, first), (ACCEPTOR, stop - 2))):
            # positions p whose window [p - flank, p + 2 + flank) fits in the sequence
            candidates = dinucleotides(sequence, pair, flank, len(sequence) - flank - 1)
            found[site, 1].append((strand, sequence, np.intersect1d(ends[kept], candidates)))
            found[site, 0].append((strand, sequence, np.setdiff1d(candidates, ends)))
    parts = []
    for (site, label), per_strand in found.items():
        rows = [(strand, sequence, p) for strand, sequence, ps in per_strand for p in ps]
        if label == 0:   # decoys: drawn from both strands, decoys_per_site per true site
            true_count = sum(len(ps) for _, _, ps in found[site, 1])
            rows = [rows[k] for k in np.sort(rng.choice(len(rows), decoys_per_site * true_count,
                                                        replace=False))]
        parts.append({
            "x": np.array([sequence[p - flank:p + 2 + flank] for _, sequence, p in rows],
                          dtype=np.int64).reshape(-1, T),
            "y": np.full(len(rows), label, dtype=np.int64),
            "site": np.full(len(rows), site, dtype=np.int64),
            "start": np.array([forward_start(s, p - flank, T, S) for s, _, p in rows], np.int64),
            "strand": np.array([s for s, _, _ in rows], dtype=np.int64),
            "organism": np.full(len(rows), organism)})
    return stack_columns(parts)


def load_splice_sites(flank=25, decoys_per_site=1, test_organism="drosophila", seed=0):
    """Windows of T = 2 * flank + 2 bases centred on a GT or AG dinucleotide, on the strand of
    the site: x[:, flank:flank + 2] spells GT (site 0) or AG (site 1).

    Positives (y = 1): the donor (the intron's first two bases, GT) and the acceptor (its last
    two, AG) of every annotated intron of at least MIN_INTRON_LENGTH bases whose window fits in
    the sequence. Decoys (y = 0): GT / AG dinucleotides elsewhere, on either strand, that are not
    an end of any annotated intron, decoys_per_site per true site of the same kind and organism,
    drawn at random (seeded) without replacement.

    Returns a dict; for split in ("train", "test"):
        x_<split> (N, T) int64 codes    y_<split> (N,) int64 1 = true site, 0 = decoy
        site_<split> (N,) int64 0 = GT-centred, 1 = AG-centred
        start_<split> (N,) int64 the window's leftmost base on the forward strand
        strand_<split> (N,) int64 +1 / -1          organism_<split> (N,) str
    Rows are grouped: true donors, decoy GTs, true acceptors, decoy AGs. The test split is every
    window of test_organism, the training split every window of the other.
    """
    check_organism(test_organism)
    flank = check_count("flank", flank, 2)
    decoys_per_site = check_count("decoys_per_site", decoys_per_site, 1)
    rng = np.random.default_rng(seed)
    parts = [site_windows(name, genome, flank, decoys_per_site, rng)
             for name, genome in load_genomes().items()]
    return split_by_organism(stack_columns(parts), test_organism)


def nearest_other_end(candidates, lengths, true_end, target_length, exclude):
    """The candidate end (not in exclude, at least DECOY_SHIFT bases from true_end) whose window
    length (lengths, one per candidate) is closest to target_length; None if there is none."""
    keep = (np.abs(candidates - true_end) >= DECOY_SHIFT) & ~np.isin(candidates, exclude)
    if not keep.any():
        return None
    return candidates[keep][np.argmin(np.abs(lengths[keep] - target_length))]


def intron_rows(sequence, first, stop, min_length, max_length, rng):
    """(first, stop, kind) of the in-range introns of one strand (kind 0) and of each one's two
    decoys: its donor with another AG downstream (kind 1), its acceptor with another GT
    upstream (kind 2). A decoy's length is the in-range one closest to a length drawn from the
    strand's in-range introns, and it is not an annotated intron."""
    lengths = stop - first
    inside = (lengths >= max(min_length, MIN_INTRON_LENGTH)) & (lengths <= max_length)
    lengths = lengths[inside]
    rows = []
    for a, b in zip(first[inside], stop[inside]):
        rows.append((a, b, 0))
        ends = dinucleotides(sequence, ACCEPTOR, a + min_length - 2, a + max_length - 1) + 2
        end = nearest_other_end(ends, ends - a, b, rng.choice(lengths), stop[first == a])
        if end is not None:
            rows.append((a, end, 1))
        starts = dinucleotides(sequence, DONOR, b - max_length, b - min_length + 1)
        start = nearest_other_end(starts, b - starts, a, rng.choice(lengths), first[stop == b])
        if start is not None:
            rows.append((start, b, 2))
    return rows


def load_intron_windows(flank=6, min_length=40, max_length=130, test_organism="drosophila",
                        seed=0):
    """Is this window an intron? Each window runs from `flank` bases before a GT to `flank`
    bases after an AG on the same strand, the GT...AG part (the candidate intron) min_length to
    max_length bases long.

    Positives (y = 1, kind 0): every annotated intron in that range. Decoys (y = 0), two per
    intron where they exist: kind 1 keeps the intron's donor GT and ends at another AG, kind 2
    keeps its acceptor AG and starts at another GT; the other end is at least DECOY_SHIFT bases
    from the true one, the decoy is no annotated intron, and its length is the in-range one closest to the
    length of an intron drawn at random (seeded), so positives and decoys have similar lengths.
    A model that reads only one end of the window can be right on at most 2 of each 3 windows.

    Returns a dict; for split in ("train", "test"):
        x_<split> (N, T) int64 codes, padded with N after each window's end, T = max_length +
                  2 * flank
        lengths_<split> (N,) int64 the window's length, 2 * flank + the candidate intron's length
        y_<split>, kind_<split> (N,) int64      start_<split>, strand_<split> (N,) int64
        organism_<split> (N,) str
    The test split is every window of test_organism.
    """
    check_organism(test_organism)
    flank = check_count("flank", flank, 0)
    min_length = check_count("min_length", min_length, 4)
    max_length = check_count("max_length", max_length, min_length)
    rng, T = np.random.default_rng(seed), max_length + 2 * flank
    parts = []
    for organism, genome in load_genomes().items():
        S = len(genome["sequence"])
        for strand, sequence, (first, stop) in strand_views(genome):
            rows = [(a, b, kind) for a, b, kind
                    in intron_rows(sequence, first, stop, min_length, max_length, rng)
                    if a - flank >= 0 and b + flank <= len(sequence)]
            x = np.full((len(rows), T), ALPHABET.index("N"), dtype=np.int64)
            for n, (a, b, _) in enumerate(rows):
                x[n, :b - a + 2 * flank] = sequence[a - flank:b + flank]
            kind = np.array([k for _, _, k in rows], dtype=np.int64)
            lengths = np.array([b - a + 2 * flank for a, b, _ in rows], dtype=np.int64)
            parts.append({
                "x": x, "lengths": lengths, "y": (kind == 0).astype(np.int64), "kind": kind,
                "start": np.array([forward_start(strand, a - flank, length, S)
                                   for (a, _, _), length in zip(rows, lengths)], np.int64),
                "strand": np.full(len(rows), strand, dtype=np.int64),
                "organism": np.full(len(rows), organism)})
    return split_by_organism(stack_columns(parts), test_organism)
