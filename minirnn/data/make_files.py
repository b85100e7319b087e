"""Rebuild the data files shipped in minirnn/data/files/ from the published archives.

Not needed at run time (the files are in the package); kept so anyone can check how they were
made. Fetch the two archives, then run this module:

    pip download --no-deps --no-binary :all: vaderSentiment==3.3.2 -d /tmp/vader
    pip download --no-deps sktime==1.2.0 -d /tmp/sk
    python -m minirnn.data.make_files /tmp/vader/vaderSentiment-3.3.2.tar.gz \
        /tmp/sk/sktime-1.2.0-py3-none-any.whl

What it writes (each folder also holds a hand-written README.md, which this script leaves alone):
    movie_reviews/movieReviewSnippets_GroundTruth.txt.gz   the original file, byte for byte, gzipped
    movie_reviews/LICENSE.txt                              vaderSentiment's MIT licence
    japanese_vowels/japanese_vowels.npz                    the .ts files parsed to zero-padded arrays
    airline/Airline.csv                                    the original file, unchanged
    japanese_vowels/LICENSE.txt, airline/LICENSE.txt       sktime's BSD-3-Clause licence
"""
import gzip
import io
import sys
import tarfile
import zipfile
from pathlib import Path

import numpy as np

FILES = Path(__file__).parent / "files"
VADER_INNER = "hutto_ICWSM_2014/movieReviewSnippets_GroundTruth.txt"
SKTIME_DATA = "sktime/datasets/data"
LICENCE_SUFFIXES = tuple(f".dist-info/{folder}LICENSE{ext}" for folder in ("licenses/", "")
                         for ext in ("", ".txt"))
VOWELS_MAX_LEN = 29   # longest utterance over train and test; both splits are padded to it
VOWELS_CHANNELS = 12


def write_movie_reviews(sdist_path):
    """Copy the snippet file out of the tarball inside the sdist, gzipped with a fixed mtime."""
    with tarfile.open(sdist_path) as sdist:
        prefix = sdist.getnames()[0].split("/")[0]
        inner = sdist.extractfile(f"{prefix}/additional_resources/hutto_ICWSM_2014.tar.gz").read()
        licence = sdist.extractfile(f"{prefix}/LICENSE.txt").read()
    with tarfile.open(fileobj=io.BytesIO(inner)) as hutto:
        snippets = hutto.extractfile(VADER_INNER).read()
    folder = FILES / "movie_reviews"
    write_gzipped(folder / "movieReviewSnippets_GroundTruth.txt.gz", snippets)
    (folder / "LICENSE.txt").write_bytes(licence)


def wheel_licence(wheel):
    """The bytes of a wheel's licence: the first file of its .dist-info named LICENSE or
    LICENSE.txt, directly there or in licenses/. wheel: an open zipfile.ZipFile."""
    return next(wheel.read(name) for name in wheel.namelist()
                if name.endswith(LICENCE_SUFFIXES))


def write_gzipped(path, content):
    """Write the bytes `content` to path gzipped (level 9, header mtime 0, no file name: the same
    content always gives the same file), creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as out:
            out.write(content)


def parse_ts(text):
    """A multivariate .ts file (sktime/UEA format) -> (list of (T_i, D) arrays, list of labels).

    After the '@data' line each row is 'ch1_t1,ch1_t2,...:ch2_t1,...:...:label'."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data") + 1
    series, labels = [], []
    for row in lines[start:]:
        if not row.strip():
            continue
        *channels, label = row.split(":")
        series.append(np.array([[float(v) for v in ch.split(",")] for ch in channels]).T)
        labels.append(label)
    return series, labels


def pad(series, max_len):
    """List of (T_i, D) arrays -> (N, max_len, D) zero-padded at the end, and lengths (N,)."""
    X = np.zeros((len(series), max_len, series[0].shape[1]))
    for n, s in enumerate(series):
        X[n, :len(s)] = s
    return X, np.array([len(s) for s in series], dtype=np.int64)


def write_sktime_files(wheel_path):
    """JapaneseVowels .ts -> one .npz of padded arrays; Airline.csv copied unchanged."""
    with zipfile.ZipFile(wheel_path) as wheel:
        read = lambda name: wheel.read(f"{SKTIME_DATA}/{name}")
        licence = wheel_licence(wheel)
        arrays = {}
        for split, file_split in (("train", "TRAIN"), ("test", "TEST")):
            series, labels = parse_ts(read(f"JapaneseVowels/JapaneseVowels_{file_split}.ts").decode())
            assert all(s.shape[1] == VOWELS_CHANNELS for s in series)
            arrays[f"X_{split}"], arrays[f"lengths_{split}"] = pad(series, VOWELS_MAX_LEN)
            arrays[f"y_{split}"] = np.array([int(label) - 1 for label in labels], dtype=np.int64)
        airline = read("Airline/Airline.csv")
    for name in ("japanese_vowels", "airline"):
        (FILES / name).mkdir(parents=True, exist_ok=True)
        (FILES / name / "LICENSE.txt").write_bytes(licence)
    np.savez_compressed(FILES / "japanese_vowels" / "japanese_vowels.npz", **arrays)
    (FILES / "airline" / "Airline.csv").write_bytes(airline)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m minirnn.data.make_files VADER_SDIST.tar.gz SKTIME_WHEEL.whl")
    write_movie_reviews(sys.argv[1])
    write_sktime_files(sys.argv[2])
