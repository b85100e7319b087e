"""CellSpec: everything the library knows about one recurrent cell, and the registry of cells.

Shape legend: N batch, D input features, H hidden units, G gate blocks.

A cell is a pair of step functions in the house style (see lstm.py) with one calling convention.
Its states are named, the first is always "h" (the output), and its parameters are Wx: (D, G*H),
Wh: (H, G*H), b: (G*H,), then any `extra_params` vectors, in that order:

    *next_states, cache = step_forward(x, *prev_states, *params, recurrent_mask=None)
    dx, *dprev_states, *dparams = step_backward(*dnext_states, cache)

The step cache is a dict holding x, the states ("prev_h", "next_h", ...), the parameters by name,
"recurrent_mask" and the cell's own intermediates; cells/sequence.py keeps one (N, T, ...) array
per intermediate, so the step backward later gets exactly what the step forward produced.

Everything else is written once for every cell: cells/sequence.py runs the steps over time,
StackedRNN stacks them, gradcheck checks them, jacobians reads the step Jacobians, analysis finds
fixed points and lesions gates, train.fit trains, interop converts weights. Each consumer asks
`get_cell(name)`. The three built-in cells are CellSpecs like any other (at the bottom of rnn.py,
lstm.py and gru.py); a user's own cell is one call away:

    register_cell(CellSpec("mgu", gates=2, state_names=("h",),
                           step_forward=mgu_step_forward, step_backward=mgu_step_backward))
    net = StackedRNN("mgu", 3, [8, 8])
"""
import functools
import importlib
from dataclasses import dataclass, field
from typing import Callable, Optional

from ..backends import resolve_backend
from .sequence import sequence_backward, sequence_forward

BASE_PARAMS = ("Wx", "Wh", "b")


@dataclass(frozen=True)
class CellSpec:
    """One cell. Required: name, gates (G), state_names (("h",) or ("h", "c", ...)), step_forward,
    step_backward. Optional:

    step_jacobians    step cache -> {"dnext_<s>/dprev_<r>": (N, H, H), "dnext_<s>/dx": (N, H, D)}
                      for every pair of states s, r; None: jacobians/steps.py takes centered
                      differences of step_forward instead (and warns).
    total_gradients   (*dnext_states, step cache) -> the total gradient on each state, for a cell
                      whose step reads one of its new states to make another (the LSTM's
                      next_h = o * tanh(next_c)); the saliency of a state records it. None: the
                      gradients arriving at the states are already total.
    extra_params      {name: k}: vector parameters of shape (k*H,) after Wx, Wh, b (GRU: bhn).
    kernels           () -> (forward, backward): the sequence loops compiled (backend="numba"),
                      with the calling convention of cells/sequence.py; None: NumPy only.
    sigmoid_gates     {gate name: block}: the gates `analysis.clamp_gate` may hold open or closed.
    memory_gate       the gate that keeps the old state (`lesion_recurrence(memoryless=True)`).
    forget_gate       the gate whose bias `StackedRNN(forget_bias=...)` raises (LSTM: "f").
    torch_mode        the `mode` of the same torch.nn module ("RNN_TANH", "LSTM", "GRU").
    keras_gate_order  minirnn block k is Keras block keras_gate_order[k]; None: no Keras layer.
    recurrent_biases  {param: block}: recurrent-bias blocks kept apart from b instead of folded
                      into it, because they sit inside a gate's product (GRU: bhn, block n).
    gates_key         the step-cache key of the gate activations (N, G*H), blocks in gate order
                      (LSTM: "ifgo"). A cell that names it takes a gradient on them,
                      step_backward(*dnext_states, cache, dgates=(N, G*H)), which
                      `sequence_backward(dgates=...)` hands each step (penalties on the gates,
                      regularisers.py). None: no gradient on the gates.
    """
    name: str
    gates: int
    state_names: tuple
    step_forward: Callable
    step_backward: Callable
    step_jacobians: Optional[Callable] = None
    total_gradients: Optional[Callable] = None
    extra_params: dict = field(default_factory=dict)
    kernels: Optional[Callable] = None
    sigmoid_gates: dict = field(default_factory=dict)
    memory_gate: Optional[str] = None
    forget_gate: Optional[str] = None
    torch_mode: Optional[str] = None
    keras_gate_order: Optional[tuple] = None
    recurrent_biases: dict = field(default_factory=dict)
    gates_key: Optional[str] = None

    def __post_init__(self):
        check_spec(self)

    @functools.cached_property
    def param_names(self):
        """("Wx", "Wh", "b", *extra_params): the order the step and sequence functions take."""
        return BASE_PARAMS + tuple(self.extra_params)

    def param_shapes(self, input_size, hidden_size):
        """Shapes of this cell's parameters for D = input_size, H = hidden_size."""
        D, H, G = input_size, hidden_size, self.gates
        shapes = {"Wx": (D, G * H), "Wh": (H, G * H), "b": (G * H,)}
        shapes.update({name: (k * H,) for name, k in self.extra_params.items()})
        return shapes

    def final_states(self, cache):
        """Each state after the last step, (N, H), in `state_names` order."""
        return tuple(cache[name][:, -1] for name in self.state_names)

    @property
    def forward(self):
        """The NumPy reference over a sequence: forward(x, *states0, *params, mask=None,
        recurrent_mask=None, checked=False) -> (h, cache) (cells/sequence.py)."""
        return functools.partial(sequence_forward, self)

    @property
    def backward(self):
        """The NumPy reference BPTT: backward(dh, cache, *dfinal_states, checked=False)
        -> (dx, *dinitial_states, *dparams) (cells/sequence.py)."""
        return functools.partial(sequence_backward, self)

    def sequence_functions(self, backend=None):
        """(forward, backward) over a whole sequence on `backend`: the NumPy reference above, or
        the compiled kernels for "numba" (the default unless MINIRNN_BACKEND says otherwise)."""
        if resolve_backend(backend) == "numpy":
            return self.forward, self.backward
        if self.kernels is None:
            raise ValueError(f"cell {self.name!r} has no numba kernels; use backend='numpy'")
        return self.kernels()


def compiled_kernels(cell):
    """The `kernels` of a built-in cell: a loader of `<cell>_forward` and `<cell>_backward` from
    minirnn/kernels/<cell>.py, which imports them (and Numba) on first use only, so that
    importing minirnn stays cheap."""
    @functools.cache
    def load():
        # relative to this package, so that a second copy of minirnn under another name (the
        # "before" of benchmarks/bench_ab.py) loads its own kernels, not this one's
        module = importlib.import_module(f"..kernels.{cell}", __package__)
        return getattr(module, f"{cell}_forward"), getattr(module, f"{cell}_backward")
    return load


def check_spec(spec):
    """Clear errors for a CellSpec that the rest of the library could not use."""
    if not isinstance(spec.name, str) or not spec.name:
        raise ValueError(f"name must be a non-empty str; got {spec.name!r}")
    if not isinstance(spec.gates, int) or spec.gates < 1:
        raise ValueError(f"gates must be a positive int (the H-wide blocks of Wx); "
                         f"got {spec.gates!r}")
    names = spec.state_names
    if (not isinstance(names, tuple) or not names or names[0] != "h"
            or len(set(names)) != len(names)):
        raise ValueError(f"state_names must be a tuple of distinct names starting with 'h' (the "
                         f"output); got {names!r}")
    for role in ("step_forward", "step_backward", "step_jacobians", "total_gradients", "kernels"):
        value = getattr(spec, role)
        if value is not None and not callable(value):
            raise TypeError(f"{role} must be callable; got {type(value).__name__}")
    clash = set(spec.extra_params) & set(BASE_PARAMS)
    if clash or not all(isinstance(k, int) and k >= 1 for k in spec.extra_params.values()):
        raise ValueError(f"extra_params must map new names to positive ints k (shape (k*H,)); "
                         f"got {spec.extra_params!r}")
    blocks = {**spec.sigmoid_gates, **spec.recurrent_biases}
    if any(not 0 <= block < spec.gates for block in blocks.values()):
        raise ValueError(f"gate blocks must lie in 0..{spec.gates - 1}; got {blocks!r}")
    for role in ("memory_gate", "forget_gate"):
        if getattr(spec, role) not in (None, *spec.sigmoid_gates):
            raise ValueError(f"{role} must be one of sigmoid_gates {sorted(spec.sigmoid_gates)}; "
                             f"got {getattr(spec, role)!r}")
    if spec.gates_key is not None and (not isinstance(spec.gates_key, str) or not spec.gates_key):
        raise ValueError(f"gates_key must be None or a non-empty str (a step-cache key); "
                         f"got {spec.gates_key!r}")
    if set(spec.recurrent_biases) - set(spec.extra_params):
        raise ValueError(f"recurrent_biases must name extra_params; got {spec.recurrent_biases!r}")
    order = spec.keras_gate_order
    if order is not None and sorted(order) != list(range(spec.gates)):
        raise ValueError(f"keras_gate_order must be a permutation of 0..{spec.gates - 1}; "
                         f"got {order!r}")


CELLS = {}


def register_cell(spec, replace=False):
    """Add `spec` to the registry, so that StackedRNN(spec.name, ...) and every tool can use it.
    A name already taken raises unless replace=True. Returns spec."""
    if not isinstance(spec, CellSpec):
        raise TypeError(f"spec must be a CellSpec; got {type(spec).__name__}")
    if spec.name in CELLS and not replace:
        raise ValueError(f"a cell named {spec.name!r} is already registered; pick another name "
                         f"or pass replace=True")
    CELLS[spec.name] = spec
    return spec


def get_cell(name):
    """The registered CellSpec called `name`; a clear ValueError for anything else."""
    if not isinstance(name, str) or name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}; got {name!r} (add your own "
                         f"with minirnn.cells.register_cell)")
    return CELLS[name]
