"""Exercise 5, sequence_loss: softmax cross-entropy over time, with a padding mask.

What it teaches: the loss is the mean over the real steps only: padded steps get no gradient and
do not count in the mean; d loss / d logits = (softmax - onehot(label)) / (number of real steps),
the gradient every sequence classifier's backward starts from.

Shape legend: N batch, T time steps, C classes.

    p[n, t]  = softmax(logits[n, t])                          (C,)
    loss     = -(1 / count) sum over (n, t) with mask[n, t] of log p[n, t, labels[n, t]]
    count    = the number of True entries of mask

Compute log p stably: a - max(a) - log(sum(exp(a - max(a)))). The library's version:
minirnn/losses.py, `softmax_cross_entropy`.

    python -m minirnn exercises check sequence_loss
    python -m minirnn exercises hint sequence_loss
"""
import numpy as np


def softmax_cross_entropy(logits, labels, mask):
    """logits: (N, T, C) float; labels: (N, T) ints in [0, C); mask: (N, T) bool, False on padded
    steps. Returns loss (a float) and dlogits: (N, T, C)."""
    # TODO: your code here (about 8 lines)
    raise NotImplementedError("softmax_cross_entropy")
