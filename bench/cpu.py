"""How many cores the machine kept busy over an interval, from /proc/stat.

The whole machine, not one process: a pipeline run's dbt, DuckDB and Dagster threads, the API
serving the feed, the kernel writing pages back. On these 2-core machines it says whether a run
is bound by CPU (close to 2) or waits on something else (I/O, one thread, a lock).
"""

from __future__ import annotations

import os
from pathlib import Path

PROC_STAT = Path("/proc/stat")


def cpu_jiffies(stat_text: str | None = None) -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot, from /proc/stat's `cpu` line (or
    `stat_text`); busy is all but idle and iowait. None where there is no /proc/stat."""
    if stat_text is None:
        try:
            stat_text = PROC_STAT.read_text()
        except OSError:
            return None
    fields = stat_text.split("\n", 1)[0].split()
    if not fields or fields[0] != "cpu" or len(fields) < 5:
        return None
    # user nice system idle iowait irq softirq steal (older kernels stop after idle); guest time
    # is already in user and nice.
    values = [int(value) for value in fields[1:9]]
    values += [0] * (8 - len(values))
    idle = values[3] + values[4]
    total = sum(values)
    return total - idle, total


def cores_busy(
    before: tuple[int, int] | None, after: tuple[int, int] | None, cores: int | None = None
) -> float | None:
    """The average number of busy cores between two `cpu_jiffies()` readings."""
    if before is None or after is None or after[1] <= before[1]:
        return None
    cores = cores or os.cpu_count() or 1
    return round((after[0] - before[0]) / (after[1] - before[1]) * cores, 2)
