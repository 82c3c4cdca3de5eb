"""`bandeja simulate` and `bandeja import conversions` through the real command line entry."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from inbox_api.cli import main


def test_history_dry_run_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "simulate", "history", "--days", "1", "--agents", "3", "--seed", "4",
            "--end", "2026-11-24T18:00:00Z", "--dry-run",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    for label in ("cycles", "FRT", "SLA first reply", "CSAT", "reopened"):
        assert label in out


def test_bulk_writes_parquet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "simulate", "bulk", "--messages", "5000", "--out", str(tmp_path), "--seed", "2",
            "--end", "2026-11-24T00:00:00Z",
        ]
    )  # fmt: skip
    assert code == 0
    assert "Parquet files" in capsys.readouterr().out
    assert pl.read_parquet(sorted(tmp_path.glob("*.parquet"))).height > 5000


def test_bad_inputs_fail_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "conversions", str(tmp_path / "missing.csv")]) == 1
    assert "missing.csv: no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["simulate", "history", "--end", "2026-11-24 18:00"])
    assert "needs a UTC offset" in capsys.readouterr().err
