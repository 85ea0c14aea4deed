"""Where a benchmark's CPU goes: a thread that samples /proc (Linux) every `period` seconds and
adds up, per program, the CPU seconds of every process working inside a folder (its current
directory under `root`: a repository and the experiments DVC runs in its .dvc/tmp), the wall
seconds each stage process lived, and the machine's idle core-seconds. A process that starts
and ends between two samples is missed: `missed` is the machine's busy CPU the programs do not
account for (other users' included)."""

from __future__ import annotations

import collections
import os
import threading
import time
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def kind(argv: list[str]) -> str:
    """A process's program: `stage train` for `python -m kaizen train`, `dvc exp exec-run`,
    `dvc queue worker`, `git`, or its name."""
    names = [Path(arg).name for arg in argv]
    if "kaizen" in names:
        after = names[names.index("kaizen") + 1 :]
        return f"stage {after[0]}" if after else "kaizen"
    if "dvc" in names:
        words = [arg for arg in argv[names.index("dvc") + 1 :] if not arg.startswith("-")]
        if words[:2] == ["exp", "queue-worker"]:
            return "dvc queue worker"
        return "dvc " + " ".join(words[:2])
    if names and names[0] == "git":
        return "git"
    return names[0] if names else "?"


def machine_idle() -> float:
    """Idle + I/O wait core-seconds since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = stat.readline().split()
    return (int(fields[4]) + int(fields[5])) / TICKS


def machine_busy() -> float:
    """Busy core-seconds since boot (/proc/stat: user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICKS


class Sampler(threading.Thread):  # pylint: disable=too-many-instance-attributes  # totals
    """Start it, run the work, `stop()` it, then read `cpu`, `lived`, `idle`, `missed`."""

    def __init__(self, root: Path, period: float = 0.25):
        super().__init__(daemon=True)
        self.root = str(Path(root).resolve())
        self.period = period
        self.cpu: collections.Counter = collections.Counter()  # CPU s per program
        self.lived: collections.Counter = collections.Counter()  # wall s per stage program
        self.runs: collections.Counter = collections.Counter()  # processes per stage program
        self.seen: dict[int, tuple[str, float, float]] = {}  # pid -> kind, CPU s, first seen
        self.last: dict[int, float] = {}
        self.done = threading.Event()
        self.idle = self.missed = 0.0
        self._start_idle, self._start_busy = machine_idle(), machine_busy()

    def run(self) -> None:
        while not self.done.wait(self.period):
            self.sample()

    def stop(self) -> None:
        """Stop sampling; totals are final."""
        self.done.set()
        self.join()
        self.sample()
        self.idle = machine_idle() - self._start_idle
        self.missed = machine_busy() - self._start_busy - sum(self.cpu.values())
        for pid, (name, _, first) in self.seen.items():
            if name.startswith("stage "):
                self.lived[name] += self.last[pid] - first
                self.runs[name] += 1

    def sample(self) -> None:
        """Add every matching process's CPU since its last sample."""
        now = time.monotonic()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == os.getpid():
                continue
            pid = int(entry)
            try:
                if not os.readlink(f"/proc/{pid}/cwd").startswith(self.root):
                    continue
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
                if pid not in self.seen:
                    with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                        argv = cmdline.read().decode(errors="replace").split("\0")
                    self.seen[pid] = (kind([arg for arg in argv if arg]), 0.0, now)
            except OSError:  # gone meanwhile
                continue
            cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
            name, before, first = self.seen[pid]
            self.cpu[name] += cpu - before
            self.seen[pid] = (name, cpu, first)
            self.last[pid] = now
