"""The recurrent cells as a readable NumPy reference, and the registry every other module asks.

    spec.py             CellSpec (what the library knows about a cell) and register_cell / get_cell
    rnn.py, lstm.py,    one cell each: step forward and backward, the exact step Jacobians, the
    gru.py              named sequence functions, and the cell's CellSpec at the bottom
    sequence.py         the one loop over time (forward and BPTT) that runs any cell's steps
    masking.py          skipped steps (padding, clocks) and the dropout masks
    activations.py      sigmoid, and the local derivatives dtanh, dsigmoid

The sequence functions of every cell have one calling convention (its states, then its parameters):

    h, cache = forward(x, *initial_states, *params, mask=None, recurrent_mask=None)  # h: (N, T, H)
    dx, *dinitial_states, *dparams = backward(dh, cache, *dfinal_states)
"""
from .gru import (GRU, gru_backward, gru_forward, gru_step_backward, gru_step_forward,
                  gru_step_jacobians)
from .lstm import (LSTM, lstm_backward, lstm_forward, lstm_step_backward, lstm_step_forward,
                   lstm_step_jacobians)
from .rnn import (RNN, rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward,
                  rnn_step_jacobians)
from .sequence import sequence_backward, sequence_forward, step_cache
from .spec import CELLS, CellSpec, get_cell, register_cell

for _spec in (RNN, LSTM, GRU):
    register_cell(_spec)

__all__ = ["CellSpec", "CELLS", "get_cell", "register_cell",
           "sequence_forward", "sequence_backward", "step_cache",
           "rnn_step_forward", "rnn_step_backward", "rnn_forward", "rnn_backward",
           "rnn_step_jacobians", "lstm_step_forward", "lstm_step_backward", "lstm_forward",
           "lstm_backward", "lstm_step_jacobians", "gru_step_forward", "gru_step_backward",
           "gru_forward", "gru_backward", "gru_step_jacobians"]
