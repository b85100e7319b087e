"""Rebuild minirnn/data/files/light_curves/ from the AltaiPony and Exo-Striker wheels.

Not needed at run time (the file is in the package); kept so anyone can check how it was made.
Neither package is a dependency. The FITS files are read here, once, with astropy (a build-time
tool only: `pip install astropy`; minirnn never imports it). Fetch the wheels, then run this
module:

    pip download --no-deps altaipony==2.1.2 -d /tmp/altai
    pip download --no-deps exostriker==0.96.7 -d /tmp/exo
    python -m minirnn.data.make_light_curve_files /tmp/altai/altaipony-2.1.2-py3-none-any.whl \
        /tmp/exo/exostriker-0.96.7-py3-none-any.whl

What it writes (the folder also holds a hand-written README.md, which this script leaves alone):
    light_curves/light_curves.npz   per light curve its good points (time, flux), and the WASP-6 b
                                    ephemeris fitted here from its transits
    light_curves/LICENSE.txt        both packages' MIT licences, unchanged, one after the other

Shape legend: P points of a light curve, K transits.

A point is good when its time and flux are finite and (FITS files) its quality flag is 0. Fluxes
are kept as the files give them (the FITS PDCSAP_FLUX column in e-/s, the .tran file's detrended,
normalised flux); times are the files' own (BTJD = BJD - 2457000 for TESS, BKJD = BJD - 2454833
for Kepler and K2; the .tran file's BJD becomes BTJD).
"""
import io
import sys
import zipfile

import numpy as np

from .make_files import FILES

EXAMPLES = "altaipony/examples"
FITS_FILES = {   # key in the .npz: the FITS light curve in AltaiPony's examples
    "tic358108509": "tess2018206045859-s0001-0000000358108509-0120-s_lc.fits",
    "kic10002792_q2": "kplr010002792-2009259160929_llc.fits",
    "kic10002792_q5": "kplr010002792-2010174085026_llc.fits",
    "epic211117077": "ktwo211117077-c04_llc.fits",
}
TRANSIT_FILE = "exostriker/datafiles/WASP_6_lc_clean.tran"
TESS_BJD_OFFSET = 2457000.0
DIP = 0.01          # a WASP-6 point this far below 1 may be in a transit (depth ~2%, noise 0.23%)
MIN_DIP_POINTS = 10 # a run of fewer such points (noise reaches 0.99 now and then) is no transit
SEARCH = 0.06       # days either side of a transit's first guess searched for its mid-time
BOX = 0.09          # days: the box that locates each mid-time (shorter than the transit)


def read_fits_curve(raw):
    """A Kepler / K2 / TESS light-curve FITS file (bytes) -> time (P,) float64, flux (P,) float32
    (the columns' own types) of its good points."""
    from astropy.io import fits   # build-time only
    with fits.open(io.BytesIO(raw)) as hdus:
        table = hdus["LIGHTCURVE"].data
        quality = table["QUALITY" if "QUALITY" in table.columns.names else "SAP_QUALITY"]
        time = np.asarray(table["TIME"], dtype=np.float64)
        flux = np.asarray(table["PDCSAP_FLUX"], dtype=np.float32)
    good = np.isfinite(time) & np.isfinite(flux) & (quality == 0)
    return time[good], flux[good]


def read_transit_curve(text):
    """The Exo-Striker .tran text (columns BJD, detrended flux, its error, original flux, its
    error, the trend model) -> time (P,) in BTJD, detrended flux (P,)."""
    rows = np.loadtxt(io.StringIO(text), comments="#")
    return rows[:, 0] - TESS_BJD_OFFSET, rows[:, 1]


def box_mid_time(time, flux, guess):
    """The centre of the BOX-day box whose mean flux, as a box-shaped dip, best fits the points
    within 0.4 d of guess (least squares), on a 0.0001-day grid within guess +- SEARCH. The
    error only changes when a point enters or leaves the box, so every centre of the best
    plateau ties; their mean is returned (the first one would be biased to the left by up to a
    cadence)."""
    near = np.abs(time - guess) < 0.4
    t, f = time[near], flux[near]
    centres = np.arange(guess - SEARCH, guess + SEARCH, 1e-4)
    errors = []
    for centre in centres:
        inside = np.abs(t - centre) < BOX / 2
        errors.append(np.sum((f[inside] - f[inside].mean()) ** 2)
                      + np.sum((f[~inside] - 1.0) ** 2))
    errors = np.array(errors)
    return float(centres[errors == errors.min()].mean())


def trapezoid_duration(phase, flux):
    """The total duration T14 (days) of the symmetric trapezoid (flat bottom, linear ingress and
    egress) that fits the folded points best: phase (P,) days from mid-transit. The depth is
    solved for each (T14, ingress) pair of a 0.001-day grid by linear least squares."""
    best, best_error = None, np.inf
    for t14 in np.arange(0.08, 0.14, 0.001):
        for ingress in np.arange(0.005, 0.04, 0.001):
            shape = np.clip((t14 / 2 - np.abs(phase)) / ingress, 0.0, 1.0)   # 0 out, 1 bottom
            depth = np.sum((1.0 - flux) * shape) / np.sum(shape ** 2)
            error = np.sum((flux - 1.0 + depth * shape) ** 2)
            if error < best_error:
                best, best_error = t14, error
    return round(float(best), 3)


def fit_ephemeris(time, flux):
    """Period, epoch and duration of the transits in a detrended light curve.

    First guesses: the mean time of each group of at least MIN_DIP_POINTS points DIP below 1
    (groups more than 0.5 d apart are separate transits); their smallest spacing gives the
    transit numbers. Each mid-time is then
    located with a box fit (box_mid_time); a straight line through (transit number, mid-time)
    gives the period and the epoch (the mid-time of transit 0, the first one observed); T14 comes
    from a trapezoid fit to all points folded on that ephemeris.
    Returns (period, epoch, t14) in days (epoch in the time's own units) and the mid-times (K,).
    """
    deep = time[flux < 1.0 - DIP]
    groups = np.split(deep, np.flatnonzero(np.diff(deep) > 0.5) + 1)
    guesses = np.array([g.mean() for g in groups if len(g) >= MIN_DIP_POINTS])
    spacing = np.min(np.diff(guesses))
    numbers = np.round((guesses - guesses[0]) / spacing)
    mids = np.array([box_mid_time(time, flux, g) for g in guesses])
    period, epoch = np.polyfit(numbers, mids, 1)
    phase = (time - epoch + period / 2) % period - period / 2
    near = np.abs(phase) < 0.2
    return (float(period), float(epoch), trapezoid_duration(phase[near], flux[near])), mids


def write_light_curve_files(altaipony_wheel, exostriker_wheel):
    """Both wheels -> one .npz of light curves and the ephemeris; both licences in one file."""
    arrays = {}
    with zipfile.ZipFile(altaipony_wheel) as wheel:
        for key, name in FITS_FILES.items():
            arrays[f"{key}_time"], arrays[f"{key}_flux"] = read_fits_curve(
                wheel.read(f"{EXAMPLES}/{name}"))
        altaipony_licence = wheel.read("altaipony-2.1.2.dist-info/LICENSE")
    with zipfile.ZipFile(exostriker_wheel) as wheel:
        time, flux = read_transit_curve(wheel.read(TRANSIT_FILE).decode("ascii"))
        exostriker_licence = wheel.read("exostriker-0.96.7.dist-info/licenses/LICENSE")
    arrays["wasp6_time"], arrays["wasp6_flux"] = time, flux
    ephemeris, mids = fit_ephemeris(time, flux)
    arrays["wasp6_ephemeris"] = np.array(ephemeris)
    print(f"WASP-6 b: period {ephemeris[0]:.6f} d, epoch {ephemeris[1]:.5f} BTJD, "
          f"T14 {ephemeris[2]:.3f} d; mid-times {np.round(mids, 4).tolist()}")
    folder = FILES / "light_curves"
    folder.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(folder / "light_curves.npz", **arrays)
    (folder / "LICENSE.txt").write_bytes(
        b"The light curves come from two packages, both under the MIT licence. Their licence "
        b"files follow, unchanged.\n\n== altaipony-2.1.2.dist-info/LICENSE ==\n\n"
        + altaipony_licence
        + b"\n== exostriker-0.96.7.dist-info/licenses/LICENSE ==\n\n" + exostriker_licence)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m minirnn.data.make_light_curve_files ALTAIPONY_WHEEL.whl "
                 "EXOSTRIKER_WHEEL.whl")
    write_light_curve_files(sys.argv[1], sys.argv[2])
