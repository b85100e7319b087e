"""Probes that look inside a trained or hand-built StackedRNN, one idea per module:

    frequency     frequency_response: each layer's gain and transfer at a sweep of frequencies
    impulse       impulse_response: each layer's distance after a kick, its decay time constant
    lesions       lesion_recurrence, clamp_gate, remove_skip_edge, lesion_study
    fixed_points  find_fixed_points: fixed / slow points of a layer and their eigenvalues
    saliency      saliency: d output / d input step and / d each layer's state, a (T x layer) map;
                  cell_trace: one cell's state gradients and per-step parameter gradients
    probes        linear_probe, probe_layer: least-squares readouts scored by held-out R^2;
                  best_unit: the single unit most correlated with a target
"""
from .fixed_points import FixedPoint, classify_eigenvalues, find_fixed_points
from .frequency import FrequencyResponse, frequency_response
from .impulse import ImpulseResponse, decay_time_constant, impulse_response
from .lesions import (LesionStudy, clamp_gate, copy_network, lesion_recurrence, lesion_study,
                      remove_skip_edge, standard_lesions)
from .probes import LinearProbe, best_unit, linear_probe, probe_layer
from .saliency import CellTrace, Saliency, cell_trace, saliency, state_gradients
from .states import layer_states, visited_states

__all__ = ["FixedPoint", "classify_eigenvalues", "find_fixed_points",
           "FrequencyResponse", "frequency_response",
           "ImpulseResponse", "decay_time_constant", "impulse_response",
           "LesionStudy", "clamp_gate", "copy_network", "lesion_recurrence", "lesion_study",
           "remove_skip_edge", "standard_lesions",
           "LinearProbe", "best_unit", "linear_probe", "probe_layer",
           "CellTrace", "Saliency", "cell_trace", "saliency", "state_gradients",
           "layer_states", "visited_states"]
