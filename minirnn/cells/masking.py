"""Masks: skipped steps (padding, clocks) and dropout (between layers, recurrent).

Masked steps: where mask[n, t] is False, sequence n skips step t and carries its state.

    h_t = h_step(x_t, h_{t-1})   where mask[:, t]
        = h_{t-1}                elsewhere

This one mechanism serves padded variable-length batches (padded steps neither change the state
nor receive gradient, and a reversed padded sequence starts at its true end) and clocked layers
(a layer that updates only every k-th step). Backward splits the gradient of h_t the same way:
the updated rows go through the step's backward, the carried rows straight to h_{t-1}.
"""
import numpy as np

from ..validation import check_float_array, check_rng, check_shape


def check_mask(mask, x, name="mask"):
    """None, or a boolean (N, T) array matching x: (N, T, ...); returned as bool."""
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool and not np.all((mask == 0) | (mask == 1)):
        raise ValueError(f"{name} must hold only 0/1 or True/False values")
    check_shape(name, mask, x.shape[:2])
    return mask.astype(bool)


def clock_mask(mask, period, N, T):
    """The (N, T) step mask of a layer with a clock: it steps only at t with (t + 1) % period == 0
    (and, with a padding mask, only where that is True). None when every step is taken."""
    if period == 1:
        return mask
    ticks = np.broadcast_to((np.arange(T) + 1) % period == 0, (N, T))
    return ticks if mask is None else ticks & mask


def carry(mask, t, new, old):
    """The state after step t: `new` on the rows that step, `old` on the carried rows."""
    return new if mask is None else np.where(mask[:, t, None], new, old)


def split_gradient(mask, t, dnext):
    """Split dLoss/dh_t into (gradient through the step, gradient carried to h_{t-1})."""
    if mask is None:
        return dnext, 0.0
    m = mask[:, t, None]
    return np.where(m, dnext, 0.0), np.where(m, 0.0, dnext)


# ---- dropout ------------------------------------------------------------------------------------
# Both kinds act only in a training run and are inverted: entries are 0 (probability p) or
# 1/(1-p), so the expected value is unchanged and evaluation needs no rescaling.
# Between layers (PyTorch's `dropout`): a mask (N, T, W_l) on each layer's output but the top
# one, applied by StackedRNN.
# Recurrent (variational, Keras' `recurrent_dropout`): a mask m (N, H), one per sequence and the
# same at every step, multiplies h_{t-1} where it enters the recurrent matrix product, and only
# there: a_t = x_t @ Wx + (h_{t-1} * m) @ Wh + b. The state itself (the GRU's z * h_{t-1}, the
# LSTM's cell path) is not dropped.

def check_recurrent_mask(recurrent_mask, h0):
    """None, or a finite float (N, H) array matching the initial state h0: (N, H)."""
    if recurrent_mask is None:
        return None
    check_float_array("recurrent_mask", recurrent_mask)
    check_shape("recurrent_mask", recurrent_mask, h0.shape)
    return recurrent_mask


def dropped(h, recurrent_mask):
    """h * recurrent_mask (rows (N, H)), or h when there is no mask."""
    return h if recurrent_mask is None else h * recurrent_mask


def dropped_columns(J, recurrent_mask):
    """J @ diag(m) per batch element for a Jacobian J: (N, H_out, H) with respect to h_{t-1}."""
    return J if recurrent_mask is None else J * recurrent_mask[:, None, :]


def inverted_dropout(rng, shape, rate, dtype):
    """A dropout mask of `shape`: 0 with probability `rate`, else 1/(1-rate)."""
    keep = 1.0 - rate
    return (rng.random(shape) < keep).astype(dtype) / keep


def sample_dropout_masks(net, N, T, rng=None):
    """The random masks of one training run of the StackedRNN `net` on N sequences of T steps:
    ({l: (N, T, W_l)} for every layer but the top, {l: {direction: (N, H_l)}} recurrent masks),
    each {} when its rate is 0. rng: None (a fresh generator), an int seed (the same masks every
    time) or a np.random.Generator, as np.random.default_rng takes them."""
    rng = check_rng(rng)
    dropout, recurrent = {}, {}
    if net.dropout > 0:
        for l, width in enumerate(net.output_widths()[:-1], start=1):
            dropout[l] = inverted_dropout(rng, (N, T, width), net.dropout, net.dtype)
    if net.recurrent_dropout > 0:
        for l, H in enumerate(net.hidden_sizes, start=1):
            recurrent[l] = {d: inverted_dropout(rng, (N, H), net.recurrent_dropout, net.dtype)
                            for d in net.directions}
    return dropout, recurrent
