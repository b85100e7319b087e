"""Masked steps: where mask[n, t] is False, sequence n skips step t and carries its state.

    h_t = h_step(x_t, h_{t-1})   where mask[:, t]
        = h_{t-1}                elsewhere

This one mechanism serves padded variable-length batches (padded steps neither change the state
nor receive gradient, and a reversed padded sequence starts at its true end) and clocked layers
(a layer that updates only every k-th step). Backward splits the gradient of h_t the same way:
the updated rows go through the step's backward, the carried rows straight to h_{t-1}.
"""
import numpy as np

from ..validation import check_shape


def check_mask(mask, x):
    """None, or a boolean (N, T) array matching x: (N, T, D); returned as bool."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool and not np.all((mask == 0) | (mask == 1)):
        raise ValueError("mask must hold only 0/1 or True/False values")
    check_shape("mask", mask, x.shape[:2])
    return mask.astype(bool)


def carry(mask, t, new, old):
    """The state after step t: `new` on the rows that step, `old` on the carried rows."""
    return new if mask is None else np.where(mask[:, t, None], new, old)


def split_gradient(mask, t, dnext):
    """Split dLoss/dh_t into (gradient through the step, gradient carried to h_{t-1})."""
    if mask is None:
        return dnext, 0.0
    m = mask[:, t, None]
    return np.where(m, dnext, 0.0), np.where(m, 0.0, dnext)
