"""Auxiliary losses: loss heads on intermediate layers, whose gradients enter the backward pass
at those layers through `net.backward(dy, cache, dlayers=...)`.

Shape legend: N batch, T time steps, L layers, W_l the width of layer l's output, K targets.

A gradient that starts only at the top must cross every layer to reach layer 1, and is multiplied
by every layer's depth Jacobian on the way; where the units saturate (tanh near +-1) those are
small and it vanishes. A head on layer l adds a fresh gradient there (deep supervision, as in
GoogLeNet's auxiliary classifiers), so layer 1 hears a loss only L - l layers away:

    total loss = loss_top(out_L) + weight * sum over l in heads of loss_l(out_l)
    dout_l    += weight * dloss_l/dout_l        (what `auxiliary_losses` returns as dlayers)

A head is any function head(out) -> (loss, dout) or (loss, dout, head_grads), where out is a layer
output (N, T, W_l) and dout has its shape; `readout_head` makes the usual one, a linear readout
with a mean squared error.
"""
import numpy as np

from .validation import check_shape


def readout_mse(out, W, b, target):
    """Linear readout and squared error: pred = out @ W + b,
    loss = 0.5 * sum((pred - target)^2) / N.

    out: (N, ..., W_l); W: (W_l, K); b: (K,); target: (N, ..., K).
    Returns loss, dout (shaped like out) and {"W": dW, "b": db}.
    """
    check_shape("W", W, (out.shape[-1], "K"))
    check_shape("target", target, out.shape[:-1] + (W.shape[1],))
    N = out.shape[0]
    pred = out @ W + b
    loss = 0.5 * float(np.sum((pred - target) ** 2)) / N
    # backward: loss = 0.5 sum(diff^2) / N, pred = out @ W + b
    dpred = (pred - target) / N
    dout = dpred @ W.T
    dW = out.reshape(-1, W.shape[0]).T @ dpred.reshape(-1, W.shape[1])
    db = dpred.reshape(-1, W.shape[1]).sum(axis=0)
    return loss, dout, {"W": dW, "b": db}


def readout_head(W, b, target, steps=None):
    """A head: `readout_mse` of a layer's output at the time steps `steps` (None: every step; an
    int such as -1 or a slice picks steps, and target is shaped for them: (N, K) for an int)."""
    pick = slice(None) if steps is None else steps

    def head(out):
        loss, dpicked, grads = readout_mse(out[:, pick], W, b, target)
        dout = np.zeros_like(out)
        dout[:, pick] = dpicked
        return loss, dout, grads

    return head


def auxiliary_losses(cache, heads, weight=1.0):
    """Evaluate loss heads on layer outputs of one run.

    cache: from `net.forward`; heads: {layer l: head}; weight: scales every auxiliary loss.
    Returns losses {l: weight * loss}, dlayers {l: weight * dout (N, T, W_l)} (pass to
    `net.backward(..., dlayers=dlayers)`) and head_grads {l: the head's own weighted gradients,
    or {}}.
    """
    outputs = cache.outputs
    losses, dlayers, head_grads = {}, {}, {}
    for l, head in heads.items():
        if l not in outputs or l == 0:
            raise ValueError(f"heads keys must be layer numbers 1..{len(outputs) - 1}; got {l!r}")
        loss, dout, *rest = head(outputs[l])
        check_shape(f"the gradient of heads[{l}]", dout, outputs[l].shape)
        losses[l] = weight * loss
        dlayers[l] = weight * dout
        head_grads[l] = {k: weight * g for k, g in (rest[0] if rest else {}).items()}
    return losses, dlayers, head_grads


def layer_gradient_norms(net, grads):
    """(L,) array: the Euclidean norm of all of layer l's parameter gradients together."""
    return np.array([np.sqrt(sum(float(np.sum(g * g)) for k, g in grads.items()
                                 if k.startswith(f"layers.{l}.")))
                     for l in range(1, net.num_layers + 1)])


def compare_auxiliary_losses(net, x, aux_layers, weight=1.0, num_targets=2, steps=None, seed=0):
    """Measure what auxiliary losses do to the gradient reaching each layer's parameters.

    A regression task with random targets (N, T, num_targets) and random linear readouts (seeded):
    a readout + MSE loss on the top layer, and the same kind of head on each layer of aux_layers.
    Returns {"without": (L,), "with": (L,)} parameter-gradient norms per layer (from the real
    `net.backward`) and "ratio": with / without for layer 1.
    """
    rng = np.random.default_rng(seed)
    y, _, cache = net.forward(x)
    if not net.return_sequences:
        raise ValueError("compare_auxiliary_losses needs a net with return_sequences=True")
    N, T = x.shape[:2]
    target = rng.standard_normal((N, T, num_targets))
    target = target if steps is None else target[:, steps]

    def random_head(width):
        W = rng.standard_normal((width, num_targets)) / np.sqrt(width)
        return readout_head(W, np.zeros(num_targets), target, steps)

    _, dy, _ = random_head(y.shape[-1])(y)
    widths = net.output_widths()
    _, dlayers, _ = auxiliary_losses(cache, {l: random_head(widths[l - 1]) for l in aux_layers},
                                     weight)
    _, grads_without = net.backward(dy, cache)
    _, grads_with = net.backward(dy, cache, dlayers=dlayers)
    without = layer_gradient_norms(net, grads_without)
    with_aux = layer_gradient_norms(net, grads_with)
    return {"without": without, "with": with_aux, "ratio": float(with_aux[0] / without[0])}
