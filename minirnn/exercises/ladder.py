"""The ladder: every exercise, in the order to do them (each builds on the ones before)."""
from .basics import (NUMERICAL_GRADIENT, RNN_BPTT, RNN_STEP, SEQUENCE_LOSS,
                     TRUNCATED_BPTT)
from .gated import GRU_STEP, LSTM_BPTT, LSTM_STEP

LADDER = (NUMERICAL_GRADIENT, RNN_STEP, RNN_BPTT, TRUNCATED_BPTT, SEQUENCE_LOSS, LSTM_STEP,
          LSTM_BPTT, GRU_STEP)
