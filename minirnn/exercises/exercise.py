"""What an exercise is: the functions a learner writes, how test inputs are drawn, the library
function each is compared with, the misconceptions it can recognise, and three hints.

An exercise never holds a second copy of the library's maths. A task's `run` calls functions by
name from a namespace, and the checker runs it twice: once with the library's reference functions
(the solution) and once with the learner's. A bug is a *mutated* version of the reference
function, with the learner's signature (a cache edited before the reference backward reads it, a
loop that forgets the carry around the reference step): a learner's result that matches a bug's
names the misconception, and the tests apply every bug as a learner would have written it.
"""
from dataclasses import dataclass, field
from typing import Callable


@dataclass(frozen=True)
class Output:
    """One returned array. legend: its shape in letters, e.g. "(N, H)". time_axis: axis 1 is
    time, so a mismatch is located at the first diverging step, scanning back from T. gates: the
    names of the blocks along the last axis (the LSTM's "i", "f", "g", "o"), so a mismatch is
    located per block. states: for a state Jacobian (..., S, S), the cell whose state blocks
    ("dnext_c/dprev_h", ...) a mismatch is located in. where: the layer and direction it belongs
    to in a stack ("layer 1 (fwd)"), so a mismatch is located in depth and direction."""
    name: str
    legend: str
    time_axis: bool = False
    gates: tuple = ()
    states: str = ""
    where: str = ""


@dataclass(frozen=True)
class Bug:
    """A misconception. function: the reference function with that mistake made, the learner's
    signature; wrong: the outputs it gets wrong; at: where the checker must locate it, fragments
    of its report such as "t = 2" (a string for one)."""
    name: str
    hint: str
    function: Callable
    wrong: tuple
    at: tuple = ()


@dataclass(frozen=True)
class Task:
    """One function the learner writes.

    function: its name in the learner's file. run(fns, inputs): its outputs on the inputs, calling
    what it needs from the namespace `fns` (the forward first, for a backward). outputs: what it
    returns, in order. gradient_of: for a backward, {output name: (input name, upstream input
    name, forward(fns, inputs) -> the forward output that upstream multiplies)}, for the
    independent centered-difference stage. numeric(inputs) -> {output name: array}: for an
    output that is not a gradient (a Jacobian), the same third opinion computed another way.
    torch(inputs) -> {output name: array}: the outputs by PyTorch autograd (witness.py), the
    fourth opinion when torch is installed. bugs: the misconceptions it recognises.
    """
    function: str
    run: Callable
    outputs: tuple
    gradient_of: dict = field(default_factory=dict)
    bugs: tuple = ()
    numeric: Callable = None
    torch: Callable = None


@dataclass(frozen=True)
class Exercise:
    """name: the command-line name; title, and teaches (two lines); stub: the file under
    exercises/stubs/; reference: {function name: the library's function}; tasks, in the order
    they are checked; make_inputs(rng, saturated) -> {name: array}, one case (saturated=True
    drives the units towards +-1, where a wrong local derivative shows most); sizes: {letter: size}
    for the shape messages; hints: three levels, the vaguest first."""
    name: str
    title: str
    teaches: str
    stub: str
    reference: dict
    tasks: tuple
    make_inputs: Callable
    sizes: dict
    hints: tuple
    seeds: tuple = (0, 1, 2)
    tolerance: float = 1e-7
    planted: bool = False


def gradients_of(forward, upstream, **inputs):
    """A task's `gradient_of`: output d<input> is dLoss/d inputs[input] for the loss
    sum(upstream * forward(fns, inputs))."""
    return {output: (name, upstream, forward) for output, name in inputs.items()}
