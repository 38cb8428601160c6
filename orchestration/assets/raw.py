"""One asset per landing file, materialized together: a batch passes the gate and loads whole,
with its bad rows quarantined, or is rejected whole."""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from bureau.ledger import ensure_ledger
from foundation.errors import BatchNotReady, BatchRejected
from foundation.landing import LANDING_FILES
from ingestion import lake
from ingestion.load_report import INDEX
from ingestion.raw_load import BatchLoad, load_batch
from orchestration import settings
from orchestration.partitions import batch_months
from orchestration.resources import Warehouse

RAW_GROUP = "raw"
GATE_CHECK = "landing_gate"
REJECTED_MONTH = "rejected_batch_month"
FLAG_CHECKS = {  # cross-file rules surfaced without holding rows back, on the asset they concern
    "jiebei_without_authorization_at_opening (R4)": ("accounts", "jiebei_authorized_at_opening"),
    "closed_account_with_balance (P6)": ("account_snapshots", "closed_accounts_settled"),
}


def raw_asset_key(table: str) -> AssetKey:
    return AssetKey(["raw", table])


@multi_asset(
    name="raw_landing_batch",
    specs=[
        AssetSpec(
            raw_asset_key(spec.name),
            description=f"raw.{spec.name}: the rows of every loaded batch that passed the gate, typed, "
            f"with load metadata; failing rows are held in quarantine.{spec.name}.",
            group_name=RAW_GROUP,
            kinds={"duckdb"},
        )
        for spec in LANDING_FILES
    ],
    check_specs=[
        AssetCheckSpec(
            GATE_CHECK,
            asset=raw_asset_key(spec.name),
            blocking=True,
            description="The batch passed the landing gate; warns when rows were quarantined.",
        )
        for spec in LANDING_FILES
    ]
    + [AssetCheckSpec(name, asset=raw_asset_key(table)) for table, name in FLAG_CHECKS.values()],
    partitions_def=batch_months,
    backfill_policy=BackfillPolicy.single_run(),  # one writer: a backfill is one run, oldest month first
    can_subset=False,
)
def raw_landing_batch(context: AssetExecutionContext, warehouse: Warehouse):
    """Verify the batch, run the GX suites and cross-file checks, load all seven files in one transaction.

    A backfill of several months runs as one run: the batches load oldest first, and the first
    rejected one stops the step (the months before it stay loaded and queued for rebuilding)."""
    loaded: list[BatchLoad] = []
    reports = settings.validation_reports_dir(Path(warehouse.database_path))
    for month in context.partition_keys:
        try:
            with warehouse.connect() as con:
                result = load_batch(con, Path(warehouse.landing_dir) / month, reports)
                ensure_ledger(con)  # the analytics models read the bureau's ledger: plain dbt finds it
                if lake_dir := settings.lake_dir():  # the same batch for Spark (docs/spark.md)
                    lake.write_batch(con, lake_dir, month)
                    lake.write_bookkeeping(con, lake_dir)
        except (BatchNotReady, BatchRejected) as exc:
            before = f" (loaded before it: {', '.join(r.batch_month for r in loaded)})" if loaded else ""
            raise Failure(
                description=f"{exc}{before}",
                allow_retries=False,
                metadata={
                    "validation_reports": MetadataValue.path(str(reports / INDEX)),
                    REJECTED_MONTH: month,  # the CLI's run builds the months loaded before it
                },
            ) from None
        loaded.append(result)
    for spec in LANDING_FILES:
        yield from _file_results(spec.name, loaded)
    for rule, (table, name) in FLAG_CHECKS.items():
        flagged = [(result.batch_month, flag) for result in loaded for flag in result.flags if flag.rule == rule]
        if flagged:
            yield AssetCheckResult(
                asset_key=raw_asset_key(table),
                check_name=name,
                passed=all(flag.count == 0 for _, flag in flagged),
                severity=AssetCheckSeverity.WARN,
                metadata={
                    "accounts": sum(flag.count for _, flag in flagged),
                    "examples": ", ".join(f"{month}: {e}" for month, flag in flagged for e in flag.examples) or "none",
                },
            )


def _file_results(table: str, loaded: list[BatchLoad]):
    """One materialization and one gate result per file, summed over the months of the run."""
    files = [(result.batch_month, result.files[table], result.report) for result in loaded]
    quarantined = sum(load.rows_quarantined for _, load, _ in files)
    reports = {  # the latest month's report, and the index of every attempt's
        "validation_report": MetadataValue.path(str(files[-1][2])),
        "validation_reports": MetadataValue.path(str(files[-1][2].parent / INDEX)),
    }
    key = raw_asset_key(table)
    yield MaterializeResult(
        asset_key=key,
        metadata={
            "batch_months": ", ".join(month for month, _, _ in files),
            "file": files[0][1].file_name,
            "rows_received": sum(load.rows_received for _, load, _ in files),
            "rows_loaded": sum(load.rows_loaded for _, load, _ in files),
            "rows_quarantined": quarantined,
            **reports,
        },
    )
    failed = {
        f"{month}: {o.description}": o.examples for month, load, _ in files for o in load.outcomes if not o.success
    }
    yield AssetCheckResult(
        asset_key=key,
        check_name=GATE_CHECK,
        passed=quarantined == 0,
        severity=AssetCheckSeverity.WARN,  # quarantined rows never reach raw: downstream may go on
        metadata={
            "checks_evaluated": sum(load.staged.checks_evaluated for _, load, _ in files),
            "checks_failed": sum(load.staged.checks_failed for _, load, _ in files),
            "rows_quarantined": quarantined,
            "reasons": "; ".join(f"{m}: {r}" for m, load, _ in files if (r := load.reason_summary())) or "none",
            "failing_examples": MetadataValue.json(failed),
            **reports,
        },
    )
