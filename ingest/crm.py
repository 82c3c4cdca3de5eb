"""CRM conversions from a CSV file: validate every row, post the good ones, report the rest.

Columns: `contact` (phone / wa_id digits, or a business-scoped id like `MX.123…`), `type`
(`sale` or `appointment`), `amount`, `currency` (ISO 4217), `occurred_at` (ISO 8601 with offset,
or a bare date). Each row is posted to `POST /v1/conversions` with `external_id` = a hash of the
row's normalised values, so importing the same file twice records nothing new.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import httpx

COLUMNS = ("contact", "type", "amount", "currency", "occurred_at")
KINDS = ("sale", "appointment")
_BSUID = re.compile(r"^[A-Z]{2}\.[0-9A-Za-z]+$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class ConversionRow:
    line: int
    contact: dict[str, str]
    kind: str
    amount: float | None
    currency: str | None
    occurred_at: dt.datetime

    @property
    def external_id(self) -> str:
        key = "|".join(
            (
                next(iter(self.contact.values())),
                self.kind,
                "" if self.amount is None else f"{self.amount:.2f}",
                self.currency or "",
                self.occurred_at.astimezone(dt.UTC).isoformat(),
            )
        )
        return "csv:" + hashlib.sha256(key.encode()).hexdigest()[:32]

    def body(self) -> dict[str, Any]:
        return {
            "contact": self.contact,
            "kind": self.kind,
            "amount": self.amount,
            "currency": self.currency,
            "occurred_at": self.occurred_at.isoformat(),
            "external_id": self.external_id,
        }


@dataclass(frozen=True)
class BadRow:
    line: int
    reason: str


@dataclass
class CrmReport:
    imported: int = 0
    duplicates: int = 0
    unknown_contacts: list[int] = field(default_factory=list)
    bad_rows: list[BadRow] = field(default_factory=list)

    def format(self) -> str:
        lines = [
            f"imported {self.imported}, duplicates {self.duplicates}, "
            f"unknown contacts {len(self.unknown_contacts)}, bad rows {len(self.bad_rows)}"
        ]
        lines += [f"  line {bad.line}: {bad.reason}" for bad in self.bad_rows]
        lines += [f"  line {line}: no contact matches" for line in self.unknown_contacts]
        return "\n".join(lines)


def _contact(value: str) -> dict[str, str] | str:
    value = value.strip()
    if not value:
        return "contact is empty"
    if _BSUID.match(value):
        return {"bsuid": value}
    digits = re.sub(r"[\s\-().+]", "", value)
    if digits.isdigit() and 8 <= len(digits) <= 15:
        return {"phone": digits}
    return f"contact {value!r} is neither a phone number (8-15 digits) nor a business-scoped id"


def _instant(value: str, now: dt.datetime) -> dt.datetime | str:
    value = value.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            parsed = dt.datetime.combine(dt.date.fromisoformat(value), dt.time(12), dt.UTC)
        else:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return f"occurred_at {value!r} is not an ISO 8601 date or instant"
    if parsed.tzinfo is None:
        return f"occurred_at {value!r} has no UTC offset"
    if parsed > now + dt.timedelta(minutes=5):
        return f"occurred_at {value!r} is in the future"
    return parsed


def parse_rows(
    lines: Iterable[str], now: dt.datetime | None = None
) -> tuple[list[ConversionRow], list[BadRow]]:
    """Good rows and bad rows (by file line number, header = line 1) of a conversions CSV."""
    now = now or dt.datetime.now(dt.UTC)
    reader = csv.DictReader(lines)
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        return [], [BadRow(1, f"header lacks column(s): {', '.join(missing)}")]
    reader.fieldnames = header
    good: list[ConversionRow] = []
    bad: list[BadRow] = []
    seen: dict[str, int] = {}
    for record in reader:
        line = reader.line_num
        if None in record:
            bad.append(BadRow(line, "more values than columns"))
            continue
        values = {key: (record.get(key) or "").strip() for key in COLUMNS}
        if not any(values.values()):
            continue
        problems: list[str] = []
        contact = _contact(values["contact"])
        if isinstance(contact, str):
            problems.append(contact)
        kind = values["type"].lower()
        if kind not in KINDS:
            problems.append(f"type {values['type']!r} is not sale or appointment")
        amount: float | None = None
        if values["amount"]:
            try:
                number = Decimal(values["amount"].replace(",", ""))
                if not number.is_finite() or number < 0:
                    raise InvalidOperation
                amount = float(round(number, 2))
            except InvalidOperation:
                problems.append(f"amount {values['amount']!r} is not a non-negative number")
        elif kind == "sale":
            problems.append("amount is required for a sale")
        currency = values["currency"].upper() or None
        if currency and not _CURRENCY.match(currency):
            problems.append(f"currency {values['currency']!r} is not a 3-letter ISO code")
        if amount is not None and currency is None:
            problems.append("currency is required with an amount")
        occurred = _instant(values["occurred_at"], now)
        if isinstance(occurred, str):
            problems.append(occurred)
        if problems:
            bad.append(BadRow(line, "; ".join(problems)))
            continue
        assert isinstance(contact, dict) and isinstance(occurred, dt.datetime)
        row = ConversionRow(line, contact, kind, amount, currency, occurred)
        if row.external_id in seen:
            bad.append(BadRow(line, f"repeats line {seen[row.external_id]}"))
            continue
        seen[row.external_id] = line
        good.append(row)
    return good, bad


def import_file(path: Path, client: httpx.Client, token: str) -> CrmReport:
    """Validate the whole file, then post every good row; bad rows are reported, never sent."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        good, bad = parse_rows(handle)
    report = CrmReport(bad_rows=bad)
    headers = {"Authorization": f"Bearer {token}"}
    for row in good:
        response = client.post("/v1/conversions", json=row.body(), headers=headers)
        if response.status_code == 404:
            report.unknown_contacts.append(row.line)
        elif response.status_code in (200, 201):
            body = response.json()
            if body.get("duplicate") or body.get("created") is False:
                report.duplicates += 1
            else:
                report.imported += 1
        elif response.status_code == 409:
            report.duplicates += 1
        else:
            detail = response.text[:200]
            report.bad_rows.append(
                BadRow(row.line, f"refused by the API (HTTP {response.status_code}): {detail}")
            )
    return report
