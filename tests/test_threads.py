"""The thread policy holds whichever of torch and aelib a notebook imports first, and can be overridden."""
import json
import os
import subprocess
import sys

import pytest
import time
import torch
import torch.nn.functional as F

from aelib import threads, training
from aelib.models import Autoencoder

PROBE = """
import json, sys
first = sys.argv[1]
if first == "torch":
    import torch, numpy
    import aelib
else:
    import aelib
    import torch, numpy
import sklearn.neighbors  # scikit-learn's OpenMP runtime, loaded after aelib
from threadpoolctl import threadpool_info
print(json.dumps(dict(torch=torch.get_num_threads(),
                      pools=sorted({p["num_threads"] for p in threadpool_info()}))))
"""


def probe(first, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in ("AELIB_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    clean.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE, first], env=clean, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize("first", ["torch", "aelib"])
def test_one_thread_by_default_whatever_is_imported_first(first):
    got = probe(first)
    assert got == {"torch": 1, "pools": [1]}


@pytest.mark.slow
def test_aelib_threads_overrides_and_auto_leaves_the_default():
    assert probe("torch", AELIB_THREADS="2")["torch"] == 2
    default = probe("torch", AELIB_THREADS="auto")["torch"]
    assert default == json.loads(subprocess.run(
        [sys.executable, "-c", "import torch; print(torch.get_num_threads())"], capture_output=True, text=True,
        env={k: v for k, v in os.environ.items() if not k.endswith("NUM_THREADS")}).stdout)


@pytest.mark.slow
def test_a_platforms_omp_num_threads_caps_the_cores_and_aelibs_own_does_not():
    """A hub's OMP_NUM_THREADS=2 is the most aelib uses; the OMP_NUM_THREADS=1 that aelib itself set in a parent
    process (a kernel started by a process that imported aelib) is not mistaken for the platform's."""
    code = "import aelib; from aelib import threads; print(threads.available_cores(quota=None, affinity=8))"
    run = lambda **env: subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={
        **{k: v for k, v in os.environ.items() if k not in ("AELIB_THREADS", "OMP_NUM_THREADS",
                                                             threads._MARK)}, **env}).stdout.strip()
    assert run(OMP_NUM_THREADS="2") == "2"
    assert run() == "8"
    assert run(OMP_NUM_THREADS="1", **{threads._MARK: "1"}) == "8"


@pytest.mark.parametrize("bad", ["0", "-1", "two", "1.5"])
def test_a_bad_value_names_the_variable(monkeypatch, bad):
    monkeypatch.setenv("AELIB_THREADS", bad)
    with pytest.raises(ValueError, match="AELIB_THREADS must be a whole number"):
        threads.configured_threads()


def test_describe_names_the_override(monkeypatch):
    monkeypatch.delenv("AELIB_THREADS", raising=False)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.apply_thread_policy() == 1
    assert "AELIB_THREADS" in threads.describe() and threads.describe().startswith("1 torch thread")
    assert "adaptive" in threads.describe()


# --- the adaptive policy's decisions ------------------------------------------------------------------------

@pytest.mark.parametrize("cores, busy, trainers, expected", [
    (2, None, 0, 2),        # alone on an idle 2-core laptop: both cores
    (2, 0.05, 0, 2),        # the Jupyter server and an idle browser do not count
    (2, 0.3, 0, 2),         # ... up to BUSY_SLACK
    (2, 0.6, 0, 1),         # a busy browser, a compile, another program: one thread
    (2, 1.0, 0, 1),
    (2, None, 1, 1),        # a second aelib kernel training: one core each
    (2, 0.0, 1, 1),
    (1, 0.0, 0, 1),         # a one-CPU Binder pod
    (4, 0.0, 1, 2),         # 4 cores, two kernels training: two each
    (4, 2.0, 1, 2),         # ... the other kernel's own threads are the busy cores
    (4, 3.0, 0, 1),
    (4, 0.2, 3, 1),
    (16, 0.0, 0, 16),
])
def test_decide_shares_the_cores_and_leaves_busy_ones(cores, busy, trainers, expected):
    assert threads.decide(cores, busy, trainers) == expected


def test_available_cores_takes_the_quota_and_the_affinity(monkeypatch):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert threads.available_cores(quota=None, affinity=2) == 2
    assert threads.available_cores(quota=1.0, affinity=64) == 1        # a Binder pod on a 64-core host
    assert threads.available_cores(quota=0.5, affinity=64) == 1
    assert threads.available_cores(quota=2.5, affinity=64) == 3
    assert threads.available_cores(quota=8.0, affinity=4) == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert threads.available_cores(quota=None, affinity=8) == 3


@pytest.mark.parametrize("files, expected", [
    ({"cpu.max": "100000 100000\n"}, 1.0),
    ({"cpu.max": "250000 100000\n"}, 2.5),
    ({"cpu.max": "max 100000\n"}, None),
    ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),
])
def test_the_cgroup_quota_is_read_from_v1_and_v2(tmp_path, monkeypatch, files, expected):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setattr(threads, "_PROC_CGROUP", tmp_path / "no-such-file")     # the files at the root only
    assert threads._cgroup_quota(tmp_path) == expected


def test_training_kernels_counts_live_heartbeats_only(tmp_path):
    now = time.time()
    for name, age in (("101", 0.1), ("102", 1.0), ("103", threads.STALE_SECONDS + 5), (str(os.getpid()), 0.0)):
        (tmp_path / name).touch()
        os.utime(tmp_path / name, (now - age, now - age))
    assert threads.training_kernels(tmp_path, exclude=os.getpid(), now=now) == 2
    assert threads.training_kernels(tmp_path / "missing") == 0


def _fit_threads(**kw):
    """The torch threads seen inside fit (after each epoch), and after it."""
    seen = []
    x = torch.rand(2000, 32)
    ae = Autoencoder(32, (16,), 2)
    training.fit(ae, x, lambda m, b: F.mse_loss(m(b), b), epochs=3, batch_size=50, progress=False,
                 on_epoch=lambda e, h: seen.append(torch.get_num_threads()), **kw)
    return seen, torch.get_num_threads()


def _two_idle_cores(tmp_path, monkeypatch):
    """The adaptive policy on a 2-core machine with nothing else running (no speed probe, heartbeats in tmp_path)."""
    monkeypatch.setattr(threads, "SPEED_PROBE", False)
    monkeypatch.delenv("AELIB_THREADS", raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda *a, **k: 2)
    monkeypatch.setattr(threads, "registry", lambda: tmp_path)
    monkeypatch.setattr(threads.BusyMeter, "sample", lambda self: 0.0)


def test_fit_trains_with_every_core_when_alone_and_one_thread_after(tmp_path, monkeypatch):
    _two_idle_cores(tmp_path, monkeypatch)
    torch.set_num_threads(1)
    seen, after = _fit_threads()
    assert seen == [2, 2, 2] and after == 1
    assert not list(tmp_path.iterdir())                  # the heartbeat is withdrawn


def test_fit_with_cores_1_trains_with_one_thread_as_a_plain_loop_does(tmp_path, monkeypatch):
    """cores=1 pins fit to the threads outside training, so a hand-written loop and fit add in the same order."""
    _two_idle_cores(tmp_path, monkeypatch)
    torch.set_num_threads(1)
    assert _fit_threads(cores=1) == ([1, 1, 1], 1)
    assert _fit_threads()[0] == [2, 2, 2]                # the default still takes both cores
    with pytest.raises(ValueError, match="cores"):
        _fit_threads(cores=0)


def test_fit_makes_room_for_another_kernel_training(tmp_path, monkeypatch):
    _two_idle_cores(tmp_path, monkeypatch)
    (tmp_path / "999999").touch()                        # another kernel's fresh heartbeat
    assert _fit_threads()[0] == [1, 1, 1]


def test_fit_falls_back_when_other_work_keeps_a_core_busy(tmp_path, monkeypatch):
    monkeypatch.setattr(threads, "SPEED_PROBE", False)
    monkeypatch.delenv("AELIB_THREADS", raising=False)
    monkeypatch.setattr(threads, "available_cores", lambda *a, **k: 2)
    monkeypatch.setattr(threads, "registry", lambda: tmp_path)
    monkeypatch.setattr(threads, "CHECK_SECONDS", 0.0)
    monkeypatch.setattr(threads.BusyMeter, "sample", lambda self: 0.9)
    assert _fit_threads()[0] == [1, 1, 1]


def test_a_fixed_number_of_threads_is_never_adapted(tmp_path, monkeypatch):
    monkeypatch.setenv("AELIB_THREADS", "1")
    monkeypatch.setattr(threads, "available_cores", lambda *a, **k: 2)
    monkeypatch.setattr(threads, "registry", lambda: tmp_path)
    monkeypatch.setattr(threads.BusyMeter, "sample", lambda self: 0.0)
    torch.set_num_threads(1)
    beats = []
    monkeypatch.setattr(threads.TrainingThreads, "_beat", lambda self: beats.append(self._file))
    assert _fit_threads() == ([1, 1, 1], 1)
    assert beats                                         # it still announces itself to adaptive kernels


@pytest.mark.slow
def test_a_second_kernel_training_takes_the_first_back_to_one_thread(tmp_path):
    """Two processes, as two notebooks: the first trains alone with 2 threads, then drops to 1 within a check or
    two of the second starting to train, and goes back to 2 after the second stops."""
    if threads.available_cores() < 2:
        pytest.skip("needs 2 cores")
    code = """
import sys, time, json, torch, aelib
from aelib import threads
threads.SPEED_PROBE = False         # sleeping steps gain nothing from threads; this test is about sharing
with threads.TrainingThreads() as tt:
    end = time.perf_counter() + float(sys.argv[1])
    while time.perf_counter() < end:
        time.sleep(0.02); tt.tick()
print(json.dumps([(round(t, 2), n, others) for t, n, busy, others in tt.decisions]))
"""
    env = {**{k: v for k, v in os.environ.items() if k not in ("AELIB_THREADS", "OMP_NUM_THREADS")},
           "TMPDIR": str(tmp_path)}
    first = subprocess.Popen([sys.executable, "-c", code, "6"], env=env, stdout=subprocess.PIPE, text=True)
    folder = tmp_path / threads.registry().name       # the first's heartbeat: it has started training
    deadline = time.time() + 30                       # (importing torch takes seconds on a slow machine)
    while not (folder.is_dir() and any(folder.iterdir())) and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    second = subprocess.run([sys.executable, "-c", code, "1"], env=env, capture_output=True, text=True)
    decisions = json.loads(first.communicate(timeout=60)[0])
    threads_over_time = [n for _, n, _ in decisions]
    assert threads_over_time[0] == 2, decisions
    assert 1 in threads_over_time and threads_over_time[-1] == 2, decisions
    assert json.loads(second.stdout)[0][1] == 1, second.stdout + second.stderr


# --- the speed probe: more threads only where they make a step faster ----------------------------------------

@pytest.fixture
def fresh_probe(tmp_path, monkeypatch):
    monkeypatch.delenv("AELIB_THREADS", raising=False)
    monkeypatch.setattr(threads, "registry", lambda: tmp_path)
    monkeypatch.setattr(threads.BusyMeter, "sample", lambda self: 0.0)
    monkeypatch.setattr(threads, "CHECK_SECONDS", 0.03)
    monkeypatch.setattr(threads, "REPROBE_SECONDS", 0.3)
    monkeypatch.setattr(threads, "_GAINS", [])
    monkeypatch.setattr(threads, "_PROBED", [])
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(1)


def _train_for(seconds, step_seconds):
    """Steps that take ``step_seconds[threads]``; returns the threads in use at each step and the decisions."""
    used = []
    with threads.TrainingThreads(cores=2) as tt:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            n = torch.get_num_threads()
            used.append(n)
            time.sleep(step_seconds[n])
            tt.tick()
    return used, tt.decisions


def test_the_probe_keeps_two_threads_where_they_make_steps_faster(fresh_probe):
    used, decisions = _train_for(1.5, {1: 0.004, 2: 0.002})
    assert min(threads._GAINS) > 1.5, threads._GAINS          # measured: a step takes half the time with two
    assert threads.more_threads_pay()
    late = used[len(used) // 2:]
    assert late.count(2) / len(late) > 0.7, decisions         # mostly two threads; one only in probe windows


def test_the_probe_falls_back_to_one_thread_where_two_are_slower(fresh_probe):
    used, decisions = _train_for(1.5, {1: 0.003, 2: 0.004})
    assert max(threads._GAINS) < 1.0, threads._GAINS
    assert not threads.more_threads_pay()
    late = used[len(used) // 2:]
    assert late.count(1) / len(late) > 0.7, decisions
    with threads.TrainingThreads(cores=2):                     # the next fit starts with what was learnt
        assert torch.get_num_threads() == 1


def test_the_first_window_is_never_timed(fresh_probe, monkeypatch):
    """A slow first step (the optimiser's first call imports torch._dynamo) must not count against two threads."""
    calls = {"n": 0}

    def step(n):
        calls["n"] += 1
        return 0.2 if calls["n"] == 1 else (0.002 if n == 2 else 0.004)
    used = []
    with threads.TrainingThreads(cores=2) as tt:
        end = time.perf_counter() + 1.0
        while time.perf_counter() < end:
            time.sleep(step(torch.get_num_threads()))
            used.append(torch.get_num_threads())
            tt.tick()
    assert threads._GAINS and min(threads._GAINS) > 1.5, threads._GAINS
