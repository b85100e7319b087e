"""Bug hunt 3: a tanh RNN step with recurrent dropout, shipped with one planted bug.

What it teaches: with recurrent dropout the step reads prev_h * m: every gradient that crosses
that product carries the mask. Run the check to see what is wrong and where; the gradient checker
and the Jacobian tools (docs/derivations.md) take you to the line. Fix it in place.

Shape legend: N batch, D input features, H hidden units.

    a      = x @ Wx + (prev_h * m) @ Wh + b        m: (N, H), the recurrent-dropout mask
    next_h = tanh(a)

The forward is the library's `rnn_step_forward(x, prev_h, Wx, Wh, b, recurrent_mask)` (cache: x,
prev_h, Wx, Wh, next_h, recurrent_mask).

    python -m minirnn exercises check bug_hunt_3
    python -m minirnn exercises hint bug_hunt_3
"""


def rnn_step_backward(dnext_h, cache):
    """dnext_h: (N, H). Returns dx: (N, D), dprev_h: (N, H), dWx: (D, H), dWh: (H, H), db: (H,)."""
    m = cache["recurrent_mask"]
    da = dnext_h * (1.0 - cache["next_h"] ** 2)
    dx = da @ cache["Wx"].T
    dprev_h = (da @ cache["Wh"].T) * m
    dWx = cache["x"].T @ da
    dWh = cache["prev_h"].T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dWx, dWh, db
