"""The pipeline benchmark reports how many cores the machine kept busy during each run."""

from __future__ import annotations

import sys
import time

from pipeline_api import REPO

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.cpu import cores_busy, cpu_jiffies
from bench.pipeline_bench import _scheduled_lines

# /proc/stat's first lines on a 2-core VM: user nice system idle iowait irq softirq steal guest
# guest_nice.
STAT = "cpu  7000 100 900 20000 400 0 50 0 300 0\ncpu0 3500 50 450 10000 200 0 25 0 150 0\n"


def test_cpu_jiffies_counts_all_but_idle_and_iowait_as_busy() -> None:
    # guest time (300) is already inside user time, so it is not added again
    assert cpu_jiffies(STAT) == (7000 + 100 + 900 + 50, 7000 + 100 + 900 + 20000 + 400 + 50)


def test_cpu_jiffies_reads_the_short_line_of_an_old_kernel() -> None:
    assert cpu_jiffies("cpu 70 1 9 200\n") == (80, 280)


def test_cpu_jiffies_refuses_what_is_not_a_cpu_line() -> None:
    assert cpu_jiffies("") is None
    assert cpu_jiffies("intr 1 2 3 4 5\n") is None
    assert cpu_jiffies("cpu 1 2\n") is None


def test_cores_busy_is_the_busy_share_of_the_interval_times_the_cores() -> None:
    assert cores_busy((100, 1000), (400, 1400), cores=2) == 1.5
    assert cores_busy((100, 1000), (500, 1400), cores=2) == 2.0
    # no reading, or no time between the readings: no figure rather than a wrong one
    assert cores_busy(None, (500, 1400), cores=2) is None
    assert cores_busy((100, 1000), (100, 1000), cores=2) is None


def test_this_machine_has_readings_that_move_forward() -> None:
    before = cpu_jiffies()
    if before is None:  # no /proc/stat (not Linux): the bench then reports no figure
        assert cores_busy(before, cpu_jiffies()) is None
        return
    time.sleep(0.05)
    after = cpu_jiffies()
    assert after is not None and after[1] >= before[1] and after[0] >= before[0]


def test_scheduled_lines_show_the_busy_cores_of_each_run() -> None:
    report = {
        "scheduled_host": {
            "peak_rss_mib": 2984,
            "runs": [
                {"how": "host start", "seconds": 7.4},
                {"how": "host", "seconds": 28.9, "cores_busy": 1.61, "steps": {"bandeja_dbt": 25}},
                {"how": "host", "seconds": 20.9, "cores_busy": None, "steps": {}},
            ],
        }
    }
    lines = _scheduled_lines(report)
    assert "cores busy" not in lines[1]
    assert "28.9 s  1.61 of" in lines[2] and "cores busy" in lines[2]
    assert "cores busy" not in lines[3]
