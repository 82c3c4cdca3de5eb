"""Dagster definitions by integration: ingest, dbt, publish, reports, resources, schedules."""
