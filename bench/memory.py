"""Peak resident memory of a process tree, sampled from /proc (no psutil needed).

DuckDB allocates inside the process that runs it, so the RSS of the tree (the Python process, and
the dbt subprocess it starts) includes DuckDB's buffer pool.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(child) for child in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KIB
    except (OSError, IndexError, ValueError):
        return 0


def tree_rss_kib(root: int, exclude: frozenset[int] = frozenset()) -> int:
    """Summed RSS of `root` and its descendants, skipping the subtrees rooted at `exclude`."""
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        if pid in exclude:
            continue
        total += _rss_kib(pid)
        stack.extend(_children(pid))
    return total


class PeakSampler:
    """Samples a tree's RSS every `interval` seconds in a thread; `peak_mib` after `stop()`."""

    def __init__(
        self, root: int, exclude: frozenset[int] = frozenset(), interval: float = 0.05
    ) -> None:
        self.root, self.exclude, self.interval = root, exclude, interval
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root, self.exclude))
            self._stop.wait(self.interval)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_kib = max(self.peak_kib, tree_rss_kib(self.root, self.exclude))

    @property
    def peak_mib(self) -> float:
        return self.peak_kib / 1024
