"""Graph-recurrent networks: recurrent layers per node, graph convolutions between nodes.

    adjacency.py    the normalised adjacency (symmetric, random walk, dual random walk), hops
    convolution.py  K-hop graph convolution, forward and backward
    gru.py          the graph-convolutional GRU (DCRNN / T-GCN style): step and sequence
    model.py        GraphRNN: a per-node StackedRNN, a graph GRU or message passing on top, a
                    per-node head; series_windows for one-step-ahead forecasting
    influence.py    the Jacobian of each node's prediction with respect to every node's past

    from minirnn.graph import GraphRNN, influence, series_windows
    x, y, _ = series_windows(series, window=8)          # series: (T, N, F) -> (S, 8, N, F)
    model = GraphRNN(adjacency, F, [16], top="gru", hops=1)
    out, cache = model.forward(x)                       # (S, N, 1): each node's next step
    dx, grads = model.backward(dout, cache)
    minirnn.train.fit(model, "mse", (x, y))             # the Sequential protocol
    influence(model, x[:10])                            # (N, T, N): whose past moves whom
"""
from .adjacency import check_adjacency, graph_supports, hop_distances, normalized_adjacency
from .convolution import graph_conv_backward, graph_conv_forward
from .gru import (graph_gru_backward, graph_gru_forward, graph_gru_step_backward,
                  graph_gru_step_forward)
from .influence import influence, prediction_jacobian
from .model import (GraphCache, GraphRNN, message_passing_backward, message_passing_forward,
                    series_windows)

__all__ = ["check_adjacency", "normalized_adjacency", "graph_supports", "hop_distances",
           "graph_conv_forward", "graph_conv_backward", "graph_gru_step_forward",
           "graph_gru_step_backward", "graph_gru_forward", "graph_gru_backward", "GraphRNN",
           "GraphCache", "message_passing_forward", "message_passing_backward",
           "series_windows", "prediction_jacobian", "influence"]
