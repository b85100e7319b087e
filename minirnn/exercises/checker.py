"""The staged checker: it stops at the first stage a learner's function fails and says what to do.

    1 runs        it returns, without raising (NotImplementedError: "not started")
    2 structure   a tuple of the right length
    3 shapes      every output's shape and dtype, named: "dprev_h has shape (3, 10); expected
                  (3, 5) = (N, H)"
    4 values      against the library's reference, float64, several seeds, in an unsaturated and
                  a saturated regime: per output the relative error and the worst element, the
                  time step where a sequence gradient first diverges (scanning back from T), the
                  gate blocks that are off
    5 a third opinion   centered differences of the learner's own forward, for each gradient
      a fourth          PyTorch's autograd on the same inputs, when torch is installed
    6 misconception     the learner's outputs against each catalogued bug's: a match names it

float32 results get a warning: a centered difference in float32 has round-off of about
1e-7 / h = 1e-2, which hides real errors and invents false ones; checks run in float64.
"""
import ast
import inspect
import traceback
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import numerical_gradient, relative_error
from ..jacobians import state_blocks
from .progress import STUBS
from .witness import torch_available


@dataclass
class Report:
    """status: "not started", "failing" or "passed"; lines: what the checker found, in order;
    misconception: the name of the catalogued bug the learner's outputs match, or None; wrong:
    the outputs whose values are off; located: where they are off ("dx first diverges at t = 3",
    "gate blocks off: i, f (right: g, o)", ...), as in the lines."""
    exercise: str
    status: str
    lines: list = field(default_factory=list)
    misconception: str = None
    wrong: list = field(default_factory=list)
    located: list = field(default_factory=list)

    def __str__(self):
        return "\n".join([f"{self.exercise}: {self.status}"] + [f"  {line}" for line in self.lines])


def check_exercise(exercise, fns, given):
    """Check the learner's functions `given` (names) of the namespace `fns` (the reference's
    functions, overridden by the learner's) on every task. Returns a Report."""
    report = Report(exercise.name, "passed")
    for k, task in enumerate(exercise.tasks):
        if task.function not in given:
            report.lines.append(f"{task.function}: not given, the library's is used")
            continue
        if exercise.planted and unchanged(exercise, fns[task.function]):
            report.status = "not started"
            report.lines.append(f"{task.function} is the shipped function, unchanged: find the "
                                f"planted bug and fix it")
            return report
        problem = check_task(exercise, task, fns, report)
        if problem == "not started":
            report.status = "not started" if k == 0 or all(
                t.function not in given for t in exercise.tasks[:k]) else "failing"
            report.lines.append(f"{task.function} raises NotImplementedError: not written yet")
            return report
        if problem:
            report.status = "failing"
            return report
        report.lines.append(f"{task.function}: passed ({len(exercise.seeds)} seeds x 2 regimes)")
    return report


def check_task(exercise, task, fns, report):
    """Run one task through the stages; appends to report.lines. Returns None when it passes,
    "not started", or "failing"."""
    reference = exercise.reference
    for saturated in (False, True):
        for seed in exercise.seeds:
            inputs = exercise.make_inputs(np.random.default_rng(seed), saturated)
            expected = task.run(reference, copied(inputs))
            try:
                got = task.run(fns, copied(inputs))
            except NotImplementedError:
                return "not started"
            except Exception as error:  # the learner's code: say where it broke
                report.lines.append(f"{task.function} raised {type(error).__name__}: {error} "
                                    f"({where_raised(error)})")
                return "failing"
            regime = f"seed {seed}, {'saturated' if saturated else 'unsaturated'} regime"
            if not (structure_ok(task, got, report)
                    and shapes_ok(exercise, task, got, expected, report)):
                return "failing"
            if not values_ok(exercise, task, got, expected, regime, report):
                third_opinion(exercise, task, fns, inputs, got, report)
                fourth_opinion(task, inputs, got, expected, report)
                diagnose(exercise, task, inputs, got, report)
                return "failing"
    return None


def copied(inputs):
    """A fresh copy of every input array, so a function that edits its arguments edits its own
    (other inputs, such as a window length, pass as they are)."""
    return {k: v.copy() if isinstance(v, np.ndarray) else v for k, v in inputs.items()}


def unchanged(exercise, function):
    """Whether `function`'s source is the stub's function of that name, as shipped."""
    try:
        source = inspect.getsource(function)
    except (OSError, TypeError):
        return False
    stub = (STUBS / exercise.stub).read_text()
    shipped = [ast.get_source_segment(stub, node) for node in ast.parse(stub).body
               if isinstance(node, ast.FunctionDef) and node.name == function.__name__]
    return shipped == [source.rstrip()]


def where_raised(error):
    """'line L of FILE' for the innermost frame of the traceback."""
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"line {frame.lineno} of {frame.filename.rsplit('/', 1)[-1]}: {frame.line}"


def structure_ok(task, got, report):
    n = len(task.outputs)
    if not isinstance(got, tuple) or len(got) != n:
        kind = f"a {type(got).__name__}" + (f" of length {len(got)}" if hasattr(got, "__len__")
                                            else "")
        report.lines.append(f"{task.function} must return a tuple of {n} "
                            f"({', '.join(o.name for o in task.outputs)}); it returned {kind}")
        return False
    return True


def shapes_ok(exercise, task, got, expected, report):
    for output, a, e in zip(task.outputs, got, expected):
        if not isinstance(a, np.ndarray):
            report.lines.append(f"{output.name} must be a numpy array; got {type(a).__name__}")
            return False
        if a.shape != e.shape:
            report.lines.append(f"{output.name} has shape {a.shape}; expected {e.shape} = "
                                f"{output.legend} with {sizes_text(exercise.sizes)}")
            return False
        if a.dtype == np.float32:
            report.lines.append(f"warning: {output.name} is float32; check in float64 (float32 "
                                f"round-off, ~1e-7 per operation, swamps a 1e-7 tolerance)")
        elif a.dtype != e.dtype:
            report.lines.append(f"{output.name} has dtype {a.dtype}; expected {e.dtype}")
            return False
    return True


def sizes_text(sizes):
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def values_ok(exercise, task, got, expected, regime, report):
    wrong = [(o, a, e) for o, a, e in zip(task.outputs, got, expected)
             if relative_error(a, e) > exercise.tolerance]
    if not wrong:
        return True
    right = [o.name for o in task.outputs if o.name not in {w[0].name for w in wrong}]
    report.lines.append(f"{task.function}: values differ from the reference ({regime}); "
                        f"right: {', '.join(right) or 'none'}")
    report.wrong = [output.name for output, _, _ in wrong]
    for output, a, e in wrong:
        worst, *places = locate(output, a, e, exercise.tolerance)
        report.lines += [worst] + places
        report.located += [place.strip() for place in places]
    if any(o.where for o in task.outputs):
        report.lines.append(depth_and_direction(task.outputs, set(report.wrong)))
        report.located.append(report.lines[-1])
    return False


def depth_and_direction(outputs, wrong):
    """'wrong in layer 1 (fwd); right in layer 2 (fwd)': the layers and directions whose
    parameter gradients are off, from the top down."""
    places = list(dict.fromkeys(o.where for o in outputs if o.where))
    off = [p for p in places if any(o.name in wrong for o in outputs if o.where == p)]
    on = [p for p in places if p not in off]
    if not off:
        return "parameter gradients right in every layer and direction"
    return f"parameter gradients wrong in {', '.join(off)}" + (f"; right in {', '.join(on)}"
                                                              if on else "")


def locate(output, got, expected, tolerance):
    """Lines saying how far off `got` is and where: the worst element, the first diverging time
    step scanning back from T, the gate blocks that are off."""
    diff = np.abs(got - expected)
    worst = np.unravel_index(np.argmax(diff), diff.shape)
    lines = [f"{output.name}: relative error {relative_error(got, expected):.1e}; worst at "
             f"index {tuple(int(i) for i in worst)}: yours {got[worst]:.6g}, reference "
             f"{expected[worst]:.6g}"]
    if output.time_axis:
        T = got.shape[1]
        steps = [t for t in range(T - 1, -1, -1)
                 if relative_error(got[:, t], expected[:, t]) > tolerance]
        later = ("" if steps[0] == T - 1 else f"; step {T - 1} matches" if steps[0] == T - 2
                 else f"; steps {steps[0] + 1}..{T - 1} match")
        lines.append(f"  {output.name} first diverges at t = {steps[0]} (scanning back from "
                     f"t = {T - 1}{later})")
    if output.states:
        got_blocks, expected_blocks = (state_blocks(a, output.states) for a in (got, expected))
        off = [name for name in got_blocks
               if relative_error(got_blocks[name], expected_blocks[name]) > tolerance]
        lines.append(f"  {output.name}: state blocks off: {', '.join(off)}"
                     + (f" (right: {', '.join(b for b in got_blocks if b not in off)})"
                        if len(off) < len(got_blocks) else ""))
    if output.gates:
        blocks = zip(output.gates, np.split(got, len(output.gates), axis=-1),
                     np.split(expected, len(output.gates), axis=-1))
        off = [name for name, a, e in blocks if relative_error(a, e) > tolerance]
        on = [g for g in output.gates if g not in off]
        lines.append(f"  {output.name}: gate blocks off: {', '.join(off)}"
                     + (f" (right: {', '.join(on)})" if on else ""))
    return lines


def third_opinion(exercise, task, fns, inputs, got, report):
    """Centered differences of the learner's own forward for each gradient the task returns, or
    the task's own independent computation of an output that is not a gradient."""
    inputs = copied(inputs)
    parts = []
    if task.numeric is not None:
        numeric = task.numeric(inputs)
        parts = [f"{o.name} {relative_error(value, numeric[o.name]):.0e}"
                 for o, value in zip(task.outputs, got) if o.name in numeric]
        report.lines.append("an independent computation (centered differences of the step, or "
                            "another route) against yours, a third opinion (~1e-9 when right): "
                            + ", ".join(parts))
        return
    if not task.gradient_of:
        return
    for output, value in zip(task.outputs, got):
        if output.name not in task.gradient_of:
            continue
        wrt, upstream, forward = task.gradient_of[output.name]
        numeric = numerical_gradient(lambda: forward(fns, inputs), inputs[wrt], inputs[upstream])
        parts.append(f"{output.name} {relative_error(value, numeric):.0e}")
    report.lines.append("centered differences of the forward (yours, where you wrote it) against "
                        "your gradients, a third opinion (~1e-9 when right): " + ", ".join(parts))


def fourth_opinion(task, inputs, got, expected, report):
    """PyTorch autograd's outputs against the reference's and the learner's."""
    if task.torch is None:
        return
    if not torch_available():
        report.lines.append("(install torch for a fourth opinion: PyTorch's autograd)")
        return
    witness = task.torch(copied(inputs))
    pairs = [(o.name, a, e, witness[o.name]) for o, a, e in zip(task.outputs, got, expected)
             if o.name in witness]
    reference = max(relative_error(e, w) for _, _, e, w in pairs)
    yours = ", ".join(f"{name} {relative_error(a, w):.0e}" for name, a, _, w in pairs)
    report.lines.append(f"PyTorch autograd, a fourth opinion: the reference is within "
                        f"{reference:.0e} of it; yours: {yours}")


def diagnose(exercise, task, inputs, got, report):
    """Name the catalogued bug whose outputs the learner's match, with its hint."""
    for bug in task.bugs:
        fns = dict(exercise.reference, **{task.function: bug.function})
        outputs = task.run(fns, copied(inputs))
        if all(a.shape == b.shape and relative_error(a, b) < 1e-6 for a, b in zip(got, outputs)):
            report.misconception = bug.name
            report.lines.append(f"this is a known mistake: {bug.name}. {bug.hint}")
            return
