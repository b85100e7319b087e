"""`python -m minirnn exercises [list | start NAME | check NAME | hint NAME | progress |
signatures]`."""
from . import EXERCISES, check, get_exercise
from .progress import ExerciseFolder
from .signatures import signature_table


def add_parser(commands):
    """The `exercises` subcommand of `python -m minirnn`."""
    parser = commands.add_parser("exercises", help="the gradient-checking exercises")
    parser.add_argument("action", nargs="?", default="list",
                        choices=("list", "start", "check", "hint", "progress", "signatures"))
    parser.add_argument("name", nargs="?", help="the exercise (see `list`)")
    parser.add_argument("--dir", default="minirnn-exercises", help="your exercise folder")


def run(args):
    """Carry out one `exercises` command; returns the text it prints."""
    folder = ExerciseFolder(args.dir)
    if args.action in ("list", "progress"):
        return ladder_text(folder, details=args.action == "list")
    if args.action == "signatures":
        return signature_table()
    if args.name is None:
        raise SystemExit(f"`exercises {args.action}` needs an exercise name: "
                         f"{', '.join(EXERCISES)}")
    exercise = get_exercise(args.name)
    if args.action == "start":
        path, copied = folder.start(exercise)
        return (f"copied the stub to {path}: fill in the TODOs, then `python -m minirnn "
                f"exercises check {exercise.name}`" if copied else
                f"{path} already exists; it was not overwritten")
    if args.action == "check":
        report = check(exercise.name, folder.load(exercise))
        folder.record(exercise, report)
        return str(report)
    return folder.next_hint(exercise)


def ladder_text(folder, details=True):
    state = folder.state()
    lines = []
    for k, (name, exercise) in enumerate(EXERCISES.items(), start=1):
        status = state.get(name, {}).get("status", "not started")
        lines.append(f"{k:2d}. {name:22s} {status:12s} {exercise.title}")
        if details:
            lines += [f"      {line}" for line in exercise.teaches.splitlines()]
    done = sum(state.get(name, {}).get("status") == "passed" for name in EXERCISES)
    lines.append(f"{done} of {len(EXERCISES)} passed (progress in {folder.folder}/)")
    return "\n".join(lines)
