"""minirnn.data: shipped data sets (counts and values against the source files), the vocabulary,
and the synthetic task generators (checked against independent pure-Python witnesses)."""
import configparser
import fnmatch
import gzip
import hashlib
from importlib import resources
from math import comb
from pathlib import Path

import numpy as np
import pytest

from minirnn import data
from minirnn.data import tasks

DATA_FOLDERS = ("movie_reviews", "japanese_vowels", "airline", "seattle_weather",
                "splice_sites", "light_curves", "bach_chorales", "climate",
                "cycling_workout")


# ---------------------------------------------------------------- shipped files

def shipped_files():
    """Paths of all files under minirnn/data/files, relative to the minirnn package."""
    root = resources.files("minirnn")
    folder = root.joinpath("data", "files")
    found = []
    for sub in folder.iterdir():
        if sub.is_dir():
            found += [f"data/files/{sub.name}/{f.name}" for f in sub.iterdir() if f.is_file()]
        elif sub.is_file():
            found.append(f"data/files/{sub.name}")
    return found


@pytest.mark.parametrize("folder", DATA_FOLDERS)
def test_each_data_folder_has_readme_and_licence(folder):
    files = resources.files("minirnn.data").joinpath("files", folder)
    for name in ("README.md", "LICENSE.txt"):
        assert files.joinpath(name).is_file(), f"{folder}/{name} missing"
    readme = files.joinpath("README.md").read_text(encoding="utf-8")
    for heading in ("## Source", "## Licence", "## What was changed"):
        assert heading in readme


def test_shipped_files_match_setup_cfg_package_data():
    setup_cfg = Path(__file__).resolve().parents[1] / "setup.cfg"
    if not setup_cfg.is_file():
        pytest.skip("setup.cfg not available (installed package)")
    config = configparser.ConfigParser()
    config.read(setup_cfg)
    patterns = [p.strip() for p in config["options.package_data"]["minirnn"].split(",")]

    def matches(path, pattern):   # setuptools globs: '*' does not cross '/'
        parts, pattern_parts = path.split("/"), pattern.split("/")
        return len(parts) == len(pattern_parts) and all(
            fnmatch.fnmatchcase(p, q) for p, q in zip(parts, pattern_parts))

    files = shipped_files()
    assert len(files) >= 9
    unmatched = [f for f in files if not any(matches(f, p) for p in patterns)]
    assert unmatched == []


def test_shipped_files_are_small():
    root = resources.files("minirnn")
    total = sum(len(root.joinpath(f).read_bytes()) for f in shipped_files())
    assert total < 3_000_000


# ---------------------------------------------------------------- movie reviews

@pytest.fixture(scope="module")
def movie_reviews():
    return data.load_movie_reviews()


def test_movie_review_file_is_the_original():
    """sha256 of the decompressed file equals the published file's (recorded in the README)."""
    packed = resources.files("minirnn.data").joinpath(
        "files", "movie_reviews", "movieReviewSnippets_GroundTruth.txt.gz").read_bytes()
    digest = hashlib.sha256(gzip.decompress(packed)).hexdigest()
    assert digest == "c8293b0d942e90e223ea2c0955d969040d1a1be514a978b9af0698940bd13350"


def test_movie_reviews_counts_and_values(movie_reviews):
    texts, scores = movie_reviews
    assert len(texts) == 10605 and all(isinstance(t, str) and t for t in texts)
    assert scores.shape == (10605,) and scores.dtype == np.float64
    assert np.all((scores >= -4) & (scores <= 4))
    # first and last lines of the source file, read by eye
    assert texts[0].startswith("The Rock is destined to be the 21st Century's new ''Conan''")
    assert scores[0] == pytest.approx(2.26666666667, abs=1e-12)
    assert texts[2] == "Effective but too tepid biopic" and scores[2] == -0.6
    assert texts[-1].startswith("Her fans walked out muttering words like")
    assert scores[-1] == -1.8125
    assert not any("\t" in t or "\r" in t or "\n" in t for t in texts)


def test_sentiment_labels_rule_and_balance(movie_reviews):
    _, scores = movie_reviews
    labels = data.sentiment_labels(scores)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, [1 if s > 0 else 0 for s in scores])
    assert (scores == 0).sum() == 37
    assert np.bincount(labels).tolist() == [5363, 5242]
    np.testing.assert_array_equal(data.sentiment_labels([-1.0, 0.0, 0.5]), [0, 0, 1])


def test_shuffled_split():
    train, test = data.shuffled_split(10605, test_fraction=0.2, seed=3)
    assert len(test) == 2121 and len(train) == 10605 - 2121
    assert np.intersect1d(train, test).size == 0
    np.testing.assert_array_equal(np.sort(np.concatenate([train, test])), np.arange(10605))
    again = data.shuffled_split(10605, test_fraction=0.2, seed=3)
    np.testing.assert_array_equal(again[1], test)
    assert not np.array_equal(data.shuffled_split(10605, 0.2, seed=4)[1], test)
    with pytest.raises(ValueError, match="test_fraction"):
        data.shuffled_split(10, test_fraction=1.0)


# ---------------------------------------------------------------- JapaneseVowels, airline

def test_japanese_vowels_shapes_counts_lengths():
    v = data.load_japanese_vowels()
    assert set(v) == {"X_train", "lengths_train", "y_train", "X_test", "lengths_test", "y_test"}
    assert v["X_train"].shape == (270, 29, 12) and v["X_test"].shape == (370, 29, 12)
    assert v["X_train"].dtype == np.float64
    for split, count in (("train", 270), ("test", 370)):
        X, lengths, y = v[f"X_{split}"], v[f"lengths_{split}"], v[f"y_{split}"]
        assert lengths.shape == (count,) and y.shape == (count,)
        assert lengths.dtype == np.int64 and y.dtype == np.int64
        assert lengths.min() >= 7 and lengths.max() <= 29
        assert set(np.unique(y)) == set(range(9))
        inside = np.arange(29)[None, :] < lengths[:, None]
        assert np.all(X[~inside] == 0)                            # padding is zero
        assert np.all(np.abs(X[inside]).sum(axis=-1) > 0)         # real frames are not
    both = np.concatenate([v["lengths_train"], v["lengths_test"]])
    assert both.min() == 7 and both.max() == 29
    assert np.bincount(v["y_train"]).tolist() == [30] * 9
    test_counts = np.bincount(v["y_test"])
    assert test_counts.min() == 24 and test_counts.max() == 88     # as the .ts header states
    # first frame of the first training utterance, channels 1-3, as printed in the .ts file
    np.testing.assert_array_equal(v["X_train"][0, 0, :3], [1.860936, -0.207383, 0.261557])
    assert v["lengths_train"][0] == 20 and v["y_train"][0] == 0


def test_airline():
    months, passengers = data.load_airline()
    assert len(months) == 144 and passengers.shape == (144,) and passengers.dtype == np.float64
    expected = [f"{year}-{month:02d}" for year in range(1949, 1961) for month in range(1, 13)]
    assert months == expected
    np.testing.assert_array_equal(passengers[:4], [112, 118, 132, 129])
    np.testing.assert_array_equal(passengers[-3:], [461, 390, 432])


def test_seattle_weather_file_is_the_original():
    """sha256 of the decompressed file equals the wheel's file (recorded in the README)."""
    packed = resources.files("minirnn.data").joinpath(
        "files", "seattle_weather", "seattle-weather.csv.gz").read_bytes()
    digest = hashlib.sha256(gzip.decompress(packed)).hexdigest()
    assert digest == "62f0609f787158128aa2bd102967173a4953122dd4f872bf1d502cae1037df0b"


def test_seattle_weather_shapes_dates_and_values():
    weather = data.load_seattle_weather()
    assert set(weather) == {"date", *data.WEATHER_COLUMNS, "weather"}
    assert all(column.shape == (1461,) for column in weather.values())
    dates = weather["date"]
    assert dates.dtype == np.dtype("datetime64[D]")
    assert str(dates[0]) == "2012-01-01" and str(dates[-1]) == "2015-12-31"
    assert np.all(np.diff(dates) == np.timedelta64(1, "D"))      # daily, no gap, in order
    assert "2012-02-29" in dates.astype(str) and "2013-02-29" not in dates.astype(str)
    for name in data.WEATHER_COLUMNS:
        assert weather[name].dtype == np.float64 and np.isfinite(weather[name]).all()
    assert np.all(weather["temp_min"] <= weather["temp_max"])
    assert weather["precipitation"].min() == 0.0 and weather["precipitation"].max() == 55.9
    # the first and last rows of the file, read by eye
    first = [weather[name][0] for name in data.WEATHER_COLUMNS]
    last = [weather[name][-1] for name in data.WEATHER_COLUMNS]
    assert first == [0.0, 12.8, 5.0, 4.7] and weather["weather"][0] == "drizzle"
    assert last == [0.0, 5.6, -2.1, 3.5] and weather["weather"][-1] == "sun"
    labels, counts = np.unique(weather["weather"], return_counts=True)
    assert dict(zip(labels.tolist(), counts.tolist())) == {
        "drizzle": 54, "fog": 411, "rain": 259, "snow": 23, "sun": 714}


# ---------------------------------------------------------------- vocabulary

def test_tokenize_rule():
    assert data.tokenize("It's a 10/10 film!") == ["it's", "a", "10", "10", "film"]
    assert data.tokenize("The ''Conan'' -- co-writer_x") == ["the", "conan", "co", "writer", "x"]
    assert data.tokenize("Café  ÉTÉ") == ["café", "été"]
    assert data.tokenize("...") == []
    with pytest.raises(TypeError, match="text"):
        data.tokenize(3)


def test_vocabulary_fit_orders_by_count_then_alphabet():
    texts = ["The cat sat.", "the dog sat on the mat"]
    vocab = data.Vocabulary.fit(texts)
    assert vocab.words == ["the", "sat", "cat", "dog", "mat", "on"]
    assert len(vocab) == 8
    assert vocab.word_to_id["the"] == 2 and vocab.word_to_id["on"] == 7
    small = data.Vocabulary.fit(texts, max_words=2)
    assert small.words == ["the", "sat"] and len(small) == 4
    with pytest.raises(ValueError, match="max_words"):
        data.Vocabulary.fit(texts, max_words=0)
    with pytest.raises(TypeError, match="texts"):
        data.Vocabulary.fit("the cat sat")
    with pytest.raises(ValueError, match="repeat"):
        data.Vocabulary(["a", "a"])


def test_encode_pads_right_truncates_end_and_marks_oov():
    vocab = data.Vocabulary(["the", "sat", "cat"])           # ids 2, 3, 4
    ids, lengths = vocab.encode(["the cat sat on the mat", "cat", "!!"], max_len=4)
    assert ids.dtype == np.int64 and lengths.dtype == np.int64
    np.testing.assert_array_equal(ids, [[2, 4, 3, 1], [4, 0, 0, 0], [0, 0, 0, 0]])
    np.testing.assert_array_equal(lengths, [4, 1, 0])
    assert vocab.decode(ids, lengths) == ["the cat sat <unk>", "cat", ""]
    assert vocab.decode(ids) == ["the cat sat <unk>", "cat", ""]
    ids, lengths = vocab.encode(["cat", "the cat sat"])      # max_len = longest text
    assert ids.shape == (2, 3)
    with pytest.raises(ValueError, match="max_len"):
        vocab.encode(["cat"], max_len=0)
    with pytest.raises(ValueError, match="ids"):
        vocab.decode(np.array([[5]]))


def test_vocabulary_round_trip_on_movie_reviews(movie_reviews):
    texts, _ = movie_reviews
    vocab = data.Vocabulary.fit(texts)
    ids, lengths = vocab.encode(texts)
    assert ids.shape == (10605, 51)
    assert not np.any(ids == data.OOV_ID)
    assert vocab.decode(ids, lengths) == [" ".join(data.tokenize(t)) for t in texts]
    top = data.Vocabulary.fit(texts, max_words=5000)
    assert len(top) == 5002 and top.words[:3] == ["the", "a", "and"]
    ids5k, lengths5k = top.encode(texts, max_len=51)
    np.testing.assert_array_equal(lengths5k, lengths)
    oov = (ids5k == data.OOV_ID)
    assert oov.any() and not np.any(oov & (ids == data.PAD_ID))   # OOV only inside the text


# ---------------------------------------------------------------- a^n b^n

def test_anbn_strings_targets_and_masks():
    ns = list(range(1, 13))
    task = data.anbn(ns)
    T = 2 * 12 + 1
    assert task["x"].shape == (12, T, 4) and task["x"].dtype == np.float64
    assert task["targets"].shape == (12, T) and task["allowed"].shape == (12, T, 4)
    symbols = "".join(data.ANBN_SYMBOLS)
    for row, n in enumerate(ns):
        length = 2 * n + 1
        assert task["lengths"][row] == length and task["n"][row] == n
        string = "S" + "a" * n + "b" * n + "T"
        x = task["x"][row]
        assert np.all(x[:length].sum(axis=1) == 1) and np.all(x[length:] == 0)
        reads = "".join(symbols[i] for i in x[:length].argmax(axis=1))
        assert reads == string[:-1]
        assert reads.count("a") == n and reads.count("b") == n and "ba" not in reads
        assert "".join(symbols[i] for i in task["targets"][row, :length]) == string[1:]
        assert task["valid"][row].tolist() == [t < length for t in range(T)]
        # predictable: after S (always an a) and after every b
        expected_predictable = [t == 0 or (t < length and string[t] == "b") for t in range(T)]
        assert task["predictable"][row].tolist() == expected_predictable
        assert task["predictable"][row].sum() == n + 1
        for t in range(T):
            allowed = {symbols[i] for i in np.flatnonzero(task["allowed"][row, t])}
            if t >= length:
                assert allowed == set()
            elif string[t] == "a":
                assert allowed == {"a", "b"}
            else:
                assert allowed == {string[t + 1]}
    with pytest.raises(ValueError, match="ns"):
        data.anbn([0, 3])


# ---------------------------------------------------------------- brackets

def depth_and_balance(string):
    """Independent witness: a running counter and a stack."""
    depth, depths, stack, ok = 0, [], [], True
    for c in string:
        depth += 1 if c == "(" else -1
        depths.append(depth)
        if c == "(":
            stack.append(c)
        elif stack:
            stack.pop()
        else:
            ok = False
    return depths, ok and not stack


def as_string(symbols):
    return "".join("()"[s] for s in symbols)


@pytest.mark.parametrize("T", range(1, 11))
def test_all_brackets_exhaustive(T):
    task = data.all_brackets(T)
    assert task["x"].shape == (2 ** T, T, 2) and task["depth"].dtype == np.int64
    strings = [as_string(s) for s in task["symbols"]]
    assert len(set(strings)) == 2 ** T
    for string, depth, balanced in zip(strings, task["depth"], task["balanced"]):
        expected_depth, expected_balanced = depth_and_balance(string)
        assert depth.tolist() == expected_depth and balanced == expected_balanced
        if balanced:
            assert depth.min() >= 0
    catalan = comb(T, T // 2) // (T // 2 + 1) if T % 2 == 0 else 0
    assert task["balanced"].sum() == catalan


def test_brackets_from_strings():
    task = data.brackets(["(())", "())(", "(((("])
    np.testing.assert_array_equal(task["depth"], [[1, 2, 1, 0], [1, 0, -1, 0], [1, 2, 3, 4]])
    np.testing.assert_array_equal(task["balanced"], [True, False, False])
    np.testing.assert_array_equal(task["x"][0], [[1, 0], [1, 0], [0, 1], [0, 1]])
    with pytest.raises(ValueError, match="same length"):
        data.brackets(["()", "(())"])
    with pytest.raises(ValueError, match="symbols"):
        data.brackets(np.array([[0, 2]]))


def test_random_brackets_balance_and_hard_negatives():
    task = data.random_brackets(300, 40, balanced_fraction=0.5, seed=7)
    assert task["symbols"].shape == (300, 40)
    assert task["balanced"].sum() == 150
    for symbols, depth, balanced in zip(task["symbols"], task["depth"], task["balanced"]):
        expected_depth, expected_balanced = depth_and_balance(as_string(symbols))
        assert depth.tolist() == expected_depth and balanced == expected_balanced
        assert depth[-1] == 0                          # equal counts in every string
        assert (depth.min() >= 0) == balanced          # negatives dip below zero
    assert 0 < task["balanced"][:150].sum() < 150      # classes are interleaved
    long = data.random_brackets(4, 1000, seed=1)
    assert long["balanced"].sum() == 2 and long["depth"].shape == (4, 1000)
    assert data.random_brackets(5, 2, balanced_fraction=0.0)["balanced"].sum() == 0
    assert data.random_brackets(5, 2, balanced_fraction=1.0)["balanced"].sum() == 5
    with pytest.raises(ValueError, match="even"):
        data.random_brackets(4, 9)


def test_random_balanced_brackets_are_uniform():
    """The 5 balanced strings of length 6 each appear about 1/5 of the time (sd ~28 of 1000)."""
    task = data.random_brackets(5000, 6, balanced_fraction=1.0, seed=0)
    strings, counts = np.unique([as_string(s) for s in task["symbols"]], return_counts=True)
    assert sorted(strings) == ["((()))", "(()())", "(())()", "()(())", "()()()"]
    assert counts.min() > 850 and counts.max() < 1150


def test_random_generators_are_deterministic_by_seed():
    for make in (lambda s: data.random_brackets(20, 12, seed=s)["symbols"],
                 lambda s: data.parity(30, num=20, seed=s)["bits"],
                 lambda s: data.majority(30, num=20, seed=s)["bits"],
                 lambda s: data.two_timescale(3, T=50, seed=s)["x"],
                 lambda s: data.two_timescale(3, T=50, kind="ar", seed=s)["y"]):
        np.testing.assert_array_equal(make(5), make(5))
        assert not np.array_equal(make(5), make(6))


# ---------------------------------------------------------------- parity and majority

@pytest.mark.parametrize("T", [1, 3, 8])
def test_all_bit_strings_count_in_binary(T):
    bits = data.all_bit_strings(T)
    assert bits.shape == (2 ** T, T)
    assert ["".join(map(str, row)) for row in bits] == [format(i, f"0{T}b") for i in range(2 ** T)]


def test_parity_labels():
    task = data.parity(10)
    assert task["x"].shape == (1024, 10, 1) and task["x"].dtype == np.float64
    np.testing.assert_array_equal(task["y"], task["bits"].sum(axis=1) % 2)
    for bits, y_seq in zip(task["bits"][::37], task["y_seq"][::37]):
        running, expected = 0, []
        for b in bits:
            running ^= int(b)
            expected.append(running)
        assert y_seq.tolist() == expected
    assert task["y"].sum() == 512
    random = data.parity(100, num=64, seed=2)
    assert random["bits"].shape == (64, 100)
    np.testing.assert_array_equal(random["y"], random["bits"].sum(axis=1) % 2)
    with pytest.raises(ValueError, match="T <= 20"):
        data.parity(tasks.MAX_EXHAUSTIVE_T + 1)


@pytest.mark.parametrize("T", [7, 8])
def test_majority_labels_and_ties(T):
    task = data.majority(T)
    strings = ["".join(map(str, row)) for row in task["bits"]]
    expected = [1 if s.count("1") > s.count("0") else 0 for s in strings]
    np.testing.assert_array_equal(task["y"], expected)
    np.testing.assert_array_equal(task["ones"], [s.count("1") for s in strings])
    for s, y_seq in zip(strings[::11], task["y_seq"][::11]):
        assert y_seq.tolist() == [int(s[:t + 1].count("1") > s[:t + 1].count("0"))
                                  for t in range(T)]
    if T == 8:                                        # ties (four ones) are labelled 0
        assert task["y"][strings.index("00001111")] == 0
        assert task["y"].sum() == sum(comb(8, k) for k in range(5, 9))


# ---------------------------------------------------------------- two timescales

def test_two_timescale_sine_components():
    task = data.two_timescale(4, T=256, fast=8.0, slow=64.0, noise_std=0.0, seed=1)
    assert task["x"].shape == (4, 256, 1) and task["y"].shape == (4, 256, 2)
    np.testing.assert_allclose(task["x"][..., 0], task["y"].sum(axis=-1), atol=1e-12)
    np.testing.assert_array_equal(task["y"][..., 0], task["slow"])
    # 256 steps hold 4 slow periods and 32 fast ones: the spectral peaks sit at bins 4 and 32
    assert np.all(np.abs(np.fft.rfft(task["slow"], axis=1)).argmax(axis=1) == 4)
    assert np.all(np.abs(np.fft.rfft(task["fast"], axis=1)).argmax(axis=1) == 32)
    amplitudes = np.abs(task["y"]).max(axis=1)
    assert np.all((amplitudes > 0.45) & (amplitudes < 1.55))
    noisy = data.two_timescale(200, T=256, noise_std=0.1, seed=1)
    residual = noisy["x"][..., 0] - noisy["y"].sum(axis=-1)
    assert abs(residual.std() - 0.1) < 0.005


def test_two_timescale_ar_components():
    task = data.two_timescale(400, T=300, fast=2.0, slow=30.0, kind="ar", noise_std=0.0, seed=0)
    for name, tau in (("slow", 30.0), ("fast", 2.0)):
        s = task[name]
        assert abs(s.var() - 1.0) < 0.1
        lag1 = np.mean(s[:, 1:] * s[:, :-1]) / np.mean(s * s)
        assert abs(lag1 - np.exp(-1 / tau)) < 0.03
    with pytest.raises(ValueError, match="kind"):
        data.two_timescale(2, kind="square")
    with pytest.raises(ValueError, match="fast"):
        data.two_timescale(2, fast=10.0, slow=5.0)
