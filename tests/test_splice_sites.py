"""Splice sites: the GenBank location parser on hand-checked cases, the shipped genomes and the
window loaders (checked against the genome with plain Python strings), the PWM and AUC of
demos/splice_sites.py on hand cases, and the demo's main on a tiny setting."""
import json
import math
import runpy
from pathlib import Path

import numpy as np
import pytest

from minirnn import data
from minirnn.data import splice_sites
from minirnn.data.make_splice_files import genome_arrays, introns, parse_location

DEMO = Path(__file__).resolve().parent.parent / "demos" / "splice_sites.py"
FLANK = 25


def reverse_complement(text):
    """Plain-Python witness for the module's reverse complement."""
    return text[::-1].translate(str.maketrans("ACGTN", "TGCAN"))


@pytest.fixture(scope="module")
def genomes():
    return {name: {"text": splice_sites.decode(g["sequence"]), "introns": g["introns"]}
            for name, g in data.load_genomes().items()}


@pytest.fixture(scope="module")
def sites():
    return data.load_splice_sites(flank=FLANK)


@pytest.fixture(scope="module")
def pairs():
    return data.load_intron_windows(flank=6, min_length=40, max_length=130)


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="splice_sites_demo")


# ---------------------------------------------------------------- the GenBank reader

@pytest.mark.parametrize("text, segments", [
    ("5", [(4, 5, 1)]),
    ("1..3", [(0, 3, 1)]),
    ("<1..>9", [(0, 9, 1)]),
    ("join(1..3,7..9)", [(0, 3, 1), (6, 9, 1)]),
    ("join(1..3,\n                     7..9, 12..20)", [(0, 3, 1), (6, 9, 1), (11, 20, 1)]),
    ("complement(4..6)", [(3, 6, -1)]),
    ("complement(join(1..3,7..9))", [(6, 9, -1), (0, 3, -1)]),
    ("join(complement(7..9),complement(1..3))", [(6, 9, -1), (0, 3, -1)]),
    ("join(153490..154269,AL121804.2:41..610)", [(153489, 154269, 1), None]),
])
def test_parse_location_hand_cases(text, segments):
    assert parse_location(text) == segments


@pytest.mark.parametrize("text", ["1^2", "9..3", "join(1..3", "complement(x)"])
def test_parse_location_refuses_what_it_cannot_read(text):
    with pytest.raises(ValueError, match="text"):
        parse_location(text)


def test_introns_are_the_gaps_in_transcript_order():
    assert introns(parse_location("join(1..3,7..9,15..20)")) == [(3, 6, 1), (9, 14, 1)]
    # minus strand: the transcript starts at the right, each next exon lies to the left
    assert introns(parse_location("complement(join(1..3,7..9))")) == [(3, 6, -1)]
    assert introns(parse_location("join(1..3,X1.1:5..9,12..14)")) == []
    with pytest.raises(ValueError, match="segments"):
        introns([(0, 5, 1), (3, 9, 1)])


def test_genome_arrays_on_a_hand_made_record():
    """Two CDS on opposite strands, split over lines, with a qualifier in between: the plus one
    has an intron at bases 5..10 (GTAAAG), the minus one at 14..19, forward CTTTAC = reverse
    complement GTAAAG."""
    sequence = "aaaagtaaagaaaCTTTACtt"
    record = "\n".join([
        "LOCUS       TEST        21 bp    DNA",
        "FEATURES             Location/Qualifiers",
        "     source          1..21",
        "     CDS             join(1..4,",
        "                     11..12)",
        "                     /note=\"join(1..2,5..6) is not a location\"",
        "     mRNA            complement(join(11..13,20..21))",
        "     gene            join(1..2,20..21)",
        "ORIGIN      ",
        f"        1 {sequence[:10]} {sequence[10:]}",
        "//"])
    codes, rows = genome_arrays(record)
    assert bytes(codes).decode() == sequence.upper()
    assert rows.tolist() == [[4, 10, 1], [13, 19, -1]]
    text = sequence.upper()
    assert text[4:10] == "GTAAAG" and reverse_complement(text[13:19]) == "GTAAAG"


# ---------------------------------------------------------------- the shipped genomes

def test_genomes_sizes_counts_and_first_intron(genomes):
    arab, fly = genomes["arabidopsis"], genomes["drosophila"]
    assert len(arab["text"]) == 86436 and len(fly["text"]) == 154329
    assert set(arab["text"]) == set(fly["text"]) == set("ACGT")
    assert arab["introns"].shape == (84, 3) and fly["introns"].shape == (67, 3)
    assert arab["text"][:20] == "AAGCTTTGCTACGATCTACA"   # ORIGIN's first line, read by eye
    # arab1.gb's first CDS: join(3462..3615,3698..3978,...): its first intron is 3616..3697
    assert arab["introns"][0].tolist() == [3615, 3697, 1]


def test_every_intron_is_gt_ag_on_its_strand(genomes):
    for genome in genomes.values():
        for start, end, strand in genome["introns"]:
            text = genome["text"][start:end]
            text = text if strand == 1 else reverse_complement(text)
            assert text[:2] == "GT" and text[-2:] == "AG"


# ---------------------------------------------------------------- the site windows

def window_text(genome, start, strand, T):
    """The window as the genome spells it on its strand (plain-Python witness)."""
    text = genome["text"][start:start + T]
    return text if strand == 1 else reverse_complement(text)


def expected_sites(genome, flank, min_length=splice_sites.MIN_INTRON_LENGTH):
    """{(start, strand, site)} of the windows of the sites of every intron of min_length bases
    or more, worked out by hand from the intron rows: a plus-strand donor window starts flank
    bases before the intron, a minus-strand donor (the intron's right end on the forward strand)
    ends flank bases after it, and so on."""
    found = set()
    for s, e, strand in genome["introns"]:
        if e - s < min_length:
            continue
        if strand == 1:
            found |= {(s - flank, 1, 0), (e - 2 - flank, 1, 1)}
        else:
            found |= {(e - 2 - flank, -1, 0), (s - flank, -1, 1)}
    return found


def test_site_windows_shapes_and_counts(sites):
    T = 2 * FLANK + 2
    for split, organism, count in (("train", "arabidopsis", 83), ("test", "drosophila", 67)):
        x, y, site = sites[f"x_{split}"], sites[f"y_{split}"], sites[f"site_{split}"]
        assert x.shape == (4 * count, T) and x.dtype == np.int64
        assert x.min() >= 0 and x.max() <= 3
        for column in ("y", "site", "start", "strand", "organism"):
            assert sites[f"{column}_{split}"].shape == (4 * count,)
        assert set(sites[f"organism_{split}"]) == {organism}
        for s in (0, 1):
            for label in (0, 1):
                assert ((site == s) & (y == label)).sum() == count


def test_every_window_is_the_genome_on_its_strand_with_its_pair_at_the_centre(sites, genomes):
    T = 2 * FLANK + 2
    for split in ("train", "test"):
        genome = genomes[sites[f"organism_{split}"][0]]
        for x, site, start, strand in zip(sites[f"x_{split}"], sites[f"site_{split}"],
                                          sites[f"start_{split}"], sites[f"strand_{split}"]):
            text = splice_sites.decode(x)
            assert text == window_text(genome, start, strand, T)
            assert text[FLANK:FLANK + 2] == ("GT", "AG")[site]


def test_positives_are_exactly_the_annotated_sites(sites, genomes):
    for split in ("train", "test"):
        genome = genomes[sites[f"organism_{split}"][0]]
        keys = list(zip(sites[f"start_{split}"].tolist(), sites[f"strand_{split}"].tolist(),
                        sites[f"site_{split}"].tolist()))
        labels = sites[f"y_{split}"]
        positives = {k for k, label in zip(keys, labels) if label == 1}
        decoys = [k for k, label in zip(keys, labels) if label == 0]
        assert positives == expected_sites(genome, FLANK)
        assert len(set(decoys)) == len(decoys)
        assert not expected_sites(genome, FLANK, min_length=0) & set(decoys)   # no intron's end


def test_no_training_window_overlaps_a_test_window(sites):
    assert not set(sites["organism_train"]) & set(sites["organism_test"])
    swapped = data.load_splice_sites(flank=FLANK, test_organism="arabidopsis")
    assert set(swapped["organism_test"]) == {"arabidopsis"}
    assert set(swapped["organism_train"]) == {"drosophila"}


def test_decoys_follow_the_seed(sites):
    again = data.load_splice_sites(flank=FLANK, seed=0)
    np.testing.assert_array_equal(again["start_train"], sites["start_train"])
    other = data.load_splice_sites(flank=FLANK, seed=1)
    assert not np.array_equal(other["start_train"], sites["start_train"])
    np.testing.assert_array_equal(other["start_train"][other["y_train"] == 1],
                                  sites["start_train"][sites["y_train"] == 1])


@pytest.mark.parametrize("kwargs, name", [({"flank": 1}, "flank"),
                                          ({"decoys_per_site": 0}, "decoys_per_site"),
                                          ({"test_organism": "yeast"}, "test_organism")])
def test_bad_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=name):
        data.load_splice_sites(**kwargs)


# ---------------------------------------------------------------- the intron windows

def test_intron_windows(pairs, genomes):
    for split in ("train", "test"):
        genome = genomes[pairs[f"organism_{split}"][0]]
        annotated = {(s, e, strand) for s, e, strand in genome["introns"].tolist()}
        x, lengths, kind = pairs[f"x_{split}"], pairs[f"lengths_{split}"], pairs[f"kind_{split}"]
        assert x.shape == (len(kind), 130 + 12)
        np.testing.assert_array_equal(pairs[f"y_{split}"], kind == 0)
        assert lengths.min() >= 40 + 12 and lengths.max() <= 130 + 12
        positives = set()
        for row, length, k, start, strand in zip(x, lengths, kind, pairs[f"start_{split}"],
                                                 pairs[f"strand_{split}"]):
            text = splice_sites.decode(row)
            assert set(text[length:]) <= {"N"}                       # padding after the end
            assert text[:length] == window_text(genome, start, strand, length)
            assert text[6:8] == "GT" and text[length - 8:length - 6] == "AG"
            intron = (start + 6, start + length - 6, strand)        # forward-strand slice
            assert (intron in annotated) == (k == 0)
            if k == 0:
                positives.add(intron)
        counts = np.bincount(kind, minlength=3)
        assert counts[0] == len(positives) and counts[1] <= counts[0] and counts[2] <= counts[0]


# ---------------------------------------------------------------- the demo's metrics and baseline

def test_roc_auc_hand_cases(demo):
    auc = demo["roc_auc"]
    assert auc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([0, 0, 1, 1])) == 0.75
    assert auc(np.array([1.0, 1.0]), np.array([0, 1])) == 0.5          # a tie counts 1/2
    assert auc(np.array([3.0, 2.0, 1.0]), np.array([1, 1, 0])) == 1.0


def test_pwm_hand_case(demo):
    """Position 0 is A in both true windows and T in both decoys; position 1 is C and G once
    each in both classes. With pseudocount 1 over 5 letters: P(A | true) = 3/7, P(A | decoy)
    = 1/7, so log-odds log 3 for A and -log 3 for T at position 0, and 0 at position 1."""
    x = np.array([[0, 1], [0, 2], [3, 1], [3, 2]])
    log_odds = demo["pwm_fit"](x, np.array([1, 1, 0, 0]))
    assert log_odds.shape == (2, 5)
    assert log_odds[0, 0] == pytest.approx(math.log(3))
    assert log_odds[0, 3] == pytest.approx(-math.log(3))
    np.testing.assert_allclose(log_odds[1], 0.0, atol=1e-12)
    np.testing.assert_allclose(demo["pwm_score"](log_odds, x),
                               [math.log(3), math.log(3), -math.log(3), -math.log(3)])
    cut = demo["best_threshold"](demo["pwm_score"](log_odds, x), np.array([1, 1, 0, 0]))
    assert -math.log(3) <= cut < math.log(3)


def test_demo_main_on_a_tiny_setting(demo, tmp_path):
    summary = demo["main"]([str(tmp_path), "--epochs", "1", "--seeds", "1",
                            "--intron-epochs", "1"])
    for name in ("saliency_profile.png", "motif_unit.png", "sample_windows.png"):
        assert (tmp_path / name).stat().st_size > 10_000
    saved = json.loads((tmp_path / "results.json").read_text())
    assert set(saved["verdicts"]) == {"motif_unit", "saliency", "parentheses"}
    assert set(saved["verdicts"].values()) <= {"held", "partly", "did not hold here"}
    # the PWM does not depend on training: on held-out Drosophila it is well above chance
    assert summary["sites"]["all"]["pwm"]["accuracy"] > 0.7
    assert summary["sites"]["donor"]["pwm"]["auc"] > 0.9
    assert len(saved["motif_units"]) == 2 * (demo["LAYERS"] + 1)
    assert np.array(saved["saliency"]["donor (GT)"]["profiles"]).shape == (1, 2 * FLANK + 2)
    assert set(saved["introns"]["accuracy"]) == {"1", "2", "3"}
