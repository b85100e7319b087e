"""Fixed points and slow points of one layer under a constant input (Sussillo & Barak 2013).

Shape legend: M candidate points, H hidden units, S state size (H for 'rnn' and 'gru', 2H for
'lstm', whose state is the pair [h, c]), D_l the layer's input width.

With the layer's input held at u, one step is a map of the state, s -> F(s) = step(u, s). A fixed
point has F(s*) = s*; a slow point has a small speed

    q(s) = 0.5 ||F(s) - s||^2,          dq/ds = (J(s) - I)^T (F(s) - s),   J = dF/ds.

q is minimised from many starts with L-BFGS (scipy); the gradient needs only the product J^T r,
which is exactly the cell's hand-written one-step backward with dnext_state = r. Candidates are
polished with Newton steps s <- s - (J - I)^{-1} (F(s) - s) where that lowers q, deduplicated,
and classified by the eigenvalues lambda of J (the full Jacobian, built row by row from the same
backward):

    stable      every |lambda| < 1       (an attractor of the discrete map)
    unstable    every |lambda| > 1
    saddle      some inside, some outside the unit circle
    marginal    some |lambda| = 1 (within tol), e.g. a line attractor
    oscillatory any eigenvalue off the real axis (the approach or escape spirals)

Continuous-time view: reading the step as Euler steps of length dt of ds/dt = (F(s) - s) / dt,
the linearised flow has eigenvalues (lambda - 1) / dt; stable means real part < 0.

The temporal Jacobian here is private to this module: minirnn/jacobians/ holds the general
per-step Jacobians of a whole run. Any registered cell works: the map calls its CellSpec's step
forward and backward.
"""
from dataclasses import dataclass

import numpy as np

from .states import check_layer


class LayerMap:
    """One direction of one layer as a map of its flat state s (M, S) under a constant input u."""

    def __init__(self, net, layer, layer_input=None, direction="fwd"):
        layer = check_layer(net, layer)
        if direction not in net.directions:
            raise ValueError(f"direction must be one of {net.directions}; got {direction!r}")
        self.params = [p.astype(np.float64) for p in net.layer_params(layer, direction)]
        width = self.params[0].shape[0]  # Wx: (D_l, G*H)
        u = np.zeros(width) if layer_input is None else np.asarray(layer_input, dtype=np.float64)
        if u.shape != (width,):
            raise ValueError(f"layer_input must have shape ({width},) (layer {layer}'s input "
                             f"width); got {u.shape}")
        self.u = u
        self.hidden = net.hidden_sizes[layer - 1]
        self.num_states = len(net.spec.state_names)
        self.size = self.hidden * self.num_states  # S
        self.step_forward, self.step_backward = net.spec.step_forward, net.spec.step_backward

    def split(self, s):
        return np.split(s, self.num_states, axis=-1)

    def __call__(self, s):
        """F(s): (M, S) -> (M, S), and the step cache for `vjp`."""
        s = np.atleast_2d(s)
        *next_states, cache = self.step_forward(np.broadcast_to(self.u, (len(s), len(self.u))),
                                                *self.split(s), *self.params)
        return np.concatenate(next_states, axis=-1), cache

    def vjp(self, r, cache):
        """r^T J: the one-step backward with dLoss/dnext_state = r (M, S); returns (M, S)."""
        _, *dprev = self.step_backward(*self.split(r), cache)
        return np.concatenate(dprev[:self.num_states], axis=-1)

    def speed(self, s):
        """q(s) = 0.5 ||F(s) - s||^2 per point, (M,), and its gradient (M, S)."""
        Fs, cache = self(s)
        r = Fs - s
        return 0.5 * np.sum(r * r, axis=-1), self.vjp(r, cache) - r

    def jacobian(self, s):
        """J = dF/ds at each point: (M, S, S), J[m, i, j] = dF_i / ds_j, row i from one backward."""
        M, S = s.shape
        _, cache = self(np.repeat(s, S, axis=0))  # (M*S, S): point m repeated once per row i
        unit_rows = np.tile(np.eye(S), (M, 1))
        return self.vjp(unit_rows, cache).reshape(M, S, S)


@dataclass
class FixedPoint:
    """state: (S,) the point ([h, c] for an LSTM); speed: q(state); jacobian: (S, S);
    eigenvalues: (S,) of the Jacobian, by decreasing modulus; continuous_eigenvalues:
    (lambda - 1) / dt; stability: 'stable' | 'unstable' | 'saddle' | 'marginal';
    oscillatory: any complex eigenvalue; fixed: speed below the fixed-point tolerance
    (else a slow point)."""
    state: np.ndarray
    speed: float
    jacobian: np.ndarray
    eigenvalues: np.ndarray
    continuous_eigenvalues: np.ndarray
    stability: str
    oscillatory: bool
    fixed: bool

    def describe(self):
        kind = "fixed point" if self.fixed else "slow point"
        spin = ", oscillatory" if self.oscillatory else ""
        lam = ", ".join(f"{v:.3g}" for v in self.eigenvalues[:4])
        more = ", ..." if len(self.eigenvalues) > 4 else ""
        return (f"{kind} ({self.stability}{spin}) q = {self.speed:.2e}, |s| = "
                f"{np.linalg.norm(self.state):.3g}, eigenvalues [{lam}{more}]")


def classify_eigenvalues(eigenvalues, tol=1e-6):
    """('stable' | 'unstable' | 'saddle' | 'marginal', oscillatory) from a map's eigenvalues."""
    modulus = np.abs(eigenvalues)
    inside, outside = modulus < 1 - tol, modulus > 1 + tol
    if not np.all(inside | outside):
        stability = "marginal"
    elif np.all(inside):
        stability = "stable"
    elif np.all(outside):
        stability = "unstable"
    else:
        stability = "saddle"
    return stability, bool(np.any(np.abs(np.imag(eigenvalues)) > tol))


def newton_polish(layer_map, s, steps=20):
    """Newton steps on F(s) - s = 0, each kept only where it lowers q. s: (M, S)."""
    q, _ = layer_map.speed(s)
    eye = np.eye(s.shape[1])
    for _ in range(steps):
        Fs, _ = layer_map(s)
        try:
            delta = np.linalg.solve(layer_map.jacobian(s) - eye, (Fs - s)[..., None])[..., 0]
        except np.linalg.LinAlgError:
            break
        trial = s - delta
        q_trial, _ = layer_map.speed(trial)
        better = q_trial < q
        if not np.any(better):
            break
        s = np.where(better[:, None], trial, s)
        q = np.where(better, q_trial, q)
    return s, q


def minimise_speed(layer_map, starts, max_iter):
    """L-BFGS on q from each start (M, S); returns the minimisers (M, S)."""
    from scipy.optimize import minimize

    def objective(flat):
        q, grad = layer_map.speed(flat.reshape(1, -1))
        return float(q[0]), grad[0]

    return np.array([minimize(objective, s0, jac=True, method="L-BFGS-B",
                              options={"maxiter": max_iter, "gtol": 1e-12, "ftol": 1e-20}).x
                     for s0 in starts])


def find_fixed_points(net, layer, layer_input=None, direction="fwd", starts=None,
                      num_starts=64, scale=1.0, seed=0, fixed_tol=1e-12, slow_tol=1e-4,
                      unique_tol=1e-4, eig_tol=1e-6, dt=1.0, max_iter=500):
    """Fixed and slow points of layer `layer` (one direction) with its input held at
    layer_input (D_l,) (default zeros).

    starts: (M, S) initial states (e.g. `visited_states(net, cache, layer)`); default num_starts
    points uniform in [-scale, scale]^S. A minimum with q < fixed_tol is a fixed point, with
    q < slow_tol a slow point; the others are dropped. Points closer than unique_tol (max-norm)
    to a lower-speed one are duplicates. eig_tol: the margin around |lambda| = 1 and Im = 0.
    dt: the step length of the continuous-time view.
    Returns a list of FixedPoint, fixed points first, each group by increasing speed.
    """
    layer_map = LayerMap(net, layer, layer_input, direction)
    S = layer_map.size
    if starts is None:
        rng = np.random.default_rng(seed)
        starts = rng.uniform(-scale, scale, size=(num_starts, S))
    starts = np.asarray(starts, dtype=np.float64)
    if starts.ndim != 2 or starts.shape[1] != S:
        raise ValueError(f"starts must have shape (M, {S}) (M points of the layer's flat state)"
                         f"; got {starts.shape}")
    points, speeds = newton_polish(layer_map, minimise_speed(layer_map, starts, max_iter))
    keep = speeds < slow_tol
    points, speeds = points[keep], speeds[keep]
    unique = []
    for m in np.argsort(speeds):
        if all(np.max(np.abs(points[m] - points[k])) > unique_tol for k in unique):
            unique.append(m)
    results = []
    for m in unique:
        J = layer_map.jacobian(points[m:m + 1])[0]
        eig = np.linalg.eigvals(J)
        eig = eig[np.argsort(-np.abs(eig), kind="stable")]
        stability, oscillatory = classify_eigenvalues(eig, eig_tol)
        results.append(FixedPoint(state=points[m], speed=float(speeds[m]), jacobian=J,
                                  eigenvalues=eig, continuous_eigenvalues=(eig - 1.0) / dt,
                                  stability=stability, oscillatory=oscillatory,
                                  fixed=bool(speeds[m] < fixed_tol)))
    return sorted(results, key=lambda p: (not p.fixed, p.speed))
