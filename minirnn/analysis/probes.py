"""Linear probes: is a quantity linearly readable from a layer's state?

Shape legend: N sequences, T time steps, F features (state units), K target dimensions.

Fit target ~ features @ W + b by least squares (optionally ridge) on training rows and report
the coefficient of determination on held-out rows,

    R^2 = 1 - sum (target - prediction)^2 / sum (target - mean of the training target)^2,

over all K target dimensions together (and per dimension). R^2 = 1 means an exact linear
readout; R^2 <= 0 means the probe predicts no better than the training mean. With sequences
(N, T, F), whole sequences are held out, so the probe is tested on runs it never saw.
"""
from dataclasses import dataclass

import numpy as np

from .states import layer_states


@dataclass
class LinearProbe:
    """weights: (F, K); bias: (K,); r2_train, r2_test: overall R^2; r2_test_per_target: (K,)."""
    weights: np.ndarray
    bias: np.ndarray
    r2_train: float
    r2_test: float
    r2_test_per_target: np.ndarray

    def predict(self, features):
        """features (..., F) -> predictions (..., K)."""
        return features @ self.weights + self.bias


def r_squared(target, prediction, reference_mean):
    """Overall and per-dimension R^2 of prediction (M, K) against target (M, K)."""
    residual = ((target - prediction) ** 2).sum(axis=0)
    total = ((target - reference_mean) ** 2).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):  # a constant target: nan, not a warning
        per_target = 1.0 - residual / total
        overall = 1.0 - residual.sum() / total.sum()
    return float(overall), per_target


def split_rows(features, target, test_fraction, rng):
    """(train, test) index arrays over the first axis: whole sequences when features is 3-D."""
    n = features.shape[0]
    n_test = int(np.ceil(test_fraction * n))
    if not 0 < n_test < n:
        raise ValueError(f"test_fraction={test_fraction} leaves no training or no test rows out "
                         f"of {n} (sequences when features is (N, T, F))")
    order = rng.permutation(n)
    return order[n_test:], order[:n_test]


def linear_probe(features, target, test_fraction=0.3, ridge=0.0, seed=0):
    """Fit a least-squares readout and score it on held-out data.

    features: (N, T, F) sequences (whole sequences held out; needs N >= 2) or (M, F) rows.
    target: (N, T) / (N, T, K), or (M,) / (M, K). ridge: L2 penalty on the weights (not bias).
    Returns a LinearProbe.
    """
    features = np.asarray(features, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    if features.ndim not in (2, 3):
        raise ValueError(f"features must have shape (N, T, F) or (M, F); got {features.shape}")
    if target.ndim == features.ndim - 1:
        target = target[..., None]
    if target.shape[:-1] != features.shape[:-1]:
        raise ValueError(f"target must have shape {features.shape[:-1]} or "
                         f"{features.shape[:-1] + ('K',)} to match features {features.shape}; "
                         f"got {target.shape}")
    train, test = split_rows(features, target, test_fraction, np.random.default_rng(seed))
    F, K = features.shape[-1], target.shape[-1]
    X_train, y_train = features[train].reshape(-1, F), target[train].reshape(-1, K)
    X_test, y_test = features[test].reshape(-1, F), target[test].reshape(-1, K)
    mean_x, mean_y = X_train.mean(axis=0), y_train.mean(axis=0)
    # centering removes the bias from the fit; ridge then adds sqrt(ridge) * I rows
    A = np.concatenate([X_train - mean_x, np.sqrt(ridge) * np.eye(F)])
    B = np.concatenate([y_train - mean_y, np.zeros((F, K))])
    weights = np.linalg.lstsq(A, B, rcond=None)[0]  # (F, K)
    bias = mean_y - mean_x @ weights
    r2_train, _ = r_squared(y_train, X_train @ weights + bias, mean_y)
    r2_test, per_target = r_squared(y_test, X_test @ weights + bias, mean_y)
    return LinearProbe(weights=weights, bias=bias, r2_train=r2_train, r2_test=r2_test,
                       r2_test_per_target=per_target)


def best_unit(features, target):
    """The single unit that best reads the target: (index, r), the unit whose activation has
    the largest |Pearson r| with target over all rows (a unit that never changes has r = 0).

    features: (..., F), e.g. (N, T, F) states; target: features.shape[:-1].
    """
    features, target = np.asarray(features, dtype=np.float64), np.asarray(target, np.float64)
    if features.ndim < 2 or target.shape != features.shape[:-1]:
        raise ValueError(f"target must have shape {features.shape[:-1]} to match features "
                         f"{features.shape} (..., F); got {target.shape}")
    X, y = features.reshape(-1, features.shape[-1]), target.reshape(-1)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    denom = np.sqrt((Xc ** 2).sum(axis=0) * (yc ** 2).sum())
    r = np.divide(Xc.T @ yc, denom, out=np.zeros(X.shape[1]), where=denom > 0)
    k = int(np.argmax(np.abs(r)))
    return k, float(r[k])


def probe_layer(net, x, target, layer, state="h", test_fraction=0.3, ridge=0.0, seed=0,
                backend=None):
    """Run net on x (N, T, D) and probe layer `layer`'s state sequence ('h' or 'c'; layer 0 is
    the input) for target (N, T) or (N, T, K). Returns a LinearProbe."""
    _, _, cache = net.forward(x, backend=backend)
    return linear_probe(layer_states(net, cache, layer, state), target,
                        test_fraction=test_fraction, ridge=ridge, seed=seed)
