"""The managers' weekly report: CSVs and a short PDF for one ISO week."""

from dashboards.report.build import build_weekly_report

__all__ = ["build_weekly_report"]
