"""The fourth opinion: PyTorch's autograd on the same inputs, when torch is installed.

A learner who suspects the reference can see a framework that shares no code with minirnn agree
with it. The network goes over with `interop.to_torch_module` and the gradients come back with
`interop.gradients_from_torch`; autograd differentiates the loss sum(dy * y) + sum(dfinal * final
states), so a step is a sequence of length one.

Shape legend: N batch, T time steps, D input features, H hidden units, C classes.
"""
import importlib.util

import numpy as np

from ..interop import gradients_from_torch, states_to_torch, to_torch_module
from ..stack import StackedRNN


def torch_available():
    return importlib.util.find_spec("torch") is not None


def torch_stack_gradients(net, x, initial_states, dy, dfinal=None):
    """dx (N, T, D), the initial-state gradients {state name: (dirs*L, N, H)} and the parameter
    gradients {key: array} of sum(dy * y) + sum over states of sum(dfinal[name] * final state),
    by PyTorch autograd. dfinal: {state name: (dirs*L, N, H)} or None."""
    import torch

    module = to_torch_module(net)
    xt = torch.tensor(x, requires_grad=True)
    states = [torch.tensor(s, requires_grad=True) for s in states_to_torch(initial_states)]
    y, finals = module(xt, states[0] if len(states) == 1 else tuple(states))
    finals = [finals] if len(states) == 1 else list(finals)
    loss = (y * torch.from_numpy(dy)).sum()
    for name, final in zip(net.spec.state_names, finals):
        if dfinal is not None and name in dfinal:
            loss = loss + (final * torch.from_numpy(dfinal[name])).sum()
    loss.backward()
    dstates = {name: s.grad.numpy() for name, s in zip(net.spec.state_names, states)}
    return xt.grad.numpy(), dstates, gradients_from_torch(net, module)


def cell_witness(spec, sequence):
    """witness(inputs) -> {output name: array} for a cell task of gated.py's inputs: a step
    (outputs dx, dprev_<s>, d<param>) or a sequence (dx, d<s>0, d<param>)."""
    def witness(inputs):
        x = inputs["x"] if sequence else inputs["x"][:, None]
        N, _, D = x.shape
        H = inputs["Wh"].shape[0]
        net = StackedRNN(spec.name, D, [H], backend="numpy")
        net.params = {key: inputs[name] for key, name in zip(net.param_keys(1, "fwd"),
                                                              spec.param_names)}
        prefix = "" if sequence else "prev_"
        states = [{name: inputs[f"{prefix}{name}{'0' if sequence else ''}"][None]
                   for name in spec.state_names}]
        dy = inputs["dh"] if sequence else inputs["dnext_h"][:, None]
        dfinal = None if sequence else {name: inputs["dnext_" + name][None]
                                        for name in spec.state_names[1:]}
        dx, dstates, grads = torch_stack_gradients(net, x, states, dy, dfinal)
        outputs = {"dx": dx if sequence else dx[:, 0]}
        for name in spec.state_names:
            outputs[f"d{name}0" if sequence else f"dprev_{name}"] = dstates[name][0]
        outputs.update({"d" + name: grads[key] for key, name in zip(net.param_keys(1, "fwd"),
                                                                    spec.param_names)})
        return outputs
    return witness


def loss_witness(inputs):
    """{loss, dlogits} of the masked mean softmax cross-entropy, by PyTorch."""
    import torch

    logits = torch.tensor(inputs["logits"], requires_grad=True)
    C = logits.shape[-1]
    mask = torch.from_numpy(inputs["mask"].astype(np.float64))
    per_item = torch.nn.functional.cross_entropy(
        logits.reshape(-1, C), torch.from_numpy(inputs["labels"]).reshape(-1), reduction="none")
    loss = (per_item * mask.reshape(-1)).sum() / mask.sum()
    loss.backward()
    return {"loss": np.asarray(loss.item()), "dlogits": logits.grad.numpy()}


def stack_witness(forward):
    """witness(inputs) for a stack task: forward(inputs) -> (net, y, cache) builds the network
    and its initial states from the inputs (stacks.py's stack_forward)."""
    def witness(inputs):
        net, _, cache = forward(inputs)
        initial = [{name: inputs[f"{name}0 of layer {l}"] for name in net.spec.state_names}
                   for l in range(1, net.num_layers + 1)]
        dx, _, grads = torch_stack_gradients(net, inputs["x"], initial, inputs["dy"])
        return {"dx": dx, **grads}
    return witness
