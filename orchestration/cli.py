"""The `credit-reporting-warehouse` command: generate data, run the pipeline, show status."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from compliance.explain import EXAMPLE_CUSTOMER
from foundation.errors import WarehouseError
from foundation.months import consecutive_stretches, is_batch_month, months_between
from ingestion.manifest import MANIFEST_NAME, landing_batches
from orchestration import settings
from source_system.config import GeneratorConfig, GeneratorConfigError


class _Parser(argparse.ArgumentParser):
    """argparse, answering a mistake in one line (its usage is one `--help` away) and exit 2."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def month_argument(text: str) -> str:
    """Every month argument of the command line: YYYY-MM, checked here once."""
    if not is_batch_month(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a month YYYY-MM")
    return text


NOTHING_PUBLISHED = "nothing published: the dashboard keeps showing the last good copy"
AUDIT_PUBLISHED = (
    "the load audit is published, marked with this failure (Data quality page); "
    "the other pages keep showing the last good build"
)
# Dagster's console logs a failed step with its stack trace; the CLI prints the one-line reason itself
# (the run, trace included, stays in the Dagster instance for the UI).
QUIET_RUN = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
BUREAU_SUBMISSION = ["bureau", "submission_210"]


def _execute(defs, job: str, **options):
    """One of the jobs, in this process, quietly: dagster-dbt echoes every dbt line (~300 a build) to
    stdout, so they go to a log file beside the warehouse; the CLI prints one line per outcome."""
    import contextlib

    log = dbt_console_log()
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w", encoding="utf-8") as out, contextlib.redirect_stdout(out):
        return defs.resolve_job_def(job).execute_in_process(raise_on_error=False, run_config=QUIET_RUN, **options)


def dbt_console_log() -> Path:
    return settings.warehouse_path().parent / "logs" / "dbt-console.log"


def _generate(args: argparse.Namespace) -> int:
    from source_system import generate_landing

    cfg = GeneratorConfig(
        customers=args.customers,
        first_month=args.first_month,
        months=args.months,
        seed=args.seed,
        encoding=args.encoding,
        file_format=args.format,
        rollout_month=args.rollout_month,
        dirty_rate=args.dirty_rate,
        dirty_kinds=tuple(args.dirty_kinds.split(",")) if args.dirty_kinds else (),
    )
    out = Path(args.out).resolve()
    with tqdm(total=cfg.months, desc="generating batches", unit="month") as bar:
        generate_landing(cfg, out, progress=lambda month: (bar.set_postfix_str(month), bar.update()))
    print(f"wrote {cfg.months} batches ({cfg.first_month} .. ) for {cfg.customers:,} customers to {out}")
    return 0


def ready_batches(landing: Path) -> tuple[list[str], list[str]]:
    try:
        return landing_batches(landing)
    except WarehouseError as exc:
        raise WarehouseError(f"{exc}: run `generate` first or set {settings.LANDING_ENV}") from None


def _prepare_dagster() -> None:
    """A persistent instance (runs show in the UI); the dbt assets prepare their manifest themselves."""
    home = settings.dagster_home()
    settings.write_dagster_instance_config(home)
    os.environ["DAGSTER_HOME"] = str(home)
    settings.export_for_subprocesses()


def _failure_message(result) -> str:
    """The one-line reason of a failed run: the Failure's description, else the error's last line."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            data = event.step_failure_data
            if data.user_failure_data and data.user_failure_data.description:
                return data.user_failure_data.description
            error = data.error
            while error is not None and error.cause is not None:  # the root cause says what went wrong
                error = error.cause
            lines = [line for line in (error.message if error else "").splitlines() if line.strip()]
            if lines:
                return lines[0].strip()
    return "run failed"


def _monthly_definitions():
    """The Dagster definitions and a persistent instance; the warehouse free for this run's writes."""
    from orchestration.warehouse_file import connect_warehouse

    _prepare_dagster()
    settings.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    connect_warehouse(settings.warehouse_path()).close()  # held by another process: say which, now
    from dagster import DagsterInstance

    from orchestration.definitions import defs

    return defs, DagsterInstance.get()


def _outside_partitions(months: list[str]) -> dict[str, str]:
    """Why each of these batch months has no partition to load into (none when all have one)."""
    from foundation.months import current_month, month_has_ended
    from orchestration.partitions import batch_months

    keys = set(batch_months.get_partition_keys())
    return {
        month: (
            f"the month has not ended yet (today is {current_month()} in China time)"
            if not month_has_ended(month)
            else f"it is before {settings.first_month()}, where the partitions start: "
            f"set {settings.FIRST_MONTH_ENV} to the first batch month"
        )
        for month in months
        if month not in keys
    }


def _refuse(outside: dict[str, str]) -> None:
    """Audit and print the batches no partition can load; the others go on."""
    if not outside:
        return
    from contextlib import closing

    from ingestion.raw_load import refuse_batch
    from orchestration.warehouse_file import connect_warehouse

    with closing(connect_warehouse(settings.warehouse_path())) as con:
        for month, reason in outside.items():
            refuse_batch(con, month, reason, settings.validation_reports_dir(settings.warehouse_path()))
            print(f"{month}: batch {month} refused: {reason}")


def _publish_after_failure(failure: str) -> None:
    from orchestration.analytics_copy import publish_after_failure

    published = publish_after_failure(
        settings.warehouse_path(), settings.published_path(), f"failed-{os.getpid()}", failure
    )
    print(NOTHING_PUBLISHED if published is None else AUDIT_PUBLISHED)


def _print_next_steps() -> None:
    from orchestration.status import format_status, read_status

    print()
    print(format_status(read_status(settings.warehouse_path())))
    print()
    print("next:")
    print("  Dagster UI:   make dagster   (then http://localhost:3000)")
    print("  status:       .venv/bin/credit-reporting-warehouse status")
    print(f"  dashboard and ad-hoc SQL: make dashboard   (reads {settings.published_path()})")
    print("  SQL prompt:   make sql")


def _run(args: argparse.Namespace) -> int:
    """Every ready batch through the monthly job, as the schedule and the sensor run it: one run per
    stretch of consecutive months (a backfill), dbt on the months the loads touched. `--full-refresh`
    loads them, then rebuilds every table from raw and writes the bureau files."""
    landing = settings.landing_dir()
    ready, waiting = ready_batches(landing)
    if args.month:
        unknown = [m for m in args.month if m not in ready]
        if unknown:
            raise WarehouseError(f"no ready batch for {', '.join(unknown)} in {landing}")
        ready = sorted(args.month)
    defs, instance = _monthly_definitions()
    outside = _outside_partitions(ready)
    _refuse(outside)
    months = [m for m in ready if m not in outside]
    failures = len(outside)
    if args.full_refresh:
        failures += _load_then_rebuild(defs, instance, landing, months)
    else:
        for stretch in consecutive_stretches(months):
            failures += _monthly_runs(defs, instance, landing, stretch)
    for month in waiting:
        print(f"{month}: not ready ({MANIFEST_NAME} missing), left for the next run")
    _print_next_steps()
    return 1 if failures else 0


def _monthly_job(defs, instance, landing: Path, months: list[str], **options):
    """One run of the monthly job over these consecutive months, tagged with each batch's sending."""
    from orchestration.automation import batch_tag
    from orchestration.partitions import partition_range_tags

    tags = partition_range_tags(months[0], months[-1])
    for month in months:
        tags |= batch_tag(landing / month)
    return _execute(defs, "monthly_batch", instance=instance, tags=tags, **options)


def _monthly_runs(defs, instance, landing: Path, months: list[str]) -> int:
    """The monthly job over consecutive months; the number of failures. A rejected batch stops its
    run's loads: the months loaded before it go through the job's later steps, the months after it
    through a run of their own (as the sensor would run them)."""
    from orchestration.assets.raw import REJECTED_MONTH
    from orchestration.jobs import AFTER_THE_LOAD

    span = months[0] if len(months) == 1 else f"{months[0]} .. {months[-1]}"
    print(f"{span}: the monthly job (load, gate, dbt on the months touched, publish, bureau files) ...")
    result = _monthly_job(defs, instance, landing, months)
    _print_submissions(result)
    if result.success:
        return 0
    failure = _failure_message(result)
    rejected = _failure_metadata(result).get(REJECTED_MONTH)
    if rejected is None:
        print(f"{failure} (dbt's output: {dbt_console_log()})")
        _publish_after_failure(failure)
        return 1
    print(f"{rejected.value}: {failure}")
    failures = 1
    if loaded := [m for m in months if m < rejected.value]:
        print(f"{loaded[0]} .. {loaded[-1]}: dbt, publish and bureau files for the months loaded")
        selection = [key for assets in AFTER_THE_LOAD for key in assets.keys]
        after = _monthly_job(defs, instance, landing, loaded, asset_selection=selection)
        _print_submissions(after)
        if not after.success:
            failures += 1
            failure = _failure_message(after)
            print(f"{failure} (dbt's output: {dbt_console_log()})")
            _publish_after_failure(failure)
    if later := [m for m in months if m > rejected.value]:
        failures += _monthly_runs(defs, instance, landing, later)
    return failures


def _failure_metadata(result) -> dict:
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.user_failure_data:
            return dict(event.step_failure_data.user_failure_data.metadata or {})
    return {}


def _print_submissions(result) -> None:
    """The bureau step's outcome per month, as `submit` prints it."""
    for event in result.get_asset_materialization_events():
        if event.asset_key.path == BUREAU_SUBMISSION:
            messages = event.step_materialization_data.materialization.metadata.get("messages")
            for line in (messages.value if messages else "").splitlines():
                print(f"  {line}")
            return  # the step's one materialization (its event is in the run's events twice)


def _load_then_rebuild(defs, instance, landing: Path, months: list[str]) -> int:
    """Each batch loaded by its own run, then every table rebuilt from raw and the bureau files written:
    what the monthly job's results are compared with."""
    from orchestration.automation import batch_tag

    failures = 0
    for month in tqdm(months, desc="loading batches", unit="batch"):
        result = _execute(defs, "load_batch", partition_key=month, instance=instance, tags=batch_tag(landing / month))
        if not result.success:
            failures += 1
            tqdm.write(f"{month}: {_failure_message(result)}")
    print("rebuilding every dbt model from raw and running the tests ...")
    build = _execute(defs, "build_models", instance=instance)
    if not build.success:
        failure = f"dbt build failed: {_failure_message(build)}"
        print(f"{failure} (dbt's output: {dbt_console_log()})")
        _publish_after_failure(failure)
        return failures + 1
    print(f"bureau files into {settings.submissions_dir()}:")
    return failures + (not _submit_months(None))


def _backfill(args: argparse.Namespace) -> int:
    """The monthly job over a range of months as one run, like a backfill launched from the UI."""
    if args.first > args.last:
        raise WarehouseError(f"--from {args.first} is after --to {args.last}")
    landing = settings.landing_dir()
    ready, _ = ready_batches(landing)
    months = months_between(args.first, args.last)
    missing = [m for m in months if m not in ready]
    if missing:
        raise WarehouseError(
            f"no ready batch for {', '.join(missing)} in {landing}: a backfill loads every month of its range"
        )
    if outside := _outside_partitions(months):
        raise WarehouseError("; ".join(f"batch {m} cannot be loaded: {why}" for m, why in outside.items()))
    defs, instance = _monthly_definitions()
    print(f"backfilling {len(months)} months ({args.first} .. {args.last}): loads, then dbt on the months touched")
    result = _monthly_job(defs, instance, landing, months)
    _print_submissions(result)
    if not result.success:
        failure = f"backfill failed: {_failure_message(result)}"
        print(f"{failure} (dbt's output: {dbt_console_log()})")
        _publish_after_failure(failure)
    _print_next_steps()
    return 0 if result.success else 1


def _status(args: argparse.Namespace) -> int:
    from orchestration.status import format_status, read_status

    path = settings.warehouse_path()
    if not path.is_file():
        raise WarehouseError(f"no warehouse at {path}: run `credit-reporting-warehouse run` first")
    print(format_status(read_status(path)))
    return 0


def _submit(args: argparse.Namespace) -> int:
    path = settings.warehouse_path()
    if not path.is_file():
        raise WarehouseError(f"no warehouse at {path}: run `credit-reporting-warehouse run` first")
    return 0 if _submit_months([args.month] if args.month else None) else 1


def _submit_months(months: list[str] | None) -> bool:
    """Submit these months, or every built month not submitted yet; False when one was held back
    whole (the months after it wait: months are submitted in order)."""
    from contextlib import closing

    from bureau.submit import check_org_code, submit_months, unsubmitted_months
    from orchestration.analytics_copy import refresh_after_submission
    from orchestration.submission_time import submission_time
    from orchestration.warehouse_file import connect_warehouse

    org = check_org_code(settings.org_code())
    at = submission_time()
    all_written = True
    with closing(connect_warehouse(settings.warehouse_path())) as con:
        # none left: the latest submitted month again, for the corrections a rebuild may need
        months = months or unsubmitted_months(con)
        results = 0
        for result in submit_months(con, months, settings.submissions_dir(), org, at, settings.max_held_share()):
            print(result.message, flush=True)
            all_written, results = all_written and result.written, results + 1
    if not results:
        print("nothing to submit: no month is built yet")
    refresh_after_submission(settings.warehouse_path(), settings.published_path(), f"submit-{at:%Y%m%d%H%M%S}")
    return all_written


def _feedback(args: argparse.Namespace) -> int:
    from contextlib import closing

    from bureau.feedback import apply_feedback
    from orchestration.analytics_copy import refresh_after_submission
    from orchestration.submission_time import submission_time
    from orchestration.warehouse_file import connect_warehouse

    path, warehouse = Path(args.file), settings.warehouse_path()
    if not path.exists():
        raise WarehouseError(f"no file {path}")
    if not warehouse.is_file():
        raise WarehouseError(f"no warehouse at {warehouse}: run `credit-reporting-warehouse run` first")
    at = submission_time()
    with closing(connect_warehouse(warehouse)) as con:
        applied = apply_feedback(con, path, at)
    print(applied.message)
    refresh_after_submission(warehouse, settings.published_path(), f"feedback-{at:%Y%m%d%H%M%S}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    import json
    from contextlib import closing

    import duckdb

    from compliance.explain import ExplainError, Query, as_text, explain
    from orchestration.warehouse_file import connect_warehouse

    if args.account and not args.month:
        raise WarehouseError("explain --account needs --month YYYY-MM")
    warehouse = settings.warehouse_path()
    if not warehouse.is_file():
        raise WarehouseError(f"no warehouse at {warehouse}: run `credit-reporting-warehouse run` first")
    with closing(connect_warehouse(warehouse, read_only=True)) as con:
        try:
            answer = explain(con, Query(args.customer, args.account, args.month))
        except duckdb.CatalogException:
            raise ExplainError(
                f"the warehouse {warehouse} has no compliance views yet: run `credit-reporting-warehouse run`"
            ) from None
    print(json.dumps(answer, default=str, ensure_ascii=False, indent=2) if args.json else as_text(answer), end="")
    if args.json:
        print()
    return 0


def _check_submission(args: argparse.Namespace) -> int:
    from bureau.reader import read_file

    path = Path(args.file)
    if not path.is_file():
        raise WarehouseError(f"no file {path}")
    parsed = read_file(path)
    for problem in parsed.problems:
        print(f"{path.name}: {problem}")
    if parsed.problems:
        return 1
    print(f"{path.name}: {len(parsed.records):,} records, nothing wrong")
    return 0


def _sql(args: argparse.Namespace) -> int:
    from foundation.published_sql import NotPublished, QueryFailed, connect
    from orchestration import sql_shell

    try:
        with connect():  # no copy yet: say so before a prompt opens
            pass
        if args.command is None and sys.stdin.isatty():
            sql_shell.interactive()
        else:
            script = sys.stdin.read() if args.command is None else args.command
            sql_shell.run_script(script, sys.stdout, csv=args.csv)
    except (NotPublished, QueryFailed) as exc:
        raise WarehouseError(str(exc).splitlines()[0]) from None  # DuckDB's caret lines are for the prompt
    return 0


def _forecast(args: argparse.Namespace) -> int:
    from orchestration.forecast_report import forecast_text

    print(forecast_text(args.as_of), end="")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="credit-reporting-warehouse",
        description="Consent-gated credit-bureau reporting warehouse: synthetic source data, "
        "manifest-checked raw loads into DuckDB under Dagster, dbt models.",
        epilog=f"Paths: {settings.WAREHOUSE_ENV} (warehouse file, default data/warehouse.duckdb), "
        f"{settings.LANDING_ENV} (landing zone, default data/landing).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = sub.add_parser("generate", help="write synthetic landing batches (the built-in data)")
    defaults = GeneratorConfig()
    gen.add_argument(
        "--customers", type=int, default=defaults.customers, help="customers in the base (default %(default)s)"
    )
    gen.add_argument(
        "--first-month",
        type=month_argument,
        default=defaults.first_month,
        metavar="YYYY-MM",
        help="first batch month YYYY-MM (default %(default)s)",
    )
    gen.add_argument(
        "--months", type=int, default=defaults.months, help="number of monthly batches (default %(default)s)"
    )
    gen.add_argument(
        "--rollout-month",
        type=int,
        default=defaults.rollout_month,
        help="1-based month of the first invitation wave (default %(default)s)",
    )
    gen.add_argument(
        "--seed", type=int, default=defaults.seed, help="random seed; same seed, same bytes (default %(default)s)"
    )
    gen.add_argument("--encoding", choices=["utf-8", "gb18030"], default=defaults.encoding, help="CSV encoding")
    gen.add_argument("--format", choices=["csv", "parquet"], default=defaults.file_format, help="file format")
    gen.add_argument("--out", default=str(settings.landing_dir()), help="landing folder (default %(default)s)")
    gen.add_argument(
        "--dirty-rate",
        type=float,
        default=0.0,
        help="dirty-data mode: share of rows corrupted per defect class (e.g. 0.005)",
    )
    gen.add_argument(
        "--dirty-kinds", default="", help="comma-separated defect classes (default: all; see source_system/dirty.py)"
    )
    gen.set_defaults(handler=_generate)

    run = sub.add_parser(
        "run", help="the monthly job over every ready batch: load, gate, dbt on the months touched, publish, submit"
    )
    run.add_argument(
        "--month",
        action="append",
        type=month_argument,
        metavar="YYYY-MM",
        help="load only this batch month (repeatable)",
    )
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="load the batches, then rebuild every table from raw (what the monthly runs are checked against)",
    )
    run.set_defaults(handler=_run)

    backfill = sub.add_parser(
        "backfill", help="run the monthly job (load, gate, dbt on the months touched, publish) over a range of months"
    )
    backfill.add_argument(
        "--from", dest="first", required=True, type=month_argument, metavar="YYYY-MM", help="first batch month"
    )
    backfill.add_argument(
        "--to", dest="last", required=True, type=month_argument, metavar="YYYY-MM", help="last batch month"
    )
    backfill.set_defaults(handler=_backfill)

    submit = sub.add_parser("submit", help="write the bureau's 210 file of a month (or of every month not sent)")
    which = submit.add_mutually_exclusive_group(required=True)
    which.add_argument("--month", type=month_argument, metavar="YYYY-MM", help="the month to submit")
    which.add_argument("--all", action="store_true", help="every built month not submitted yet, in order")
    submit.set_defaults(handler=_submit)

    submission = sub.add_parser("submission", help="bureau files: check one before uploading it")
    submission_sub = submission.add_subparsers(dest="action", required=True, metavar="ACTION")
    check = submission_sub.add_parser("check", help="read a bureau file and print what is wrong, by line")
    check.add_argument("file", help="a .txt file written by `submit`")
    check.set_defaults(handler=_check_submission)

    feedback = sub.add_parser("feedback", help="apply the bureau's feedback file (.fbk) on a file sent")
    feedback.add_argument("file", help="the .fbk file, named like the file it answers")
    feedback.set_defaults(handler=_feedback)

    explain_ = sub.add_parser(
        "explain", help="why a customer (or an account) was reported or not in a month, and what was sent"
    )
    who = explain_.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", metavar="C", help=f"a customer key (e.g. {EXAMPLE_CUSTOMER})")
    who.add_argument("--account", metavar="A", help="an account id (with --month)")
    explain_.add_argument(
        "--month", type=month_argument, metavar="YYYY-MM", help="one reporting month (default: every month loaded)"
    )
    explain_.add_argument("--json", action="store_true", help="the answer as JSON, for machines")
    explain_.set_defaults(handler=_explain)

    sql = sub.add_parser(
        "sql", help="SQL over the published analytics copy (read-only, no personal data): a prompt, -c, or stdin"
    )
    sql.add_argument("-c", dest="command", metavar="SQL", help="run these statements and exit")
    sql.add_argument("--csv", action="store_true", help="rows as CSV (with -c or stdin), for other tools")
    sql.set_defaults(handler=_sql)

    forecast = sub.add_parser(
        "forecast", help="rollout pace: coverage projected per cohort for 12 months, the 90%% month, the backtest"
    )
    forecast.add_argument(
        "--as-of",
        type=month_argument,
        metavar="YYYY-MM",
        help="the forecast made as of this month (default: the latest; the six before it are kept)",
    )
    forecast.set_defaults(handler=_forecast)

    status = sub.add_parser("status", help="batches loaded and row counts per layer")
    status.set_defaults(handler=_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except (WarehouseError, GeneratorConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
