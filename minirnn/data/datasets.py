"""Loaders for the small real data sets shipped inside the package (no download at run time).

Shape legend: N sequences, T time steps, D features per step.

    texts, scores = load_movie_reviews()      # 10,605 snippets, mean human rating in [-4, 4]
    labels = sentiment_labels(scores)         # 1 where score > 0, else 0
    vowels = load_japanese_vowels()           # dict: X_train (270, 29, 12), lengths_train, y_train, ...
    months, passengers = load_airline()       # 144 monthly totals, 1949-01 .. 1960-12
    weather = load_seattle_weather()          # dict: date (1461,), temp_max, ... per day

Each file's folder in minirnn/data/files/ has a README.md with its source, licence and changes;
minirnn/data/make_files.py rebuilds the files from the published archives
(make_weather_files.py the weather file).
"""
import csv
import gzip
from importlib import resources

import numpy as np


def data_file(folder, name):
    """A Traversable for minirnn/data/files/<folder>/<name> (works for any installed layout)."""
    return resources.files(__package__).joinpath("files", folder, name)


def load_movie_reviews():
    """The VADER movie-review snippets: sentences from Rotten Tomatoes reviews, each with the mean
    sentiment rating of at least 20 human raters on a -4 (most negative) .. +4 (most positive) scale.

    Returns texts (list of 10,605 str) and scores (10,605,) float64, in the file's order.
    The file lists mostly positive snippets first (about 94% of the first 5,300 have score > 0)
    and mostly negative ones after (about 5% positive): shuffle before any train/test split,
    e.g. with `shuffled_split`.
    """
    texts, scores = [], []
    with data_file("movie_reviews", "movieReviewSnippets_GroundTruth.txt.gz").open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as lines:
            for line in lines:
                _, score, text = line.rstrip("\n").split("\t", 2)   # id, mean rating, snippet
                texts.append(text)
                scores.append(float(score))
    return texts, np.array(scores)


def sentiment_labels(scores):
    """Binary labels from the mean ratings: 1 (positive) where score > 0, else 0.

    The rule puts the 37 snippets rated exactly 0 in class 0; the classes are then
    5,242 positive (49.4%) and 5,363 not positive (50.6%). Returns (N,) int64."""
    return (np.asarray(scores) > 0).astype(np.int64)


def shuffled_split(num, test_fraction=0.2, seed=0):
    """Indices of a seeded random split of range(num): (train_idx, test_idx), each sorted.

    The test part has round(test_fraction * num) items."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1); got {test_fraction}")
    order = np.random.default_rng(seed).permutation(num)
    num_test = int(round(test_fraction * num))
    return np.sort(order[num_test:]), np.sort(order[:num_test])


def load_japanese_vowels():
    """UCI/UEA JapaneseVowels: 9 male speakers saying the vowel pair /ae/, as 12 LPC cepstrum
    coefficients per frame. The task is to name the speaker.

    Returns a dict of arrays:
        X_train (270, 29, 12) float64, lengths_train (270,) int64, y_train (270,) int64
        X_test  (370, 29, 12) float64, lengths_test  (370,) int64, y_test  (370,) int64
    Utterances last 7..29 frames; sequence n holds its frames in X[n, :lengths[n]] and zeros after
    (both splits are padded to 29, the longest utterance in either). y is the speaker 0..8
    (speaker k of the original files is label k - 1). The training set has 30 utterances per
    speaker; the test set 24..88.
    """
    with data_file("japanese_vowels", "japanese_vowels.npz").open("rb") as raw:
        with np.load(raw, allow_pickle=False) as arrays:
            return {name: arrays[name] for name in arrays.files}


def load_airline():
    """Box & Jenkins' monthly international airline passengers (thousands), January 1949 to
    December 1960.

    Returns months (list of 144 str, 'YYYY-MM') and passengers (144,) float64."""
    with data_file("airline", "Airline.csv").open("r", encoding="utf-8") as text:
        rows = list(csv.reader(text))
    months = [month for month, _ in rows[1:]]          # rows[0] is the header Date,Passengers
    return months, np.array([float(count) for _, count in rows[1:]])


WEATHER_COLUMNS = ("precipitation", "temp_max", "temp_min", "wind")


def load_seattle_weather():
    """Daily weather in Seattle, 2012-01-01 to 2015-12-31 (1,461 days, no gaps), NOAA's records
    as vega_datasets ships them.

    Returns a dict of (1461,) arrays in date order:
        date           datetime64[D]
        precipitation  float64, mm of the day
        temp_max       float64, the day's highest temperature, deg C
        temp_min       float64, the day's lowest temperature, deg C
        wind           float64, mean wind speed, m/s
        weather        str, one of drizzle, fog, rain, snow, sun
    """
    with data_file("seattle_weather", "seattle-weather.csv.gz").open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as text:
            rows = list(csv.reader(text))
    header, rows = rows[0], rows[1:]   # date,precipitation,temp_max,temp_min,wind,weather
    columns = dict(zip(header, zip(*rows)))
    weather = {"date": np.array([day.replace("/", "-") for day in columns["date"]],
                                dtype="datetime64[D]")}
    weather.update({name: np.array(columns[name], dtype=np.float64) for name in WEATHER_COLUMNS})
    weather["weather"] = np.array(columns["weather"])
    return weather
