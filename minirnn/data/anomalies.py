"""Two physiological series with one labelled anomaly each, for anomaly detection trained on
normal data only.

Shape legend: T time steps of the series.

    bleeding = load_ucr_internal_bleeding()   # UCR archive no. 135: 7,501 points
    ecg = load_mitbih_ecg()                   # MIT-BIH ECG excerpt: 7,500 points

Both return the same dict:
    series     (T,) float64, the whole series in time order
    labels     (T,) bool, True on the labelled anomaly
    train_end  int: series[:train_end] is the normal training part (no label in it),
               series[train_end:] the test part, which holds the whole labelled window
    window     (start, end): the labelled anomaly is series[start:end] (labels True exactly there)

The files and their sources are described in minirnn/data/files/ucr_internal_bleeding/ and
mitbih_ecg/ (README.md); minirnn/data/make_anomaly_files.py rebuilds them from the wheels.
"""
import csv
import gzip

import numpy as np

from .datasets import data_file

UCR_TRAIN_END = 1200    # aeon's TRAIN file is the first 1,200 points of its TEST file
MITBIH_TRAIN_END = 2500  # our choice: the source gives no split (9 normal beats)


def read_labelled_csv(folder, name, value_column, label_column):
    """(values (T,) float64, labels (T,) bool) from a gzipped csv with a header row."""
    with data_file(folder, name).open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as text:
            rows = list(csv.DictReader(text))
    return (np.array([float(row[value_column]) for row in rows]),
            np.array([row[label_column] == "1" for row in rows]))


def labelled_series(series, labels, train_end):
    """The loaders' dict; checks that the labels form one window inside the test part."""
    where = np.flatnonzero(labels)
    if where.size == 0 or where[-1] - where[0] + 1 != where.size or where[0] < train_end:
        raise ValueError(f"labels must mark one run of steps after train_end={train_end}; "
                         f"got {where.size} labelled steps starting at "
                         f"{where[0] if where.size else None}")
    return {"series": series, "labels": labels, "train_end": train_end,
            "window": (int(where[0]), int(where[-1]) + 1)}


def load_ucr_internal_bleeding():
    """UCR anomaly archive no. 135, InternalBleeding16, as aeon 1.6.0 ships it: a pulsatile
    physiological signal (values 55.7 .. 104.5, one pulse about every 183 steps).

    Returns the module's dict with T = 7,501: train_end 1,200 (the archive's own split, the
    points aeon's TRAIN file holds) and window (4187, 4199), twelve steps of fast jitter on the
    falling edge of one pulse.
    """
    series, labels = read_labelled_csv("ucr_internal_bleeding",
                                       "135_UCR_Anomaly_InternalBleeding16_TEST.csv.gz",
                                       "value", "is_anomaly")
    return labelled_series(series, labels, UCR_TRAIN_END)


def load_mitbih_ecg():
    """An ECG excerpt from the MIT-BIH Arrhythmia Database, as sktime 1.2.0 ships it (mitdb.csv:
    one channel, values -0.595 .. 1.245; beats every 278 .. 311 steps, 0.8 s at MIT-BIH's
    360 samples per second).

    Returns the module's dict with T = 7,500: train_end 2,500 (our choice; the first nine beats)
    and window (6936, 7288), which holds a premature beat (at step 7080, 198 steps after the beat
    before it) and the long pause after it (350 steps).
    """
    series, labels = read_labelled_csv("mitbih_ecg", "mitdb.csv.gz", "data", "label")
    return labelled_series(series, labels, MITBIH_TRAIN_END)
