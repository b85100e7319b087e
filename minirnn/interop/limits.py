"""What a PyTorch or Keras stack cannot express, checked before weights cross over.

Weights do not say how a network is wired or trained. Where a StackedRNN has a feature the target
framework has no counterpart for, the same weights would compute another function there, so the
exporters (and the Keras import into an existing network) refuse it with one ValueError naming
every such feature and why. Each target's module lists what it can and cannot express.
"""


def wiring_limits(net, target):
    """[reason] for the skip edges and clocks of `net`, which no `target` stack has."""
    reasons = []
    if net.skip_edges:
        reasons.append(f"skip edges {net.skip_edges} (a {target} stack feeds each layer only "
                       f"the output of the layer below)")
    if any(period != 1 for period in net.clock_periods):
        reasons.append(f"clock_periods={net.clock_periods} (a {target} layer updates at every "
                       f"step; a clocked layer carries its state between its ticks)")
    return reasons


def refuse(action, reasons):
    """Raise a ValueError "cannot <action>: <reason>; <reason>" if there is any reason."""
    if reasons:
        raise ValueError(f"cannot {action}: it has " + "; ".join(reasons))
