"""Two climate series from NOAA, as statsmodels 0.15.0 ships them, and the helpers that split a
dated series into training years and held-out final years.

Shape legend: T time steps of a series.

    nino = load_elnino()            # monthly Nino 1+2 sea-surface temperature, 1950-2010
    co2 = load_co2()                # weekly Mauna Loa CO2, 1958-2001
    train_end = final_years_split(nino["date"], 10)   # nino["sst"][:train_end] is 1950-2000

Both loaders return a dict of (T,) arrays in date order: "date" and the value. The files and
their source are described in minirnn/data/files/climate/README.md;
minirnn/data/make_climate_files.py rebuilds them from the wheel.
"""
import csv
import gzip

import numpy as np

from .datasets import data_file

MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def read_csv_rows(name):
    """The rows (lists of str) of a gzipped csv in files/climate/, header first."""
    with data_file("climate", name).open("rb") as raw:
        with gzip.open(raw, "rt", encoding="utf-8") as text:
            return list(csv.reader(text))


def load_elnino():
    """Monthly mean sea-surface temperature of the Nino 1+2 region (0-10 S, 90-80 W), deg C,
    January 1950 to December 2010 (NOAA ERSST v3b).

    Returns {"date": (732,) datetime64[M], "sst": (732,) float64}, one row per month, no gaps.
    """
    rows = read_csv_rows("elnino.csv.gz")
    header, rows = rows[0], rows[1:]      # "YEAR", then one column per month
    if tuple(header[1:]) != MONTHS:
        raise ValueError(f"elnino.csv.gz: expected the columns YEAR, {', '.join(MONTHS)}; "
                         f"got {header}")
    dates = [f"{row[0]}-{month:02d}" for row in rows for month in range(1, 13)]
    return {"date": np.array(dates, dtype="datetime64[M]"),
            "sst": np.array([float(v) for row in rows for v in row[1:]])}


def load_co2():
    """Weekly mean atmospheric CO2 at Mauna Loa, ppm by volume, 1958-03-29 to 2001-12-29 (the
    Scripps continuous record): one row every 7 days.

    Returns {"date": (2284,) datetime64[D], "co2": (2284,) float64}; the 59 weeks without a
    measurement are NaN (fill them before use, e.g. with `fill_gaps`).
    """
    rows = read_csv_rows("co2.csv.gz")[1:]   # header "date,co2"; dates as YYYYMMDD
    dates = [f"{d[:4]}-{d[4:6]}-{d[6:]}" for d, _ in rows]
    return {"date": np.array(dates, dtype="datetime64[D]"),
            "co2": np.array([float(v) if v else np.nan for _, v in rows])}


def fill_gaps(values):
    """(T,) values with each NaN replaced by linear interpolation between its neighbours (the
    nearest value at either end)."""
    values = np.asarray(values, dtype=np.float64)
    known = np.isfinite(values)
    if not known.any():
        raise ValueError(f"values must hold at least one finite number; got {values.size} NaNs")
    steps = np.arange(values.size)
    return np.interp(steps, steps[known], values[known])


def decimal_year(dates):
    """(T,) float years, e.g. 1950.0 for 1950-01-01 and about 1950.5 for 1950-07-02."""
    days = np.asarray(dates, dtype="datetime64[D]")
    years = days.astype("datetime64[Y]")
    start = years.astype("datetime64[D]")
    length = (years + 1).astype("datetime64[D]") - start
    return years.astype(np.int64) + 1970 + (days - start) / length


def final_years_split(dates, years):
    """The index train_end that holds out the last `years` calendar years of the dated series
    (T,): dates[:train_end] are earlier years, dates[train_end:] the final `years` years."""
    calendar = np.asarray(dates).astype("datetime64[Y]")
    if not isinstance(years, (int, np.integer)) or not 1 <= years < len(np.unique(calendar)):
        raise ValueError(f"years must be an int in [1, {len(np.unique(calendar))}) (the "
                         f"series' calendar years); got {years!r}")
    if np.any(np.diff(np.asarray(dates)) <= np.timedelta64(0)):
        raise ValueError("dates must be strictly increasing")
    return int(np.searchsorted(calendar, calendar[-1] - (years - 1)))
