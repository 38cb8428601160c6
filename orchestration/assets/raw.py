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
    Failure,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from data_quality.report import write_report
from ingestion.contract import LANDING_FILES
from ingestion.errors import BatchNotReady, BatchRejected
from ingestion.raw_load import load_batch
from orchestration import settings
from orchestration.partitions import batch_months
from orchestration.resources import Warehouse

RAW_GROUP = "raw"
GATE_CHECK = "landing_gate"
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
    can_subset=False,
)
def raw_landing_batch(context: AssetExecutionContext, warehouse: Warehouse):
    """Verify the batch, run the GX suites and cross-file checks, load all seven files in one transaction."""
    month = context.partition_key
    batch_dir = Path(warehouse.landing_dir) / month
    try:
        with warehouse.connect() as con:
            result = load_batch(con, batch_dir)
    except (BatchNotReady, BatchRejected) as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    report = write_report(settings.validation_reports_dir(Path(warehouse.database_path)), result)
    for spec in LANDING_FILES:
        load = result.files[spec.name]
        key = raw_asset_key(spec.name)
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "batch_month": month,
                "file": load.file_name,
                "rows_received": load.rows_received,
                "rows_loaded": load.rows_loaded,
                "rows_quarantined": load.rows_quarantined,
                "validation_report": MetadataValue.path(str(report)),
            },
        )
        failed = [o for o in load.outcomes if not o.success]
        yield AssetCheckResult(
            asset_key=key,
            check_name=GATE_CHECK,
            passed=load.rows_quarantined == 0,
            severity=AssetCheckSeverity.WARN,  # quarantined rows never reach raw: downstream may go on
            metadata={
                "checks_evaluated": load.staged.checks_evaluated,
                "checks_failed": load.staged.checks_failed,
                "rows_quarantined": load.rows_quarantined,
                "reasons": load.reason_summary() or "none",
                "failing_examples": MetadataValue.json(
                    {o.description: [{k: str(v) for k, v in e.items()} for e in o.examples] for o in failed}
                ),
                "validation_report": MetadataValue.path(str(report)),
            },
        )
    for flag in result.flags:
        table, name = FLAG_CHECKS[flag.rule]
        yield AssetCheckResult(
            asset_key=raw_asset_key(table),
            check_name=name,
            passed=flag.count == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"accounts": flag.count, "examples": ", ".join(flag.examples) or "none"},
        )
