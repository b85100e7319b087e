"""Shared fixtures: a seeded generator and small random cell parameters with nonzero biases."""
import numpy as np
import pytest

from minirnn.cells import CELLS


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def random_cell_params(cell, D, H, rng, scale=0.5, dtype=np.float64):
    """{name: array} for one cell, every entry (biases included) drawn nonzero."""
    shapes = CELLS[cell].param_shapes(D, H)
    return {name: (scale * rng.standard_normal(shape)).astype(dtype) for name, shape in shapes.items()}


def random_states(cell, N, H, rng, dtype=np.float64):
    """{'h0': (N, H)} (+ 'c0' for the LSTM), nonzero."""
    return {name + "0": (0.5 * rng.standard_normal((N, H))).astype(dtype)
            for name in CELLS[cell].state_names}
