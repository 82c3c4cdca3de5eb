"""CRM conversions CSV: every bad row reported by line and reason, good rows kept."""

from __future__ import annotations

import datetime as dt

from ingest.crm import parse_rows

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)

CSV = """contact,type,amount,currency,occurred_at
+52 1 55 1234 5678,sale,1500.50,MXN,2026-11-20T10:00:00-06:00
MX.123456789012345678,appointment,,,2026-11-21
5215512345678,refund,10,MXN,2026-11-20T10:00:00Z
,sale,10,MXN,2026-11-20T10:00:00Z
5215512345678,sale,-3,MXN,2026-11-20T10:00:00Z
5215512345678,sale,10,pesos,2026-11-20T10:00:00Z
5215512345678,sale,10,MXN,yesterday
5215512345678,sale,10,MXN,2026-11-20T10:00:00
5215512345678,sale,,MXN,2026-11-20T10:00:00Z
5215512345678,sale,10,MXN,2030-01-01T00:00:00Z
hello,sale,10,MXN,2026-11-20T10:00:00Z
+52 1 55 1234 5678,sale,1500.50,MXN,2026-11-20T10:00:00-06:00

5215512345678,appointment,,,2026-11-22T09:00:00Z,extra
"""


def test_bad_rows_by_line_and_reason() -> None:
    good, bad = parse_rows(CSV.splitlines(keepends=True), now=NOW)
    assert [row.line for row in good] == [2, 3]
    reasons = {row.line: row.reason for row in bad}
    assert set(reasons) == {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15}
    assert "refund" in reasons[4]
    assert "contact is empty" in reasons[5]
    assert "non-negative" in reasons[6]
    assert "3-letter" in reasons[7]
    assert "not an ISO 8601" in reasons[8]
    assert "no UTC offset" in reasons[9]
    assert "amount is required" in reasons[10]
    assert "future" in reasons[11]
    assert "neither a phone" in reasons[12]
    assert "repeats line 2" in reasons[13]
    assert "more values" in reasons[15]


def test_good_rows_become_idempotent_requests() -> None:
    good, _ = parse_rows(CSV.splitlines(keepends=True), now=NOW)
    sale, appointment = good
    assert sale.contact == {"phone": "5215512345678"}
    assert sale.body()["amount"] == 1500.5 and sale.body()["currency"] == "MXN"
    assert appointment.contact == {"bsuid": "MX.123456789012345678"}
    assert appointment.body()["amount"] is None
    again, _ = parse_rows(CSV.splitlines(keepends=True), now=NOW)
    assert [row.external_id for row in again] == [row.external_id for row in good]
    assert len({row.external_id for row in good}) == 2


def test_missing_columns_name_themselves() -> None:
    good, bad = parse_rows(["contact,type,amount\n", "1,sale,2\n"], now=NOW)
    assert good == []
    assert bad[0].line == 1 and "currency" in bad[0].reason and "occurred_at" in bad[0].reason
