"""Losses: each returns (loss, dlogits), the mean loss and its exact gradient.

Shape legend: N batch, T time steps, C classes. A leading "..." is (N,) for one prediction per
sequence or (N, T) for one per step.

Every loss takes an optional `mask` over the leading axes (e.g. (N, T) bool for padded
sequences): the mean runs over the unmasked items only, and masked items get zero gradient.
With a (N, T) mask this is the masked sequence loss; without one, the plain mean. A mask with no
True entry gives loss 0 and a zero gradient.

Losses take logits (pre-activation scores), never probabilities: log(sigmoid(a)) and
log(softmax(a)) are computed in a form that cannot overflow, so logits of +-1000 are fine.
Optimizers and clipping never happen here (see minirnn.optim); the gradient is the exact one.
"""
import numpy as np

from .cells.activations import sigmoid
from .validation import check_float_array, shape_str


def broadcast_mask(mask, shape, name="mask"):
    """The weights (as floats, broadcastable to `shape`) for an optional mask over the leading
    axes of `shape`, and the number of items they count."""
    if mask is None:
        return 1.0, float(np.prod(shape))
    mask = np.asarray(mask)
    if mask.dtype != bool and not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"{name} must hold only 0/1 or True/False values")
    if mask.ndim > len(shape) or mask.shape != tuple(shape[:mask.ndim]):
        raise ValueError(f"{name} must cover the leading axes of shape {shape_str(shape)}; "
                         f"got shape {shape_str(mask.shape)}")
    weights = mask.astype(np.float64).reshape(mask.shape + (1,) * (len(shape) - mask.ndim))
    return weights, float(weights.sum() * np.prod(shape[mask.ndim:]))


def mean_squared_error(pred, target, mask=None):
    """pred: (..., K) float; target: the same shape (or without a trailing axis of 1). loss = mean (pred - target)^2 over the unmasked entries.

    dpred = 2 (pred - target) / count.
    """
    check_float_array("pred", pred)
    target = check_target("target", target, pred.shape)
    weights, count = broadcast_mask(mask, pred.shape)
    diff = (pred - target) * weights
    if count == 0:
        return 0.0, np.zeros_like(pred)
    loss = float(np.sum(diff * diff) / count)
    return loss, (2.0 * diff / count).astype(pred.dtype)


def binary_cross_entropy_with_logits(logits, target, mask=None):
    """logits: (...) or (..., 1) float; target: the same shape (or without the trailing 1) with
    values in [0, 1]. p = sigmoid(logits).

        loss_i = -[y log p + (1 - y) log(1 - p)] = max(a, 0) - a y + log(1 + exp(-|a|))
        dlogits = (p - y) / count
    """
    check_float_array("logits", logits)
    target = check_target("target", target, logits.shape)
    if np.any((target < 0) | (target > 1)):
        raise ValueError("target of binary cross-entropy must lie in [0, 1]")
    weights, count = broadcast_mask(mask, logits.shape)
    if count == 0:
        return 0.0, np.zeros_like(logits)
    a = logits.astype(np.float64)
    per_item = np.maximum(a, 0.0) - a * target + np.log1p(np.exp(-np.abs(a)))
    loss = float(np.sum(per_item * weights) / count)
    return loss, ((sigmoid(a) - target) * weights / count).astype(logits.dtype)


def softmax_cross_entropy(logits, labels, mask=None):
    """logits: (..., C) float; labels: (...) integer class ids in [0, C).

        log p = a - max(a) - log sum exp(a - max(a))        (stable log-softmax)
        loss  = -mean over unmasked items of log p[label]
        dlogits = (softmax(a) - onehot(label)) / count
    """
    check_float_array("logits", logits)
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"labels must be an integer array of class ids; got dtype {labels.dtype}")
    if logits.ndim < 1 or labels.shape != logits.shape[:-1]:
        raise ValueError(f"labels must have shape {shape_str(logits.shape[:-1])} (logits without "
                         f"the class axis); got shape {shape_str(labels.shape)}")
    C = logits.shape[-1]
    if labels.size and (labels.min() < 0 or labels.max() >= C):
        raise ValueError(f"labels must lie in [0, {C}) (the number of classes); "
                         f"got values in [{labels.min()}, {labels.max()}]")
    weights, count = broadcast_mask(mask, labels.shape)
    if count == 0:
        return 0.0, np.zeros_like(logits)
    a = logits.astype(np.float64)
    shifted = a - a.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))  # (..., C)
    log_p_label = np.take_along_axis(log_p, labels[..., None], axis=-1)[..., 0]  # (...)
    loss = float(-np.sum(log_p_label * weights) / count)
    dlogits = np.exp(log_p)
    np.put_along_axis(dlogits, labels[..., None],
                      np.take_along_axis(dlogits, labels[..., None], axis=-1) - 1.0, axis=-1)
    return loss, (dlogits * np.asarray(weights)[..., None] / count).astype(logits.dtype)


def check_target(name, target, shape):
    """target as a finite float64 array of `shape`; a target without the trailing axis of size 1
    (e.g. labels (N,) for logits (N, 1)) gets that axis added."""
    target = np.asarray(target, dtype=np.float64)
    if len(shape) and shape[-1] == 1 and target.shape == tuple(shape[:-1]):
        target = target[..., None]
    if target.shape != tuple(shape):
        raise ValueError(f"{name} must have shape {shape_str(shape)} (the prediction's shape); "
                         f"got shape {shape_str(target.shape)}")
    if not np.all(np.isfinite(target)):
        raise ValueError(f"{name} contains non-finite values (nan or inf)")
    return target


LOSSES = {"mse": mean_squared_error, "binary_cross_entropy": binary_cross_entropy_with_logits,
          "softmax_cross_entropy": softmax_cross_entropy}
