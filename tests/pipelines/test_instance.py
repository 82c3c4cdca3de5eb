"""The pipeline's Dagster instance stores and reads back what Dagster's ephemeral one does."""

from __future__ import annotations

import dagster as dg

from pipelines.instance import HeldConnectionEventLogStorage, ephemeral_instance


@dg.asset
def numbers() -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"count": 3})


@dg.asset_check(asset=numbers)
def numbers_are_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def test_runs_on_the_held_connection_store_and_read_back_their_events():
    with ephemeral_instance() as instance:
        assert isinstance(instance.event_log_storage, HeldConnectionEventLogStorage)
        assert instance.is_ephemeral
        for _ in range(2):
            result = dg.materialize([numbers, numbers_are_positive], instance=instance)
            assert result.success

        records = instance.fetch_materializations(numbers.key, limit=10).records
        assert len(records) == 2
        assert records[0].asset_materialization.metadata["count"].value == 3
        check = instance.event_log_storage.get_latest_asset_check_execution_by_key(
            [numbers_are_positive.check_key]
        )[numbers_are_positive.check_key]
        assert check.status.value == "SUCCEEDED"
