"""The thread policy: use the cores a kernel really has while it trains alone, one thread as soon as anything competes.

Why. These models are small, and whether a second thread helps depends on the CPU: on some 2-core machines it
makes a notebook 20-45 % faster, on others it gains nothing (BENCHMARKS.md has this machine's numbers). In company
more threads are dangerous: two kernels with two threads each on 2 cores slowed each other down 7x on one machine
and 29x on another (each kernel's OpenMP workers spin-wait for a partner that the other kernel has pushed off its
core; PyTorch issues #19163 and #98836). One thread each runs side by side at full speed. A student with two
notebooks open, a lecturer whose browser is busy, a JupyterHub whose users share cores and a one-CPU Binder pod all
meet that case.

The policy (the default, ``AELIB_THREADS`` unset or ``adaptive``):

* Outside training, one thread (torch, BLAS and OpenMP), as before.
* While :func:`aelib.training.fit` trains, up to the cores this kernel may use (:func:`available_cores`: its CPU
  affinity, a cgroup CPU quota on a hub or Binder, and a platform's ``OMP_NUM_THREADS`` as a ceiling), decided again
  every quarter of a second (:class:`TrainingThreads`) from two facts: how many other aelib kernels of this user are
  training now (each announces itself by a small heartbeat file, :func:`training_kernels`) and how much CPU the
  rest of the machine (or of the cgroup) used in the last moment (:class:`BusyMeter`). :func:`decide` turns them
  into a number: the cores are shared between the kernels training, and a core that other work keeps busy does not
  count. So a kernel alone on an idle laptop trains with every core, and falls back to one thread within a quarter
  of a second when a second notebook starts training, or the browser or anything else needs a core.
* More threads are kept only where they make a training step faster on this machine, in this kernel: every few
  seconds of training, one window of steps is timed with them and one with a single thread
  (:func:`more_threads_pay`). Where a second thread gains nothing, the kernel trains with one, as before.

Digits. A different number of threads adds numbers in a different order, so losses and printed values can differ
in their last digits from run to run under this policy; ``AELIB_THREADS=1`` gives bit-identical reruns.

Overrides: ``AELIB_THREADS=N`` (a whole number >= 1) uses N threads always; ``AELIB_THREADS=auto`` leaves every
library at its own default (all cores, never adapted: only for a machine with nothing else to do).

At import, the policy sets ``torch.set_num_threads`` (if torch is imported), limits the BLAS and OpenMP pools already
loaded (threadpoolctl), and sets ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` and ``MKL_NUM_THREADS`` where unset, so
libraries loaded later (scikit-learn's OpenMP) follow it too.
"""
from __future__ import annotations

import math
import os
import sys
import tempfile
import time
from pathlib import Path

ENV = "AELIB_THREADS"
_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
CHECK_SECONDS = 0.25        # a training loop decides again this often
BUSY_SLACK = 0.3            # cores of other work a thread may still share with (the Jupyter server, a quiet browser)
PROBE_SECONDS = 0.05        # a fit with no recent measurement looks this long at the machine before it starts
SPEED_PROBE = True          # measure whether more threads really train faster here (False: trust decide alone)
REPROBE_SECONDS = 5.0       # training time between two such measurements in one kernel
GAIN_NEEDED = 1.05          # more threads are kept only if a step is at least this much faster with them
STALE_SECONDS = 2.0         # a heartbeat file older than this is a kernel that stopped training (or died)
_PROC_CGROUP = Path("/proc/self/cgroup")
_applied: dict = {}


_MARK = "AELIB_SET_OMP_NUM_THREADS"   # records the OMP_NUM_THREADS value this module set (children inherit both)


def _platform_omp() -> int | None:
    """``OMP_NUM_THREADS`` as set by the user or the platform, or None. A value this module set, here or in a parent
    process (a kernel started by a process that imported aelib), does not count."""
    raw = os.environ.get("OMP_NUM_THREADS", "").strip()
    if raw and raw == os.environ.get(_MARK):
        return None
    return int(raw) if raw.isdigit() and int(raw) >= 1 else None


def mode() -> tuple[str, int | None]:
    """The policy asked for: ``("fixed", n)`` (``AELIB_THREADS=n``), ``("default", None)``
    (``AELIB_THREADS=auto``), or ``("adaptive", cap)`` with ``cap`` a platform's ``OMP_NUM_THREADS`` or None.

    Raises:
        ValueError: if ``AELIB_THREADS`` is not ``auto``, ``adaptive`` or a whole number >= 1, naming the variable.
    """
    raw = os.environ.get(ENV, "").strip()
    if raw and raw.lower() == "auto":
        return "default", None
    if raw and raw.lower() != "adaptive":
        try:
            n = int(raw)
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"{ENV} must be a whole number of threads >= 1, 'adaptive' (the default: every core "
                             f"while training alone) or 'auto' (the libraries' defaults), got {raw!r}")
        return "fixed", n
    return "adaptive", _platform_omp()


def configured_threads() -> int | None:
    """The threads the policy sets outside training: ``n`` for ``AELIB_THREADS=n``, None for ``auto`` (the
    libraries' defaults), else 1 (adaptive; :func:`available_cores` is the most it uses while training)."""
    kind, n = mode()
    return None if kind == "default" else (n if kind == "fixed" else 1)


def _cgroup_quota(root: Path = Path("/sys/fs/cgroup")) -> float | None:
    """The CPU quota of this process's cgroup in cores (e.g. 1.0 on a one-CPU Binder pod), or None if unlimited
    or unknown. Reads cgroup v2's ``cpu.max`` or v1's ``cpu.cfs_quota_us`` / ``cpu.cfs_period_us``."""
    for path in _cgroup_dirs(root, "cpu.max"):
        try:
            quota, period = path.read_text().split()[:2]
        except (OSError, ValueError):
            continue
        if quota != "max" and float(period) > 0:
            return float(quota) / float(period)
        return None
    for path in _cgroup_dirs(root / "cpu", "cpu.cfs_quota_us", v1=True) + _cgroup_dirs(
            root / "cpu,cpuacct", "cpu.cfs_quota_us", v1=True):
        try:
            quota = float(path.read_text())
            period = float((path.parent / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota / period if quota > 0 and period > 0 else None
    return None


def _cgroup_dirs(root: Path, name: str, v1: bool = False) -> list[Path]:
    """Candidate files ``name`` for this process's cgroup: its own folder (from /proc/self/cgroup), then ``root``."""
    out = []
    try:
        for line in _PROC_CGROUP.read_text().splitlines():
            parts = line.split(":", 2)
            if len(parts) == 3 and (v1 and parts[1] and "cpu" in parts[1].split(",") or not v1 and parts[0] == "0"):
                out.append(root / parts[2].lstrip("/") / name)
    except OSError:
        pass
    out.append(root / name)
    return [p for p in out if p.is_file()]


def available_cores(quota: float | None = None, affinity: int | None = None) -> int:
    """The cores this kernel may use: its CPU affinity (or ``os.cpu_count()``), at most the cgroup quota rounded up
    (a JupyterHub or Binder limit), at most a platform's ``OMP_NUM_THREADS``. At least 1.

    ``quota`` and ``affinity`` replace what is read from the system (for tests)."""
    if affinity is None:
        try:
            affinity = len(os.sched_getaffinity(0))
        except (AttributeError, OSError):            # macOS and Windows have no affinity call
            affinity = os.cpu_count() or 1
    quota = _cgroup_quota() if quota is None else quota
    cores = affinity if quota is None else min(affinity, max(1, math.ceil(quota - 1e-9)))
    cap = _platform_omp()
    return max(1, min(cores, cap) if cap else cores)


def decide(cores: int, others_busy: float | None, other_trainers: int) -> int:
    """Threads for one training kernel: ``cores`` shared between it and the ``other_trainers`` aelib kernels
    training now, minus what other work keeps busy (``others_busy``, in cores, over the last moment; None when not
    measured yet). A thread is kept while the cores other work leaves are at least its share, within
    ``BUSY_SLACK``. Always at least 1, at most ``cores``."""
    share = cores // (other_trainers + 1)
    room = math.floor(cores - (others_busy or 0.0) + BUSY_SLACK)
    return max(1, min(cores, share, room))


class BusyMeter:
    """How many cores the rest of the machine (or of this cgroup, when a quota limits it) kept busy between two
    calls of :meth:`sample`: all CPU time used there minus this process's own, per second of wall time.

    Reads ``/proc/stat`` (or the cgroup's ``cpu.stat`` / ``cpuacct.usage`` when a quota is set) on Linux; elsewhere
    :meth:`sample` returns None and only the heartbeat files count."""

    def __init__(self):
        self._last = None
        self._quota = _cgroup_quota() is not None

    @staticmethod
    def _machine_busy() -> float | None:
        """CPU seconds used by every process so far (not idle, not waiting for disk), or None."""
        try:
            fields = [float(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        except (OSError, ValueError, IndexError):
            return None
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)
        return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _cgroup_busy() -> float | None:
        for path in _cgroup_dirs(Path("/sys/fs/cgroup"), "cpu.stat"):
            try:
                for line in path.read_text().splitlines():
                    if line.startswith("usage_usec"):
                        return float(line.split()[1]) / 1e6
            except (OSError, ValueError):
                continue
        for path in _cgroup_dirs(Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage", v1=True):
            try:
                return float(path.read_text()) / 1e9
            except (OSError, ValueError):
                continue
        return None

    def sample(self) -> float | None:
        """Cores other work kept busy since the previous call (None on the first call, or where unmeasurable)."""
        busy = self._cgroup_busy() if self._quota else self._machine_busy()
        now = (time.perf_counter(), busy, time.process_time())
        last, self._last = self._last, now
        if busy is None or last is None or last[1] is None or now[0] - last[0] < 0.05:
            return None
        wall = now[0] - last[0]
        return max(0.0, ((now[1] - last[1]) - (now[2] - last[2])) / wall)


def registry() -> Path:
    """The folder of heartbeat files of this user's aelib kernels that are training now (in the temporary folder)."""
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    return Path(tempfile.gettempdir()) / f"aelib-training-{user}"


def training_kernels(folder: Path | None = None, exclude: int | None = None, now: float | None = None) -> int:
    """How many aelib kernels (other than process ``exclude``) announced training within ``STALE_SECONDS``."""
    folder = registry() if folder is None else folder
    now = time.time() if now is None else now
    count = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if entry.name == str(exclude):
            continue
        try:
            if now - entry.stat().st_mtime <= STALE_SECONDS:
                count += 1
        except OSError:                              # removed while we looked
            continue
    return count


_METER = BusyMeter()
_GAINS: list = []                # the last few measured gains (step time with 1 thread / with more), this kernel
_PROBED: list = []               # [perf_counter time of the last gain measurement]


def more_threads_pay() -> bool:
    """Whether more threads made training steps faster in this kernel: the median of the last gains measured by
    :class:`TrainingThreads` is at least ``GAIN_NEEDED`` (True until one is measured)."""
    if not _GAINS:
        return True
    g = sorted(_GAINS)
    return g[len(g) // 2] >= GAIN_NEEDED
_BUSY: list = []                 # [(perf_counter time, cores other work kept busy)]: the last measurement


def _remember_busy(busy: float | None) -> None:
    if busy is not None:
        _BUSY[:] = [(time.perf_counter(), busy)]


def _recent_busy() -> float | None:
    """The last measurement of other work, if taken within ``STALE_SECONDS`` (a sweep's next ``fit``)."""
    return _BUSY[0][1] if _BUSY and time.perf_counter() - _BUSY[0][0] <= STALE_SECONDS else None


class TrainingThreads:
    """The policy inside a training loop: ``with TrainingThreads() as tt:`` then ``tt.tick()`` after every step.

    On entry the kernel announces that it trains (a heartbeat file in :func:`registry`) and takes the threads
    :func:`decide` gives from the other kernels training now; every ``CHECK_SECONDS`` :meth:`tick` renews the
    heartbeat and decides again with :class:`BusyMeter`'s measurement. On exit it withdraws and goes back to the
    threads of :func:`configured_threads`. With ``AELIB_THREADS=N`` or ``auto`` the threads never change, but the
    kernel still announces itself, so that adaptive kernels beside it make room.

    Whether more threads pay is measured, not assumed: on some machines two threads make a small model's step
    slower, and the same machine can differ from one process to the next. Every ``REPROBE_SECONDS`` of training, a
    kernel allowed more than one thread times one window of steps with them and the next window with one thread
    (median step time of each, so an epoch's end does not count) and keeps the faster (:func:`more_threads_pay`).
    The first window after entry (allocation, the optimiser's first step) is never timed.

    ``decisions``: ``[(seconds since entry, threads, others_busy, other_trainers)]``, one per change (for tests and
    the benchmark). ``cores``: the cores to share out (default :func:`available_cores`; the ``cores`` argument of
    :func:`aelib.training.fit` passes a smaller number); ``folder`` replaces :func:`registry` (for tests).
    """

    def __init__(self, cores: int | None = None, folder: Path | None = None):
        kind, _ = mode()
        self.adaptive = kind == "adaptive"
        self.cores = available_cores() if cores is None else cores
        self.folder = registry() if folder is None else folder
        self.decisions: list = []
        self._file = self.folder / str(os.getpid())
        self._meter = _METER
        self._steps: list = []                      # step times (s) in the current window
        self._step_t = 0.0
        self._warm = False                           # the first window after entry is never timed
        due = not _PROBED or time.perf_counter() - _PROBED[0] >= REPROBE_SECONDS
        self._probe: dict | None = {} if due else None   # threads -> median step time, while a probe runs
        self._t0 = self._last = 0.0

    def __enter__(self) -> "TrainingThreads":
        self._t0 = self._last = time.perf_counter()
        self._beat()
        if self.adaptive:
            busy = self._meter.sample()
            if busy is None:
                busy = _recent_busy()
            if busy is None:                         # nothing measured lately: look for PROBE_SECONDS first
                time.sleep(PROBE_SECONDS)
                busy = self._meter.sample()
            _remember_busy(busy)
            others = training_kernels(self.folder, os.getpid())
            allowed = decide(self.cores, busy, others)
            self._apply(allowed if more_threads_pay() else 1, busy, others)
        self._step_t = time.perf_counter()
        return self

    def _beat(self) -> None:
        try:
            self.folder.mkdir(mode=0o700, exist_ok=True)
            self._file.touch()
        except OSError:                              # a read-only temporary folder: no announcements, no harm
            pass

    def _apply(self, n: int, busy, others) -> None:
        import torch
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
        if not self.decisions or self.decisions[-1][1] != n:
            self.decisions.append((time.perf_counter() - self._t0, n, busy, others))

    def tick(self) -> None:
        """Renew the heartbeat and decide again, at most every ``CHECK_SECONDS`` (a call costs ~1 us otherwise)."""
        now = time.perf_counter()
        self._steps.append(now - self._step_t)
        self._step_t = now
        if now - self._last < CHECK_SECONDS:
            return
        self._last = now
        self._beat()
        if self.adaptive:
            others = training_kernels(self.folder, os.getpid())
            busy = self._meter.sample()
            _remember_busy(busy)
            self._apply(self._choose(decide(self.cores, busy, others)), busy, others)
        self._steps = []
        self._step_t = time.perf_counter()

    def _choose(self, allowed: int) -> int:
        """Threads for the next window: ``allowed`` (from :func:`decide`) if more threads pay, else 1; runs the
        speed probe (a window with ``allowed`` threads, then one with 1) when one is due."""
        import torch
        now_threads, steps, warm = torch.get_num_threads(), sorted(self._steps), self._warm
        self._warm = True
        if allowed == 1 or not SPEED_PROBE:
            if self._probe:
                self._probe = {}                                # a probe cut short starts again
            return allowed
        if self._probe is not None and warm and len(steps) >= 3 and now_threads in (1, allowed):
            self._probe[now_threads] = steps[len(steps) // 2]
            if 1 in self._probe and allowed in self._probe:     # both windows timed: record the gain
                _GAINS[:] = (_GAINS + [self._probe[1] / max(self._probe[allowed], 1e-9)])[-5:]
                _PROBED[:] = [time.perf_counter()]
                self._probe = None
        elif self._probe is None and (not _PROBED or time.perf_counter() - _PROBED[0] >= REPROBE_SECONDS):
            self._probe = {}                                    # a probe is due: time the next two windows
        if self._probe is not None:
            return 1 if allowed in self._probe else allowed
        return allowed if more_threads_pay() else 1

    def __exit__(self, *exc) -> None:
        try:
            self._file.unlink()
        except OSError:
            pass
        if self.adaptive:
            _remember_busy(self._meter.sample())
            import torch
            torch.set_num_threads(configured_threads() or 1)


def apply_thread_policy() -> int | None:
    """Apply :func:`configured_threads` to torch, BLAS and OpenMP; return the number applied (or None).

    Safe to call again (it re-reads the environment). Called once by ``import aelib``.
    """
    n = configured_threads()
    _applied["threads"] = n
    if n is None:
        return None
    for var in _ENV_VARS:
        if var not in os.environ:
            os.environ[var] = str(n)
            if var == "OMP_NUM_THREADS":
                os.environ[_MARK] = str(n)
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        if torch.get_num_threads() != n:
            torch.set_num_threads(n)
    if any(m in sys.modules for m in ("numpy", "scipy", "sklearn", "torch")):
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:  # pragma: no cover - scikit-learn brings threadpoolctl
            return n
        threadpool_limits(limits=n)
    return n


def describe() -> str:
    """One line for an environment check: the threads in use, the policy, and how to change it."""
    try:
        import torch
        now = torch.get_num_threads()
    except ImportError:  # pragma: no cover
        now = "?"
    kind, n = mode()
    how = {"default": "AELIB_THREADS=auto: the libraries' defaults",
           "fixed": f"AELIB_THREADS={n}",
           "adaptive": f"adaptive: up to {available_cores()} while training alone"}[kind]
    return (f"{now} torch thread(s) now, {os.cpu_count()} cores ({how}; set AELIB_THREADS=N, =adaptive or =auto "
            "before starting Jupyter to change it)")
