"""Weight import and export: PyTorch (`pytorch.py`) and Keras (`keras.py`) layouts."""
from .keras import from_keras, layer_from_keras, layer_to_keras, load_keras_weights, to_keras
from .pytorch import (from_state_dict, from_torch, gradients_from_torch, states_from_torch,
                      states_to_torch, to_torch, to_torch_module)

__all__ = ["from_torch", "from_state_dict", "to_torch", "to_torch_module", "gradients_from_torch",
           "states_from_torch",
           "states_to_torch", "from_keras", "to_keras", "load_keras_weights", "layer_from_keras",
           "layer_to_keras"]
