"""Light curves of flaring stars and of a star with a transiting planet, shipped in the package,
cut into fixed-length windows labelled quiet, flare or transit by the rule below.

Shape legend: N windows, T points per window, P points of a light curve.

    curves = load_light_curves()           # {key: {"time": (P,), "flux": (P,), "star", ...}}
    windows = load_light_curve_windows()   # dict: x_train (N, T), y_train, curve_train, ...

The light curves (minirnn/data/files/light_curves/README.md has their source and licence):
TESS 2-minute photometry of the M dwarf TIC 358108509 (sector 1) and of WASP-6, whose planet
transits every 3.36 days (sector 2); Kepler / K2 30-minute photometry of the spotted, flaring
stars KIC 10002792 (quarters 2 and 5) and EPIC 211117077 (campaign 4).

The labelling rule, applied to each light curve on its own:
1. Stretches: a new stretch starts wherever two consecutive points are more than GAP_CADENCES
   cadences apart; a window never spans two stretches.
2. Transits (WASP-6 only): a point is in transit when it lies within T14 / 2 of a mid-time
   epoch + n * period (the ephemeris fitted to these data by make_light_curve_files.py).
3. The flux is divided by its out-of-transit median. Trend: within each stretch, the running
   median of the out-of-transit fluxes over TREND_DAYS, smoothed by a quadratic Savitzky-Golay
   filter of the same width, interpolated in time to every point. Noise sigma: 1.4826 * the
   median absolute deviation of the out-of-transit second differences f[i+1] - 2 f[i] + f[i-1],
   divided by sqrt(6) (second differences cancel a smooth trend; for white noise their sd is
   sqrt(6) sigma).
   z = (flux - trend) / sigma, the flux's excess over the trend in noise units.
4. An excursion is a run of at least EXCURSION_POINTS consecutive points of one stretch with
   z > EXCURSION_SIGMA; it is a flare when its largest z reaches FLARE_SIGMA.
5. A window of T consecutive points is
   - transit: it holds a whole transit (mid-time +- T14 / 2 between its first and last point's
     times) and no flare;
   - flare: it holds a whole flare (the excursion's every point) and no in-transit point;
   - quiet: no in-transit point, no point of a flare and |z| < QUIET_SIGMA at every point;
   - otherwise unused (e.g. a weaker excursion: neither clearly quiet nor a clear flare).
   Windows start at every multiple of `stride` points from their stretch's start (and one ends
   at its last point), so one event appears in several windows at different positions; quiet
   windows are the non-overlapping subset of those starts, taken in order.
The windows of the test parts (default TEST_PARTS: a whole Kepler quarter and one orbit of each
TESS star) are the test split, all others the training split, so no test window shares a point
with a training window.
"""
import numpy as np
from scipy.ndimage import median_filter
from scipy.signal import savgol_filter

from ..validation import check_int
from .datasets import data_file

CLASSES = ("quiet", "flare", "transit")
CURVES = {   # key: (star, what it is, mission and part of the mission, cadence in minutes)
    "tic358108509": ("TIC 358108509", "flaring M dwarf", "TESS sector 1", 2),
    "kic10002792_q2": ("KIC 10002792", "spotted flaring K dwarf", "Kepler quarter 2", 29.4),
    "kic10002792_q5": ("KIC 10002792", "spotted flaring K dwarf", "Kepler quarter 5", 29.4),
    "epic211117077": ("EPIC 211117077", "spotted flaring star", "K2 campaign 4", 29.4),
    "wasp6": ("WASP-6", "host of the transiting planet WASP-6 b", "TESS sector 2", 2),
}
# (curve, part): part 1 / 2 = the points before / after the curve's longest gap (for a TESS
# curve, its two orbits), None = the whole curve
TEST_PARTS = (("wasp6", 2), ("tic358108509", 1), ("kic10002792_q5", None))
GAP_CADENCES = 5
TREND_DAYS = 0.1875          # 4.5 hours: 9 points at 29.4 min, 135 at 2 min
EXCURSION_SIGMA, EXCURSION_POINTS = 3.0, 3
FLARE_SIGMA = 10.0
QUIET_SIGMA = 5.0


def load_light_curves():
    """Every shipped light curve: {key: {"time": (P,) float64 days, "flux": (P,) float64,
    "star", "about", "mission": str, "cadence": minutes, "ephemeris": (period, epoch, T14) in
    days for WASP-6, else None}}, keys in CURVES order. Times are BTJD (BJD - 2457000) for TESS
    and BKJD (BJD - 2454833) for Kepler and K2; fluxes are as shipped (e-/s, WASP-6's
    detrended and normalised), only their good points."""
    with data_file("light_curves", "light_curves.npz").open("rb") as raw:
        with np.load(raw, allow_pickle=False) as arrays:
            curves = {}
            for key, (star, about, mission, cadence) in CURVES.items():
                ephemeris = f"{key}_ephemeris"
                curves[key] = {"time": arrays[f"{key}_time"],
                               "flux": arrays[f"{key}_flux"].astype(np.float64),
                               "star": star, "about": about, "mission": mission,
                               "cadence": cadence,
                               "ephemeris": (tuple(float(v) for v in arrays[ephemeris])
                                             if ephemeris in arrays.files else None)}
    return curves


def transit_number(time, ephemeris):
    """(P,) the number n of the nearest mid-time epoch + n * period."""
    period, epoch, _ = ephemeris
    return np.round((np.asarray(time) - epoch) / period).astype(np.int64)


def in_transit(time, ephemeris):
    """(P,) bool: within T14 / 2 of a mid-time (all False without an ephemeris)."""
    if ephemeris is None:
        return np.zeros(len(time), dtype=bool)
    period, epoch, t14 = ephemeris
    return np.abs(time - epoch - transit_number(time, ephemeris) * period) < t14 / 2


def stretches(time):
    """(P,) int64 stretch number: it goes up by one wherever consecutive points are more than
    GAP_CADENCES cadences (the median spacing) apart."""
    steps = np.diff(time)
    return np.concatenate([[0], np.cumsum(steps > GAP_CADENCES * np.median(steps))])


def longest_gap_part(time):
    """(P,) int64: 1 before the curve's longest gap between consecutive points, 2 after."""
    return np.where(np.arange(len(time)) > np.argmax(np.diff(time)), 2, 1)


def trend_of(time, flux, transit, stretch):
    """(P,) the trend of flux (P,): within each stretch, the running median of the out-of-transit
    fluxes over TREND_DAYS (a flare shorter than half of that does not move it), smoothed by a
    quadratic Savitzky-Golay filter of the same width (on a trend steeper than the noise a
    running median returns the point itself, leaving residuals of exactly 0), interpolated in
    time to every point."""
    width = int(round(TREND_DAYS / np.median(np.diff(time)))) | 1   # an odd number of points
    trend = np.empty_like(flux)
    for s in np.unique(stretch):
        here = stretch == s
        out = here & ~transit
        if not out.any():   # a stretch inside one transit: no baseline, never in a window
            trend[here] = np.nan
            continue
        smooth = median_filter(flux[out], size=width, mode="reflect")
        if len(smooth) >= width:
            smooth = savgol_filter(smooth, width, 2, mode="interp")
        trend[here] = np.interp(time[here], time[out], smooth)
    return trend


def noise_sigma(flux):
    """A robust sd of white noise under a smooth trend: 1.4826 * MAD of the second differences
    along the last axis of flux (..., P), / sqrt(6). Returns (...) (a float for (P,))."""
    second = flux[..., 2:] - 2.0 * flux[..., 1:-1] + flux[..., :-2]
    spread = np.abs(second - np.median(second, axis=-1, keepdims=True))
    return 1.4826 * np.median(spread, axis=-1) / np.sqrt(6.0)


def excursions(z, stretch):
    """[(first, stop)]: the runs of >= EXCURSION_POINTS consecutive points of one stretch with
    z > EXCURSION_SIGMA, as slices z[first:stop]."""
    above = z > EXCURSION_SIGMA
    starts = above & np.concatenate([[True], ~above[:-1] | (stretch[1:] != stretch[:-1])])
    runs = []
    for first in np.flatnonzero(starts):
        stop = first + 1
        while stop < len(z) and above[stop] and stretch[stop] == stretch[first]:
            stop += 1
        if stop - first >= EXCURSION_POINTS:
            runs.append((int(first), int(stop)))
    return runs


def residuals(time, flux, ephemeris=None):
    """z (P,): the excess of flux over its trend in noise units (steps 1-3 of the module's
    rule), with the in-transit mask (P,) and the stretch numbers (P,) it used."""
    time, flux = np.asarray(time, dtype=np.float64), np.asarray(flux, dtype=np.float64)
    transit, stretch = in_transit(time, ephemeris), stretches(time)
    flux = flux / np.median(flux[~transit])
    sigma = float(noise_sigma(flux[~transit]))
    return (flux - trend_of(time, flux, transit, stretch)) / sigma, transit, stretch


def window_starts(stretch, length, stride):
    """(M,) sorted starts s of windows [s, s + length) inside one stretch: every multiple of
    stride from the stretch's first point, and the window ending at its last point."""
    firsts = np.flatnonzero(np.concatenate([[True], stretch[1:] != stretch[:-1]]))
    stops = np.append(firsts[1:], len(stretch))
    starts = [np.union1d(np.arange(a, b - length + 1, stride), [b - length])
              for a, b in zip(firsts, stops) if b - a >= length]
    return np.concatenate(starts + [np.zeros(0)]).astype(np.int64)


def label_curve(time, flux, ephemeris=None, length=128, stride=8):
    """The labelled windows of one light curve (the module's rule).

    time, flux: (P,) in time order; ephemeris: None or (period, epoch, T14) in time's units.
    Returns {"x": (N, T) z of each window, "y": (N,) int64 index in CLASSES, "start": (N,) int64
    first point, "event_time": (N,) float64 the flare's peak time or the transit's mid-time
    (NaN for quiet)}, rows in start order.
    """
    length, stride = check_int("length", length, minimum=8), check_int("stride", stride)
    time = np.asarray(time, dtype=np.float64)
    if time.ndim != 1 or np.shape(flux) != time.shape or len(time) < 3:
        raise ValueError(f"time and flux must be 1-D of the same length >= 3; got shapes "
                         f"{np.shape(time)} and {np.shape(flux)}")
    check_ephemeris(ephemeris)
    z, transit, stretch = residuals(time, flux, ephemeris)
    flares = [(a, b) for a, b in excursions(z, stretch) if z[a:b].max() >= FLARE_SIGMA]
    flare_peaks = np.array([a + np.argmax(z[a:b]) for a, b in flares], dtype=np.int64)
    flare_first = np.array([a for a, _ in flares], dtype=np.int64)
    flare_stop = np.array([b for _, b in flares], dtype=np.int64)
    rows, last_quiet_stop = [], -1
    for s in window_starts(stretch, length, stride):
        e = s + length
        whole_flares = np.flatnonzero((flare_first >= s) & (flare_stop <= e))
        touches_flare = np.any((flare_first < e) & (flare_stop > s))
        label, event = None, np.nan
        if ephemeris is not None:
            period, epoch, t14 = ephemeris
            n = np.arange(transit_number(time[s], ephemeris), transit_number(time[e - 1],
                                                                              ephemeris) + 1)
            mids = epoch + n * period
            whole = mids[(mids - t14 / 2 > time[s]) & (mids + t14 / 2 < time[e - 1])]
            if len(whole) and not touches_flare:
                label, event = 2, whole[0]
        if label is None and len(whole_flares) and not transit[s:e].any():
            label, event = 1, time[flare_peaks[whole_flares[0]]]
        if (label is None and s >= last_quiet_stop and not transit[s:e].any()
                and not touches_flare and np.all(np.abs(z[s:e]) < QUIET_SIGMA)):
            label, last_quiet_stop = 0, e
        if label is not None:
            rows.append((s, label, event))
    starts = np.array([r[0] for r in rows], dtype=np.int64)
    return {"x": z[starts[:, None] + np.arange(length)] if len(rows) else np.zeros((0, length)),
            "y": np.array([r[1] for r in rows], dtype=np.int64), "start": starts,
            "event_time": np.array([r[2] for r in rows], dtype=np.float64)}


def check_ephemeris(ephemeris):
    if ephemeris is None:
        return
    values = np.asarray(ephemeris, dtype=np.float64) if np.ndim(ephemeris) == 1 else None
    if values is None or values.shape != (3,) or not np.all(np.isfinite(values)) \
            or values[0] <= 0 or values[2] <= 0:
        raise ValueError(f"ephemeris must be None or (period, epoch, T14), finite, with period "
                         f"and T14 > 0; got {ephemeris!r}")


def check_test_parts(test_parts):
    for item in test_parts:
        if (not isinstance(item, tuple) or len(item) != 2 or item[0] not in CURVES
                or item[1] not in (None, 1, 2)):
            raise ValueError(f"test_parts must hold (curve, part) pairs, curve one of "
                             f"{tuple(CURVES)} and part None, 1 or 2; got {item!r}")


def load_light_curve_windows(length=128, stride=8, test_parts=TEST_PARTS):
    """Every light curve's labelled windows (label_curve), split into training and test parts.

    test_parts: (curve key, part) pairs, part 1 / 2 the points before / after the curve's longest
    gap (a TESS curve's two orbits) or None for the whole curve; a window belongs to the part of
    its first point (windows never span the longest gap, which is a stretch boundary).

    Returns a dict; for split in ("train", "test"):
        x_<split> (N, T) float64 z      y_<split> (N,) int64 0 quiet, 1 flare, 2 transit
        curve_<split> (N,) str key of CURVES     part_<split> (N,) int64 1 or 2
        start_<split> (N,) int64 first point in its curve
        event_time_<split> (N,) float64 flare peak / transit mid-time, NaN for quiet
    """
    length, stride = check_int("length", length, minimum=8), check_int("stride", stride)
    check_test_parts(test_parts)
    columns = {key: [] for key in ("x", "y", "curve", "part", "start", "event_time", "test")}
    for key, curve in load_light_curves().items():
        windows = label_curve(curve["time"], curve["flux"], curve["ephemeris"], length, stride)
        part = longest_gap_part(curve["time"])[windows["start"]]
        test = np.isin(part, [p for k, p in test_parts if k == key])
        test |= (key, None) in test_parts
        for name in ("x", "y", "start", "event_time"):
            columns[name].append(windows[name])
        columns["curve"].append(np.full(len(part), key))
        columns["part"].append(part)
        columns["test"].append(test)
    columns = {name: np.concatenate(parts) for name, parts in columns.items()}
    test = columns.pop("test")
    return {f"{name}_{split}": values[rows] for name, values in columns.items()
            for split, rows in (("train", ~test), ("test", test))}
