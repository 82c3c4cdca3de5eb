"""dbt in the Dagster process: which build options reach the parse, and when a parse is reused."""

from __future__ import annotations

import os
import shutil

import duckdb
import pytest
from dagster_dbt.errors import DagsterDbtCliRuntimeError
from pipeline_api import REPO

from ingest.config import BusinessConfig
from pipelines.defs import dbt_runner
from pipelines.defs.dbt import checkpoint_env, dbt_build_args
from pipelines.defs.resources import environ


def test_a_build_shares_its_target_vars_and_profile_with_its_parse():
    args = [*dbt_build_args(BusinessConfig(), target="prod", full_refresh=True), "--profile", "x"]

    options = dbt_runner.parse_options(args)

    assert options[:2] == ["--target", "prod"]
    assert options[2] == "--vars" and options[3] == args[args.index("--vars") + 1]
    assert options[4:] == ["--profile", "x"]
    assert "--full-refresh" not in options and "unit_test" not in options


@pytest.fixture
def project_parses(tmp_path, monkeypatch):
    """A copy of the dbt project, and the options of every parse from here on."""
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    parses = []
    parse = dbt_runner.parse_project
    monkeypatch.setattr(
        dbt_runner,
        "parse_project",
        lambda *args, **kwargs: parses.append(args[1]) or parse(*args, **kwargs),
    )
    return project, parses


@pytest.mark.slow
def test_the_parsed_manifest_is_reused_until_a_file_the_target_or_the_env_changes(
    tmp_path, project_parses
):
    project, parses = project_parses
    env = {"BANDEJA_WAREHOUSE_DB": str(tmp_path / "warehouse.duckdb")}
    dev = ["--target", "dev"]

    first = dbt_runner.parsed_manifest(project, dev, env)
    again = dbt_runner.parsed_manifest(project, dev, env)

    assert len(parses) == 1
    # each build gets its own copy: what one build compiles into the nodes, the next never sees
    assert again is not first and again.nodes.keys() == first.nodes.keys()
    model = next(key for key in first.nodes if key.endswith(".stg_inbox__run_as_of"))
    first.nodes[model].compiled_code = "select 1"
    assert dbt_runner.parsed_manifest(project, dev, env).nodes[model].compiled_code is None
    assert len(parses) == 1

    source = project / "models" / "staging" / "inbox" / "stg_inbox__run_as_of.sql"
    stat = source.stat()
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    dbt_runner.parsed_manifest(project, dev, env)
    assert len(parses) == 2

    dbt_runner.parsed_manifest(project, ["--target", "prod"], env)
    assert parses[-1] == ["--target", "prod"]
    dbt_runner.parsed_manifest(project, ["--target", "prod"], env)
    assert len(parses) == 3

    dbt_runner.parsed_manifest(
        project, ["--target", "prod"], {"BANDEJA_WAREHOUSE_DB": str(tmp_path / "other.duckdb")}
    )
    assert len(parses) == 4


@pytest.mark.slow
def test_a_build_gets_the_manifest_parsed_in_the_background_and_its_errors(
    tmp_path, project_parses
):
    project, parses = project_parses
    env = {"BANDEJA_WAREHOUSE_DB": str(tmp_path / "warehouse.duckdb")}
    dev = ["--target", "dev"]

    thread = dbt_runner.parse_in_background(project, dev, env)
    # waits for the parse under way (or, if it won the lock, leaves the thread nothing to do)
    manifest = dbt_runner.parsed_manifest(project, dev, env)
    thread.join()

    assert len(parses) == 1 and any(key.endswith(".fct_cycles") for key in manifest.nodes)

    # A project that does not parse: the background thread keeps quiet, the build says why.
    (project / "models" / "broken.yml").write_text("models: [unclosed\n", encoding="utf-8")
    dbt_runner.parse_in_background(project, dev, env).join()
    with pytest.raises(DagsterDbtCliRuntimeError, match=r"dbt parse of .* failed"):
        dbt_runner.parsed_manifest(project, dev, env)
    assert len(parses) == 3


@pytest.mark.slow
def test_only_a_build_told_so_checkpoints_without_merging_row_groups(tmp_path, project_parses):
    # What a model sees of DuckDB's setting is what the build's closing checkpoint uses.
    project, parses = project_parses
    (project / "models" / "vacuum_probe.sql").write_text(
        "{{ config(materialized='table') }}\nselect current_setting('max_vacuum_tasks') as tasks"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    env = {
        "BANDEJA_WAREHOUSE_DB": str(warehouse),
        "BANDEJA_SERVING_BUILD_DB": str(tmp_path / "serving.duckdb"),
    }
    build = ["build", "--select", "vacuum_probe", "--project-dir", str(project)]
    build += ["--profiles-dir", str(project), "--target-path", str(tmp_path / "target")]
    seen = []
    for vacuum in (False, True):
        # as in the pipeline: the manifest parsed without the setting, the build run with it
        manifest = dbt_runner.parsed_manifest(project, ["--target", "dev"], env)
        with environ({**env, **checkpoint_env(vacuum=vacuum)}):
            try:
                result = dbt_runner.invoke_dbt(build, manifest=manifest)
            finally:
                dbt_runner.close_warehouse()
        assert result.success, result.exception
        with duckdb.connect(str(warehouse), read_only=True) as con:
            seen.append(con.execute("select tasks from vacuum_probe").fetchall()[0][0])

    assert seen == [0, 100]
    assert len(parses) == 1
