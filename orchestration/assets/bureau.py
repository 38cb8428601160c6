"""The bureau's files of each month (corrections, then the 210), written after the month's build
passed and was published, and the bureau's feedback on them; the analytics copy is published again
after each, with the ledger's views."""

from pathlib import Path

from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    Config,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from bureau.feedback import FeedbackError, apply_feedback
from bureau.reader import read_file
from bureau.submit import SubmissionError, check_org_code, submit_months, unsubmitted_months
from orchestration import settings
from orchestration.analytics_copy import refresh_after_submission
from orchestration.assets.published import published_analytics
from orchestration.partitions import batch_months
from orchestration.resources import Warehouse
from orchestration.submission_time import submission_time

READS_BACK = "file_reads_back_clean"
HELD_SHARE = "held_share_within_limit"


@asset(
    key=AssetKey(["bureau", "submission_210"]),
    deps=[AssetKey(["marts", "credit_report_monthly"]), published_analytics.key],
    partitions_def=batch_months,
    backfill_policy=BackfillPolicy.single_run(),  # months are submitted in order, in one run
    group_name="bureau",
    kinds={"duckdb"},
    check_specs=[
        AssetCheckSpec(
            READS_BACK,
            asset=AssetKey(["bureau", "submission_210"]),
            description="Every file written reads back with nothing wrong (bureau/reader.py).",
        ),
        AssetCheckSpec(
            HELD_SHARE,
            asset=AssetKey(["bureau", "submission_210"]),
            description="No month held back whole (more than CRW_MAX_HELD_SHARE of it failing S1-S6).",
        ),
    ],
    description="The month's records the bureau does not hold yet, checked (S1-S6), as one 210 file with its "
    ".json sidecar in CRW_SUBMISSIONS, recorded in audit.bureau_files and audit.bureau_records.",
)
def bureau_submission_210(context: AssetExecutionContext, warehouse: Warehouse):
    org = check_org_code(settings.org_code())
    last = max(context.partition_keys)
    results = []
    try:
        with warehouse.connect() as con:
            months = [m for m in unsubmitted_months(con) if m <= last] or [last]
            at = submission_time()
            for result in submit_months(con, months, settings.submissions_dir(), org, at, settings.max_held_share()):
                results.append(result)
                context.log.info(result.message)
    except SubmissionError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    refresh_after_submission(Path(warehouse.database_path), settings.published_path(), context.run.run_id)
    files = [r for r in results if r.file]
    problems = [f"{r.file.name}: {p}" for r in files for p in read_file(r.file).problems]
    held_back = [r.message for r in results if not r.written]
    yield MaterializeResult(
        metadata={
            "months": ", ".join(r.month for r in results),
            "files": MetadataValue.json({r.file.name: r.sha256 for r in files}),
            "records": sum(r.records for r in results if r.record_type == "210"),
            "corrections": MetadataValue.json(
                {t: sum(r.records for r in files if r.record_type == t) for t in ("212", "213", "214")}
            ),
            "records_per_rpt_date_code": MetadataValue.json(
                {code: sum(r.records_per_code.get(code, 0) for r in files) for code in ("10", "30", "31", "32")}
            ),
            "held_per_rule": MetadataValue.json(results[-1].held_per_rule if results else {}),
            "messages": "\n".join(r.message for r in results),
        }
    )
    yield AssetCheckResult(
        check_name=READS_BACK, passed=not problems, metadata={"problems": "\n".join(problems[:20]) or "none"}
    )
    yield AssetCheckResult(
        check_name=HELD_SHARE, passed=not held_back, metadata={"held_back": "\n".join(held_back) or "none"}
    )
    if held_back:
        raise Failure(description=held_back[0], allow_retries=False)


class FeedbackFile(Config):
    file: str  # a .fbk file, in CRW_FEEDBACK when the sensor starts the run


@asset(
    key=AssetKey(["bureau", "feedback"]),
    group_name="bureau",
    kinds={"duckdb"},
    description="The bureau's feedback on one file: the records it refused leave audit.bureau_view "
    "(kept in audit.bureau_refused with code and message) and are sent again once their data changed; "
    "a feedback file naming what the ledger does not hold is refused whole.",
)
def bureau_feedback(context: AssetExecutionContext, config: FeedbackFile, warehouse: Warehouse):
    try:
        with warehouse.connect() as con:
            applied = apply_feedback(con, Path(config.file), submission_time())
    except FeedbackError as exc:
        raise Failure(description=str(exc), allow_retries=False) from None
    context.log.info(applied.message)
    refresh_after_submission(Path(warehouse.database_path), settings.published_path(), context.run.run_id)
    return MaterializeResult(
        metadata={
            "feedback_file": applied.feedback_file,
            "answers": applied.file_name,
            "refused": applied.refused,
            "refused_per_code": MetadataValue.json(applied.per_code),
            "applied_before": applied.already,
        }
    )
