"""The three recurrent cells as a readable NumPy reference, and the description the stack uses.

Each cell module (`rnn.py`, `lstm.py`, `gru.py`) holds `*_step_forward/backward` and
`*_forward/backward` over a sequence. `CellSpec` tells `StackedRNN` what a cell carries, so the
stack needs no per-cell branches: its state names, its parameter names and shapes, and its pair of
sequence functions with the uniform calling convention

    h, cache = forward(x, *initial_states, *params)          # h: (N, T, H)
    dx, *dinitial_states, *dparams = backward(dh, cache, *dfinal_states)
"""
from dataclasses import dataclass
from typing import Callable

from .gru import (gru_backward, gru_forward, gru_step_backward, gru_step_forward,
                  gru_step_jacobians)
from .lstm import (lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward,
                   lstm_step_jacobians)
from .rnn import (rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                  rnn_step_jacobians)


@dataclass(frozen=True)
class CellSpec:
    name: str
    gates: int               # G: blocks along the columns of Wx and Wh
    state_names: tuple       # ("h",) or ("h", "c"); the final value of each is cache[name][:, -1]
    param_names: tuple       # in the order the sequence functions take them
    forward: Callable
    backward: Callable

    def param_shapes(self, input_size, hidden_size):
        """Shapes of this cell's parameters for D = input_size, H = hidden_size."""
        D, H, G = input_size, hidden_size, self.gates
        shapes = {"Wx": (D, G * H), "Wh": (H, G * H), "b": (G * H,), "bhn": (H,)}
        return {name: shapes[name] for name in self.param_names}

    def final_states(self, cache):
        """Each state after the last step, (N, H), in `state_names` order."""
        return tuple(cache[name][:, -1] for name in self.state_names)


CELLS = {
    "rnn": CellSpec("rnn", 1, ("h",), ("Wx", "Wh", "b"), rnn_forward, rnn_backward),
    "lstm": CellSpec("lstm", 4, ("h", "c"), ("Wx", "Wh", "b"), lstm_forward, lstm_backward),
    "gru": CellSpec("gru", 3, ("h",), ("Wx", "Wh", "b", "bhn"), gru_forward, gru_backward),
}


def get_cell(name):
    """The CellSpec for 'rnn', 'lstm' or 'gru'; a clear ValueError for anything else."""
    if not isinstance(name, str) or name not in CELLS:
        raise ValueError(f"cell must be one of {sorted(CELLS)}; got {name!r}")
    return CELLS[name]


__all__ = ["CellSpec", "CELLS", "get_cell",
           "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "rnn_step_jacobians", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
           "lstm_backward", "lstm_step_jacobians", "gru_step_forward", "gru_step_backward",
           "gru_forward", "gru_backward", "gru_step_jacobians"]
