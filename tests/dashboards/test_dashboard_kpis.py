"""Formats and targets shared by the Overview cards and the weekly report."""

from __future__ import annotations

import pytest

from dashboards import i18n, kpis
from ingest.config import BusinessConfig


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "–"),
        (45, "45s"),
        (59.6, "1m 00s"),
        (240, "4m 00s"),
        (930, "15m 30s"),
        (3600, "1h 00m"),
        (86_400 * 32 + 3_700, "32d 01h"),
        (-60, "-1m 00s"),
    ],
)
def test_format_duration(seconds: float | None, text: str) -> None:
    assert kpis.format_duration(seconds) == text


def test_deltas_and_targets() -> None:
    by_key = {kpi.key: kpi for kpi in kpis.headline_kpis(BusinessConfig())}
    frt, sla, nps = by_key["kpi_frt_median"], by_key["kpi_sla"], by_key["kpi_nps"]
    assert kpis.format_delta(frt.kind, 240.0, 300.0) == "-1m 00s"
    assert kpis.format_delta(sla.kind, 0.8, 0.7) == "+10.0 pts"
    assert kpis.format_delta(nps.kind, 25, 0) == "+25"
    assert kpis.format_delta(nps.kind, 25, None) is None
    assert kpis.meets_target(frt, 300.0) is True  # equal to the target counts as met
    assert kpis.meets_target(frt, 301.0) is False
    assert kpis.meets_target(sla, 0.9) is True
    assert kpis.meets_target(nps, 25) is None
    assert kpis.format_target(frt) == "≤ 5m 00s"
    row = {"sla_met_count": 8, "sla_breached_count": 2}
    assert kpis.n_of(sla, row) == 10


def test_business_clock_columns() -> None:
    art = next(k for k in kpis.headline_kpis(BusinessConfig()) if k.key == "kpi_art")
    row = {"art_median_seconds": 3600.0, "art_business_median_seconds": 1800.0}
    assert kpis.value_of(art, row, business_time=False) == 3600.0
    assert kpis.value_of(art, row, business_time=True) == 1800.0
    assert kpis.value_of(art, {"art_median_seconds": float("nan")}, False) is None


@pytest.mark.parametrize("bad", ["2026-47", "2026-w47", "W47", "2026-W5", " 2026-W47", ""])
def test_parse_iso_week_rejects_other_formats(bad: str) -> None:
    with pytest.raises(ValueError, match="YYYY-Www"):
        kpis.parse_iso_week(bad)


def test_every_label_has_both_languages() -> None:
    for key, (english, spanish) in i18n.LABELS.items():
        assert english and spanish, key
    assert i18n.t("week_of", "en", week="2026-W47", start="2026-11-16").startswith("Week 2026-W47")
    assert i18n.weekday_names("es")[0] == "Lun"
