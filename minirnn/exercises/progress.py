"""The exercise folder (default ./minirnn-exercises/): the stubs a learner started, and
progress.json, which remembers each exercise's last status, its failed checks and the hints shown,
so that progress survives a restart. Hint level k unlocks after k failed checks.
"""
import importlib.util
import json
import shutil
from pathlib import Path

STUBS = Path(__file__).with_name("stubs")
PROGRESS = "progress.json"


class ExerciseFolder:
    """The learner's folder of exercises. Nothing is written until `start` or `record`."""

    def __init__(self, folder="minirnn-exercises"):
        self.folder = Path(folder)

    def path(self, exercise):
        return self.folder / exercise.stub

    def state(self):
        """{exercise name: {"status", "failed_checks", "hints_shown"}} as stored."""
        file = self.folder / PROGRESS
        return json.loads(file.read_text()) if file.exists() else {}

    def entry(self, exercise):
        return self.state().get(exercise.name, {"status": "not started", "failed_checks": 0,
                                                "hints_shown": 0})

    def save(self, exercise, entry):
        state = self.state()
        state[exercise.name] = entry
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / PROGRESS).write_text(json.dumps(state, indent=1, sort_keys=True))

    def start(self, exercise):
        """Copy the stub into the folder, never over a file that is already there. Returns
        (path, True if copied)."""
        target = self.path(exercise)
        if target.exists():
            return target, False
        self.folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(STUBS / exercise.stub, target)
        return target, True

    def load(self, exercise):
        """The learner's file as a fresh module (edits since the last check are seen)."""
        target = self.path(exercise)
        if not target.exists():
            raise FileNotFoundError(f"{target} does not exist: run `python -m minirnn exercises "
                                    f"start {exercise.name}` first")
        spec = importlib.util.spec_from_file_location(f"exercise_{exercise.name}", target)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def record(self, exercise, report):
        """Store a check's status; a failing check counts towards the next hint."""
        entry = self.entry(exercise)
        entry["status"] = report.status
        entry["failed_checks"] += report.status == "failing"
        self.save(exercise, entry)
        return entry

    def next_hint(self, exercise):
        """The next hint level's text if it is unlocked (and mark it shown), else why not."""
        entry = self.entry(exercise)
        level = entry["hints_shown"] + 1
        if level > len(exercise.hints):
            return f"all {len(exercise.hints)} hints shown:\n" + "\n".join(
                f"  {k}. {hint}" for k, hint in enumerate(exercise.hints, start=1))
        if entry["failed_checks"] < level:
            more = level - entry["failed_checks"]
            return (f"hint {level} unlocks after {more} more failed check"
                    f"{'s' if more > 1 else ''}: run `python -m minirnn exercises check "
                    f"{exercise.name}` first")
        entry["hints_shown"] = level
        self.save(exercise, entry)
        return f"hint {level} of {len(exercise.hints)}: {exercise.hints[level - 1]}"
