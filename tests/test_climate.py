"""Climate: the two shipped NOAA series and their loaders, the train/test split, the seasonal AR
baseline of demos/climate.py on a synthetic series with a known coefficient, and the demo's main
on a tiny setting."""
import gzip
import hashlib
import runpy
from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from minirnn import data

DEMO = Path(__file__).resolve().parent.parent / "demos" / "climate.py"


@pytest.fixture(scope="module")
def demo():
    return runpy.run_path(str(DEMO), run_name="climate_demo")


@pytest.mark.parametrize("name, digest", [
    ("elnino.csv.gz", "b647be00e0fd264be9764e317e6b963f35030014ecca2b21b204521716e463ad"),
    ("co2.csv.gz", "16695fa2786e53414e5a6b54767a3fdf5de99cfbc68617f69d1362d92776a92f")])
def test_files_are_the_originals_with_readme_and_licence(name, digest):
    files = resources.files("minirnn.data").joinpath("files", "climate")
    assert hashlib.sha256(gzip.decompress(files.joinpath(name).read_bytes())).hexdigest() == digest
    assert digest in files.joinpath("README.md").read_text(encoding="utf-8")
    assert "Redistribution and use" in files.joinpath("LICENSE.txt").read_text(encoding="utf-8")


def test_elnino_shapes_dates_and_values_read_by_eye():
    nino = data.load_elnino()
    assert nino["date"].shape == nino["sst"].shape == (732,)
    assert nino["date"][0] == np.datetime64("1950-01") and nino["date"][-1] == np.datetime64("2010-12")
    assert np.all(np.diff(nino["date"]) == np.timedelta64(1, "M"))      # monthly, no gaps
    np.testing.assert_array_equal(nino["sst"][:3], [23.11, 24.2, 25.37])
    np.testing.assert_array_equal(nino["sst"][-2:], [20.44, 22.07])


def test_co2_shapes_dates_gaps_and_values_read_by_eye():
    co2 = data.load_co2()
    assert co2["date"].shape == co2["co2"].shape == (2284,)
    assert np.all(np.diff(co2["date"]) == np.timedelta64(7, "D"))       # weekly, no gaps
    assert np.isnan(co2["co2"]).sum() == 59
    np.testing.assert_array_equal(co2["co2"][:2], [316.1, 317.3])
    assert co2["co2"][-1] == 371.5
    filled = data.fill_gaps(co2["co2"])
    assert np.isfinite(filled).all() and np.nanmin(co2["co2"]) <= filled.min()


def test_fill_gaps_and_decimal_year_hand_cases():
    np.testing.assert_array_equal(data.fill_gaps([np.nan, 1.0, np.nan, 3.0, np.nan]),
                                  [1.0, 1.0, 2.0, 3.0, 3.0])
    with pytest.raises(ValueError, match="at least one finite"):
        data.fill_gaps([np.nan])
    years = data.decimal_year(np.array(["2001-01-01", "2001-07-02", "2004-12-31"],
                                       dtype="datetime64[D]"))
    np.testing.assert_allclose(years, [2001.0, 2001 + 182 / 365, 2004 + 365 / 366])


@pytest.mark.parametrize("load, years, first_test", [
    (data.load_elnino, 10, "2001-01"), (data.load_co2, 6, "1996-01-06")])
def test_final_years_split_has_no_leakage(load, years, first_test):
    dates = load()["date"]
    train_end = data.final_years_split(dates, years)
    assert str(dates[train_end]) == first_test
    assert dates[:train_end].max() < dates[train_end:].min()            # train strictly before
    test_years = np.unique(dates[train_end:].astype("datetime64[Y]"))
    assert len(test_years) == years
    assert not np.isin(dates[:train_end].astype("datetime64[Y]"), test_years).any()
    with pytest.raises(ValueError, match="years must be"):
        data.final_years_split(dates, 0)
    with pytest.raises(ValueError, match="increasing"):
        data.final_years_split(dates[::-1], 1)


def test_training_windows_never_reach_the_test_part(demo):
    z = np.arange(100.0)
    x, y, mask = demo["training_windows"](z, 60, (1, 5), 30, 4)
    assert x.shape[1:] == (30, 1) and y.shape[1:] == (30, 2)
    assert x.max() < 60 and y.max() < 60                                # targets too
    np.testing.assert_array_equal(y[0, :, 1], z[5:35])


def test_seasonal_ar_recovers_a_known_coefficient(demo):
    """z_t = 0.7 z_{t-1} + noise + an annual cycle, 24 steps a year: the horizon-1 fit gives the
    lag-1 coefficient 0.7 (the harmonics take the cycle) and a near-zero seasonal lag."""
    rng = np.random.default_rng(0)
    T, per_year = 4000, 24
    years = 2000 + np.arange(T) / per_year
    anomaly = np.zeros(T)
    for t in range(1, T):
        anomaly[t] = 0.7 * anomaly[t - 1] + rng.normal()
    z = anomaly + 3 * np.cos(2 * np.pi * years)
    coefficients, forecast = demo["fit_seasonal_ar"](z, years, 3000, 1, 2, per_year)
    lags = coefficients[1 + 2 * demo["HARMONICS"]:]
    assert abs(lags[0] - 0.7) < 0.05 and abs(lags[1]) < 0.05 and abs(lags[2]) < 0.05
    error = np.sqrt(np.mean((forecast[3000:-1] - z[3001:]) ** 2))
    assert 0.9 < error < 1.1                                            # the noise's sd
    with pytest.raises(ValueError, match="same length"):
        demo["fit_seasonal_ar"](z, years[:-1], 3000, 1, 2, per_year)


def test_main_tiny_setting(demo, tmp_path):
    summary = demo["main"]([str(tmp_path), "--seeds", "1", "--epochs", "2", "--series",
                            "elnino", "--limit", "400"])
    result = summary["series"]["elnino"]
    assert result["length"] == 400 and result["test_start"] == "2001-01"
    for rmse in [*result["lstm_rmse"][0], *result["baseline_rmse"]["seasonal AR"]]:
        assert 0 < rmse < 5                                             # deg C, finite
    # the seasonal AR beats persistence at 6 months (half a season out of phase)
    assert result["baseline_rmse"]["seasonal AR"][2] < result["baseline_rmse"]["persistence"][2]
    assert len(result["tau_h"][0]) == 3 and summary["verdict"] in ("held", "partly",
                                                                    "did not hold")
    for name in ("spectra.png", "lesions.png", "forecasts.png", "results.json"):
        assert (tmp_path / name).is_file()
