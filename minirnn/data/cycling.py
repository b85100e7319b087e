"""A structured cycling workout recorded at 1 Hz (73 minutes; CC0), shipped in the package: the
per-second moves (power, cadence, speed) and the plan above them (warm-up, openers, intervals,
recoveries, a 20-minute test block, cool-down).

Shape legend: S seconds of the ride, N windows, T seconds per window, D features per second.

    ride = load_cycling_workout()      # dict: power, cadence, speed (S,), phase (S,) ids
    split = load_workout_windows()     # dict: x_train (N, T, D), y_train (N, T), x_test (1, T, D)

The sequence is split by time, like the two halves of a match: the first half of the ride (0 ..
HALF - 1 s) trains, the second half (HALF .. S - 1 s) tests. No training window reads, and no
training target looks at, a second of the second half, and the features are standardised with
the first half's mean and standard deviation. The data's source, licence and counts:
minirnn/data/files/cycling_workout/README.md.
"""
import numpy as np

from .datasets import data_file

FEATURES = ("power", "cadence", "speed")
ZONE_EDGES = (90.0, 130.0, 180.0, 300.0)   # watts: 5 zones, < 90, 90-130, ..., >= 300
ZONE_NAMES = ("<90 W", "90-130 W", "130-180 W", "180-300 W", ">=300 W")
# The plan, read off the power trace (README): (first second, name). The trainer held each
# target power to within a few watts except in the test block, which the rider paced.
PHASES = ((0, "warm-up"), (1200, "openers"), (1380, "recovery"), (1680, "interval"),
          (1980, "recovery"), (2580, "test"), (3780, "cool-down"))
PHASE_NAMES = ("warm-up", "openers", "recovery", "interval", "test", "cool-down")
HALF = 2196   # the first second of the ride's second half (S = 4392)


def trailing_mean(values, width):
    """Mean of values (S,) over the last `width` seconds up to and including each second (over
    what exists at the start): (S,) float64."""
    if not isinstance(width, (int, np.integer)) or width < 1:
        raise ValueError(f"width must be a positive int; got {width!r}")
    sums = np.concatenate([[0.0], np.cumsum(np.asarray(values, dtype=np.float64))])
    ends = np.arange(1, len(sums))
    starts = np.maximum(ends - width, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def power_zone(watts):
    """Zone id 0..4 of each power (any shape), by ZONE_EDGES (an edge belongs to the zone above
    it): power_zone([89, 90, 240]) -> [0, 1, 4]."""
    return np.searchsorted(ZONE_EDGES, np.asarray(watts, dtype=np.float64), side="right")


def phase_of(seconds):
    """PHASE_NAMES id of the plan's phase at each second (any shape)."""
    seconds = np.asarray(seconds)
    if np.any(seconds < 0):
        raise ValueError("seconds must be >= 0")
    starts = np.array([start for start, _ in PHASES])
    ids = np.array([PHASE_NAMES.index(name) for _, name in PHASES])
    return ids[np.searchsorted(starts, seconds, side="right") - 1]


def load_cycling_workout():
    """The shipped ride: {"power" (S,) W, "cadence" (S,) rpm, "speed" (S,) m/s, "altitude" (S,) m,
    all float64, "phase" (S,) int64 PHASE_NAMES ids}, S = 4392 seconds."""
    with data_file("cycling_workout", "cycling.npz").open("rb") as raw:
        with np.load(raw, allow_pickle=False) as arrays:
            ride = {name: arrays[name].astype(np.float64)
                    for name in ("power", "cadence", "speed", "altitude")}
    ride["phase"] = phase_of(np.arange(len(ride["power"])))
    return ride


def zone_symbols(power, smooth=5):
    """The 'move' of each second: the zone of the power averaged over the last `smooth` seconds.
    power (S,) -> (S,) int64."""
    return power_zone(trailing_mean(power, smooth))


def load_workout_windows(length=120, stride=20, horizon=15, smooth=5):
    """Training windows from the first half and the whole second half as one test sequence.

    Each second's input is FEATURES, standardised with the first half's statistics; its target
    is zone_symbols(power, smooth) `horizon` seconds later. Returns a dict:
        x_train (N, length, D) float64, y_train (N, length) int64, start_train (N,): windows
            starting every `stride` seconds, the last target at most second HALF - 1;
        x_test (1, T, D), y_test (1, T), start_test (1,) = [HALF]: seconds HALF ..
            HALF + T - 1, T = S - HALF - horizon (every second that has a target);
        symbols (S,) the zone of every second; mean, std (D,) the first half's statistics.
    """
    for name, value, minimum in (("length", length, 2), ("stride", stride, 1),
                                 ("horizon", horizon, 0), ("smooth", smooth, 1)):
        if not isinstance(value, (int, np.integer)) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}; got {value!r}")
    ride = load_cycling_workout()
    features = np.stack([ride[name] for name in FEATURES], axis=1)   # (S, D)
    mean, std = features[:HALF].mean(axis=0), features[:HALF].std(axis=0)
    features = (features - mean) / std
    symbols = zone_symbols(ride["power"], smooth)
    S = len(symbols)
    targets = np.concatenate([symbols[horizon:], np.full(horizon, -1)])   # (S,), -1: none
    last_start = HALF - horizon - length   # the window's last target is second HALF - 1
    if last_start < 0:
        raise ValueError(f"length + horizon must be at most {HALF}; got {length + horizon}")
    starts = np.arange(0, last_start + 1, stride)
    steps = starts[:, None] + np.arange(length)   # (N, length)
    test_steps = np.arange(HALF, S - horizon)
    return {"x_train": features[steps], "y_train": targets[steps], "start_train": starts,
            "x_test": features[test_steps][None], "y_test": targets[test_steps][None],
            "start_test": np.array([HALF]), "symbols": symbols, "mean": mean, "std": std}
