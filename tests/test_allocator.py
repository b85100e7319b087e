"""The allocator setting is explicit: importing minirnn and running the kernels leaves malloc
alone; `keep_freed_memory()` (which `fit` calls) makes training steps reuse freed memory; a
user's own MALLOC_*_ setting opts out."""
import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import minirnn
from minirnn import Recurrent, Sequential, StackedRNN

FAULTS_PER_STEP = """
import resource, sys, numpy as np
from minirnn import StackedRNN
from minirnn.allocator import keep_freed_memory
if sys.argv[1] == "call":
    keep_freed_memory()
net = StackedRNN("lstm", 16, [16, 16], backend="numba")
x = np.random.default_rng(0).standard_normal((32, 100, 16))
def step():
    y, _, cache = net.forward(x)
    net.backward(np.ones_like(y), cache)
for _ in range(3):
    step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    step()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10)
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc settings are glibc's")
@pytest.mark.parametrize("call, user_setting, expect_faults", [
    (False, None, True), (True, None, False), (True, "MALLOC_TRIM_THRESHOLD_", True)])
def test_only_an_explicit_call_makes_steps_reuse_freed_memory(call, user_setting, expect_faults):
    """A training step's arrays (about 4 MB here): without the call, glibc maps and unmaps them
    each step (hundreds of page faults: nothing was changed on import); with it they come from
    memory freed in the step before (next to no faults); with a user's MALLOC_*_ setting the call
    changes nothing and glibc trims at once."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    if user_setting:
        env[user_setting] = "0"
    result = subprocess.run([sys.executable, "-c", FAULTS_PER_STEP, "call" if call else "no"],
                            env=env, check=True, capture_output=True, text=True)
    faults = float(result.stdout.split()[-1])
    assert (faults > 500) if expect_faults else (faults < 50), faults


def test_fit_applies_the_setting_before_training(monkeypatch):
    calls = []
    monkeypatch.setattr(minirnn.train, "keep_freed_memory", lambda: calls.append("called"))
    model = Sequential([Recurrent(StackedRNN("rnn", 2, [3], backend="numpy"))])
    x = np.random.default_rng(0).standard_normal((4, 5, 2))
    minirnn.train.fit(model, "mse", (x, np.zeros((4, 5, 3))), epochs=1, progress=False)
    assert calls == ["called"]
