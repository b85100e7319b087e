"""Gradient-checking exercises: a ladder of stubs, a staged checker that says what is wrong and
where, hints that unlock as checks fail, and progress kept in the exercise folder.

    python -m minirnn exercises                      # the ladder, with each one's status
    python -m minirnn exercises start rnn_step       # copies the stub to ./minirnn-exercises/
    python -m minirnn exercises check rnn_step       # checks your file
    python -m minirnn exercises hint rnn_step        # the next hint (one more per failed check)

From Python or a notebook: `minirnn.exercises.check("rnn_step", rnn_step_backward)` checks one
function of yours (the library's stands in for the ones you do not pass), or pass a module or a
dict of functions. The solutions are the library's own reference functions; see ladder.py.

    exercise.py   what an exercise is (tasks, outputs, bugs, hints)
    ladder.py     the exercises, in order
    checker.py    the staged checker
    progress.py   the exercise folder: stubs copied, checks recorded, hints unlocked
"""
import types

from .checker import Report, check_exercise
from .ladder import LADDER
from .progress import ExerciseFolder

EXERCISES = {exercise.name: exercise for exercise in LADDER}


def get_exercise(name):
    """The exercise called `name`; a clear ValueError for anything else."""
    if name not in EXERCISES:
        raise ValueError(f"no exercise {name!r}; the ladder is: {', '.join(EXERCISES)}")
    return EXERCISES[name]


def check(name, solution):
    """Check your solution of exercise `name`: one function (matched by its name), a dict
    {function name: function} or a module holding them. Returns a Report (print it)."""
    exercise = get_exercise(name)
    if isinstance(solution, types.ModuleType):
        given = {f: getattr(solution, f) for f in exercise.reference if hasattr(solution, f)}
    elif isinstance(solution, dict):
        given = dict(solution)
    elif callable(solution):
        given = {solution.__name__: solution}
    else:
        raise TypeError(f"solution must be a function, a dict of functions or a module; got "
                        f"{type(solution).__name__}")
    unknown = set(given) - set(exercise.reference)
    if unknown:
        raise ValueError(f"{name} checks {sorted(t.function for t in exercise.tasks)}; got "
                         f"{sorted(unknown)}")
    return check_exercise(exercise, dict(exercise.reference, **given), set(given))


__all__ = ["EXERCISES", "LADDER", "ExerciseFolder", "Report", "check", "get_exercise"]
