"""minirnn: stacked tanh-RNN, LSTM and GRU in NumPy with hand-written backpropagation through time.

    import numpy as np, minirnn
    net = minirnn.StackedRNN("lstm", input_size=3, hidden_sizes=[3, 2])
    y, states, cache = net.forward(x)            # x: (N, T, 3)
    dx, grads = net.backward(dy, cache)          # grads has the keys of net.params
    print(minirnn.gradcheck.check_model(net, x))
"""
from . import (analysis, auxiliary, cells, constructions, data, gradcheck, interop, io, jacobians,
               layers, losses, model, optim, plot, train)
from .layers import Dense, Embedding
from .model import Recurrent, Sequential
from .stack import StackedRNN

__version__ = "0.1.0"
__all__ = ["StackedRNN", "Sequential", "Recurrent", "Embedding", "Dense", "analysis", "auxiliary",
           "cells", "constructions", "data", "gradcheck", "interop", "io", "jacobians", "layers",
           "losses", "model", "optim", "plot", "train", "__version__"]
