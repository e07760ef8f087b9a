"""Keep the test process's resident memory down, and report it on request.

Loading a random Chatterbox allocates and frees gigabytes in chunks that glibc keeps in its
heaps after the model is gone (its mmap threshold grows to 32 MB after the first big free),
so without help every model-heavy test leaves the process bigger: the suite grew to 18 GB.
:class:`ReleaseMemory` (always on; ``PARROT_TEST_RELEASE_MEMORY=0`` turns it off, to compare)
collects garbage and hands free heap pages back to the kernel after a test that grew the
process, and when a module ends. :class:`MemoryProbe` (``PARROT_TEST_MEMORY=1``, or
``=tensors`` to also total the live torch tensors at each module's end) lists each module's
resident memory in the terminal summary, and every test that grew the process by more than
``PARROT_TEST_MEMORY_JUMP_MB`` (default 300). :class:`MemoryBudget` warns after a run that
peaked over 12 GB (``PARROT_TEST_MEMORY_BUDGET_MB``).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

STATUS = Path("/proc/self/status")
RELEASE_AFTER_TEST_MB = 512.0
"""A test that leaves the process this much above the last release triggers a release."""
RELEASE_AFTER_MODULE_MB = 128.0
BUDGET_MB = 12 * 1024.0
"""The whole suite must stay under this on the 24 GiB CI machine (issue 11)."""


def resident_mb() -> tuple[float, float]:
    """The process's (current, peak) resident set size in MB (VmRSS, VmHWM); 0 off Linux."""
    values: dict[str, float] = {}
    try:
        lines = STATUS.read_text().splitlines()
    except OSError:
        return 0.0, 0.0
    for line in lines:
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            values[name] = int(rest.split()[0]) / 1024
    return values.get("VmRSS", 0.0), values.get("VmHWM", 0.0)


def _malloc_trim() -> Callable[[], object]:
    """glibc's ``malloc_trim(0)``: returns free pages of every heap to the kernel."""
    name = ctypes.util.find_library("c")
    try:
        trim = ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc: nothing to trim
        trim = None
    if trim is None:
        return lambda: None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


def module_of(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def module_ends(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    return nextitem is None or module_of(nextitem) != module_of(item)


@dataclass(eq=False)  # hashable: pluggy keeps plugins in sets
class ReleaseMemory:
    """Collect garbage and trim the heaps after tests and modules that grew the process.

    A full collection costs about 0.3 s with torch and chatterbox imported, so it runs only
    after growth; trimming alone is nearly free and runs at every module's end. Freed memory
    still counts as resident until trimmed, so growth is the highest reading since the last
    release, not the current one.
    """

    trim: Callable[[], object] = field(default_factory=_malloc_trim)
    floor_mb: float = field(default_factory=lambda: resident_mb()[0])
    high_mb: float = 0.0
    releases: int = 0
    seconds: float = 0.0

    def release(self, *, collect: bool = True) -> None:
        start = time.perf_counter()
        if collect:
            gc.collect()
            self.releases += 1
        self.trim()
        self.floor_mb = self.high_mb = resident_mb()[0]
        self.seconds += time.perf_counter() - start

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        # trylast: after the fixtures this test was the last user of are finalised
        current, _ = resident_mb()
        self.high_mb = max(self.high_mb, current)
        if module_ends(item, nextitem):
            self.release(collect=self.high_mb - self.floor_mb > RELEASE_AFTER_MODULE_MB)
        elif current - self.floor_mb > RELEASE_AFTER_TEST_MB:
            self.release()


@dataclass(eq=False)  # hashable: pluggy keeps plugins in sets
class MemoryBudget:
    """Warn at the end of the run when the process went over the suite's memory budget."""

    budget_mb: float = BUDGET_MB

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        _, peak = resident_mb()
        if peak > self.budget_mb:
            terminalreporter.write_line(
                f"WARNING: the test process peaked at {peak / 1024:.1f} GB resident, over the "
                f"suite's {self.budget_mb / 1024:.0f} GB budget (PARROT_TEST_MEMORY=1 shows "
                "which modules hold it; see tests/memory.py)",
                yellow=True,
                bold=True,
            )


def live_tensor_mb() -> float:
    """Storage held by the torch tensors still reachable after a full collection (slow)."""
    if "torch" not in sys.modules:
        return 0.0
    import torch  # deferred: only when torch is already loaded

    gc.collect()
    storages: dict[int, int] = {}
    for obj in gc.get_objects():
        try:
            if isinstance(obj, torch.Tensor) and obj.device.type == "cpu":
                storage = obj.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
        except Exception:  # lazy wrappers and meta tensors have no storage
            continue
    return sum(storages.values()) / 2**20


@dataclass
class ModuleMemory:
    name: str
    start_mb: float
    end_mb: float = 0.0
    peak_mb: float = 0.0
    tensors_mb: float = 0.0


@dataclass(eq=False)  # hashable: pluggy keeps plugins in sets
class MemoryProbe:
    jump_mb: float = 300.0
    tensors: bool = False
    releaser: ReleaseMemory | None = None
    modules: list[ModuleMemory] = field(default_factory=list)
    jumps: list[tuple[str, float, float]] = field(default_factory=list)
    _before: float = 0.0

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        current, _ = resident_mb()
        name = module_of(item)
        if not self.modules or self.modules[-1].name != name:
            self.modules.append(ModuleMemory(name, current))
        self._before = current

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_teardown(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        current, peak = resident_mb()
        module = self.modules[-1]
        module.end_mb, module.peak_mb = current, peak
        if current - self._before > self.jump_mb:
            self.jumps.append((item.nodeid, self._before, current))
        if self.tensors and module_ends(item, nextitem):
            module.tensors_mb = live_tensor_mb()

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        write = terminalreporter.write_line
        terminalreporter.section("resident memory (MB)")
        write(f"{'start':>7} {'end':>7} {'peak':>7} {'tensors':>7}  module")
        for module in self.modules:
            write(
                f"{module.start_mb:7.0f} {module.end_mb:7.0f} {module.peak_mb:7.0f}"
                f" {module.tensors_mb:7.0f}  {module.name}"
            )
        for nodeid, before, after in self.jumps:
            write(f"jump {before:7.0f} -> {after:7.0f}  {nodeid}")
        current, peak = resident_mb()
        write(f"at exit: {current:.0f} MB resident, {peak:.0f} MB peak")
        if self.releaser:
            releaser = self.releaser
            write(f"{releaser.releases} collections, trims took {releaser.seconds:.1f} s in all")


def register(config: pytest.Config, environ: dict[str, str]) -> None:
    """Install the release plugin, and the probe when ``PARROT_TEST_MEMORY`` asks for it."""
    budget = float(environ.get("PARROT_TEST_MEMORY_BUDGET_MB", BUDGET_MB))
    config.pluginmanager.register(MemoryBudget(budget), "parrot-memory-budget")
    releaser = None if environ.get("PARROT_TEST_RELEASE_MEMORY") == "0" else ReleaseMemory()
    if environ.get("PARROT_TEST_MEMORY"):
        probe = MemoryProbe(
            jump_mb=float(environ.get("PARROT_TEST_MEMORY_JUMP_MB", "300")),
            tensors=environ["PARROT_TEST_MEMORY"] == "tensors",
            releaser=releaser,
        )
        config.pluginmanager.register(probe, "parrot-memory-probe")
    # both teardowns are trylast, and pluggy calls the newest such one last: the probe reads
    # what a test left behind, before the release
    if releaser:
        config.pluginmanager.register(releaser, "parrot-release-memory")
