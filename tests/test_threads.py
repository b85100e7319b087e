"""num_threads: the time loop's and the BLAS thread counts are set, scoped to fit, restored, and
read from the environment; bad values are refused."""
import numpy as np
import pytest

from minirnn import StackedRNN
from minirnn.model import Recurrent, Sequential
from minirnn.kernels.blas import usable_cores
from minirnn.threads import (ENVIRONMENT_VARIABLE, blas_controls, chosen, get_num_threads,
                             loop_threads, resolve_num_threads, restore_blas_threads, run_jobs,
                             set_num_threads, thread_limit)
from minirnn.train import fit

needs_openblas = pytest.mark.skipif(not blas_controls(), reason="no OpenBLAS with a thread setter")


@pytest.fixture
def restore_threads():
    before, loop_before = get_num_threads(), chosen["loop"]
    yield before
    chosen["loop"] = loop_before
    restore_blas_threads(before)


def test_loop_threads_default_environment_setting_and_scope(restore_threads, monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    chosen["loop"] = None
    assert loop_threads() == usable_cores()
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "3")
    assert loop_threads() == 3
    set_num_threads(1)
    assert loop_threads() == 1
    with thread_limit(4):
        assert loop_threads() == 4
    assert loop_threads() == 1
    chosen["loop"] = None
    with thread_limit(None):  # MINIRNN_NUM_THREADS=3
        assert loop_threads() == 3
    assert chosen["loop"] is None


@needs_openblas
def test_set_num_threads_reaches_numpy_and_scipy_blas(restore_threads):
    names = set(restore_threads)
    assert any("64" in name for name in names) and any("64" not in name for name in names)
    set_num_threads(1)
    assert set(get_num_threads().values()) == {1}
    before = set_num_threads(2)
    assert before == {name: 1 for name in names}
    assert set(get_num_threads().values()) == {2}


@needs_openblas
def test_thread_limit_restores_the_previous_counts(restore_threads):
    set_num_threads(2)
    with thread_limit(1) as n:
        assert n == 1 and set(get_num_threads().values()) == {1}
    assert set(get_num_threads().values()) == {2}
    with pytest.raises(RuntimeError):
        with thread_limit(1):
            raise RuntimeError("inside")
    assert set(get_num_threads().values()) == {2}


def test_resolve_num_threads_reads_the_environment(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    assert resolve_num_threads(None) is None
    assert resolve_num_threads(3) == 3
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, " 2 ")
    assert resolve_num_threads(None) == 2 and resolve_num_threads(1) == 1
    for bad in ("0", "two", "-1", "1.5"):
        monkeypatch.setenv(ENVIRONMENT_VARIABLE, bad)
        with pytest.raises(ValueError, match=ENVIRONMENT_VARIABLE):
            resolve_num_threads(None)
    with pytest.raises(ValueError, match="num_threads"):
        resolve_num_threads(0)
    with pytest.raises(TypeError, match="num_threads"):
        resolve_num_threads(1.0)


@needs_openblas
def test_fit_runs_with_its_num_threads_and_restores_them(restore_threads, monkeypatch):
    monkeypatch.delenv(ENVIRONMENT_VARIABLE, raising=False)
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((8, 5, 2)), rng.standard_normal((8, 5, 3))
    model = Sequential([Recurrent(StackedRNN("gru", 2, [3], seed=0))])
    seen = []

    def mse_that_looks(out, target, mask):
        seen.append(get_num_threads())
        return float(((out - target) ** 2).mean()), 2 * (out - target) / out.size

    set_num_threads(2)
    fit(model, mse_that_looks, (x, y), epochs=1, batch_size=4, progress=False, num_threads=1)
    assert len(seen) == 2 and all(set(counts.values()) == {1} for counts in seen)
    assert set(get_num_threads().values()) == {2}
    monkeypatch.setenv(ENVIRONMENT_VARIABLE, "1")
    seen.clear()
    fit(model, mse_that_looks, (x, y), epochs=1, batch_size=8, progress=False)
    assert set(seen[0].values()) == {1} and set(get_num_threads().values()) == {2}
    with pytest.raises(TypeError, match="num_threads"):
        fit(model, mse_that_looks, (x, y), epochs=1, progress=False, num_threads=2.0)


def threads_seen(job):
    """What a job sees: its own argument and the BLAS thread counts of its process."""
    return job, sorted(set(get_num_threads().values()))


@needs_openblas
def test_run_jobs_limits_the_threads_of_every_process(restore_threads):
    set_num_threads(2)
    assert run_jobs(threads_seen, [3, 4], workers=1, num_threads=1) == [(3, [1]), (4, [1])]
    assert set(get_num_threads().values()) == {2}                    # restored here
    assert run_jobs(threads_seen, [5, 6, 7], workers=2, num_threads=1) == [
        (5, [1]), (6, [1]), (7, [1])]                                # in order, 1 thread each
    with pytest.raises(TypeError, match="workers"):
        run_jobs(threads_seen, [1], workers=2.0)
