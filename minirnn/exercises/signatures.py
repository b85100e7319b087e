"""The bug-signature table: for every catalogued bug, what the checker measures when a learner
makes it (which outputs go wrong, which stay right, and where), so a learner can read a failing
report backwards to its cause. docs/exercises.md holds this table; a test keeps them equal.

    python -m minirnn exercises signatures
"""
import re

from .checker import check_exercise
from .ladder import LADDER


def signature(exercise, task, bug):
    """(wrong outputs, right outputs, where) the checker reports for `bug`."""
    report = check_exercise(exercise, dict(exercise.reference, **{task.function: bug.function}),
                            {task.function})
    right = [o.name for o in task.outputs if o.name not in report.wrong]
    places = []
    wrong, right = grouped(task.outputs, report.wrong), grouped(task.outputs, right)
    for place in report.located:  # one line per kind of place, without the output's name
        if place.startswith("parameter gradients"):  # the wrong and right columns say it
            continue
        place = re.sub(r"^\S+: (gate|state) blocks", r"\1 blocks", place)
        place = re.sub(r" \(scanning back from .*\)$", "", place)
        if place not in places:
            places.append(place)
    return wrong, right, places


def grouped(outputs, names):
    """names, with the parameter gradients of a layer and direction that are all present
    written as that place ("layer 1 (fwd)")."""
    places = {o.where for o in outputs if o.where}
    whole = {p for p in places if all(o.name in names for o in outputs if o.where == p)}
    kept = [n for n in names if next(o.where for o in outputs if o.name == n) not in whole]
    return kept + [p for p in dict.fromkeys(o.where for o in outputs) if p in whole]


def signature_table():
    """The Markdown table, one row per catalogued bug, in ladder order."""
    rows = ["| exercise | bug | wrong | right | where |", "|---|---|---|---|---|"]
    for exercise in LADDER:
        for task in exercise.tasks:
            for bug in task.bugs:
                wrong, right, places = signature(exercise, task, bug)
                cells = [exercise.name, bug.name, ", ".join(wrong), ", ".join(right) or "none",
                         "; ".join(places)]
                rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
