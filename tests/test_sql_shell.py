"""Terminal SQL (`make sql`): the published copy opens read-only from the command line, answers
queries (-c, stdin, the prompt), and refuses writes, file access and attaching the warehouse."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli, query

from orchestration import sql_shell
from orchestration.settings import PUBLISHED_ENV, WAREHOUSE_ENV


def test_queries_answer_from_the_published_copy(small_published):
    warehouse, published = small_published
    env = {PUBLISHED_ENV: str(published)}
    ((expected,),) = query(published, "select sum(reported_accounts) from analytics.rollout_coverage")
    result = cli("sql", "-c", "select sum(reported_accounts) as reported from rollout_coverage;", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["reported", str(expected)] and "(1 row in" in result.stdout

    piped = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "sql", "--csv"],
        input="select 'a;b' as x; select product, count(*) as n from rollout_coverage group by 1 order by 1",
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )
    assert piped.returncode == 0, piped.stderr
    products = query(published, "select product, count(*) from analytics.rollout_coverage group by 1 order by 1")
    assert piped.stdout.splitlines() == ["x", "a;b", "product,n", *(f"{p},{n}" for p, n in products)]


@pytest.mark.parametrize(
    "statement, refusal",
    [
        ("create table t as select 1", "read-only mode"),
        ("delete from rollout_coverage", "read-only mode"),
        ("copy (select 1) to 'out.csv'", "file system operations are disabled"),
        ("select * from read_csv('/etc/passwd')", "file system operations are disabled"),
        ("attach '{warehouse}' as w", "disabled"),  # the warehouse, personal data and all (R15)
        ("set enable_external_access = true", "configuration has been locked"),
        ("selec 1", "syntax error"),
    ],
)
def test_writes_file_access_and_mistakes_are_one_line_refusals(small_published, statement, refusal):
    warehouse, published = small_published
    result = cli("sql", "-c", statement.format(warehouse=warehouse), env={PUBLISHED_ENV: str(published)})
    assert result.returncode == 2
    assert refusal in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


def test_no_published_copy_is_one_line_saying_what_to_run(tmp_path: Path):
    result = cli("sql", "-c", "select 1", env={PUBLISHED_ENV: str(tmp_path / "none.duckdb")})
    assert result.returncode == 2 and "run the pipeline (`make run`)" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_prompt_runs_statements_across_lines_and_goes_on_after_a_refusal(small_published, monkeypatch):
    warehouse, published = small_published
    monkeypatch.setenv(PUBLISHED_ENV, str(published))
    monkeypatch.setenv(WAREHOUSE_ENV, str(warehouse))
    typed = iter(
        [
            "select count(*)",
            "  as n from provinces;",
            "drop view provinces;",
            ".tables",
            ".columns rollout_coverage",
            "select 2 as b;",
        ]
    )
    prompts: list[str] = []

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        try:
            return next(typed)
        except StopIteration:
            raise EOFError from None

    out = io.StringIO()
    sql_shell.prompt_loop(read_line, out)
    text = out.getvalue()
    assert prompts[:2] == [sql_shell.PROMPT, sql_shell.CONTINUED]  # the statement went on to its ';'
    ((provinces,),) = query(published, "select count(*) from analytics.provinces")
    lines = [line.strip() for line in text.splitlines()]
    assert lines[lines.index("n") + 1] == str(provinces)
    assert any(line.startswith("error: ") and "read-only" in line for line in lines)  # refused, and it went on
    assert "rollout_coverage" in text and lines[lines.index("b") + 1] == "2"
    invited = next(line for line in lines if line.startswith("invited_customers"))
    assert "Cumulative" in invited  # .columns shows the dbt descriptions the copy carries


def test_the_screen_shows_text_left_aligned_and_cut_and_says_how_many_rows_it_left_out(small_published, monkeypatch):
    monkeypatch.setenv(PUBLISHED_ENV, str(small_published[1]))
    out = io.StringIO()
    sql_shell.run_statement("select repeat('x', 200) as long_text, 'ab' as short_text", out)
    header, row, _ = out.getvalue().splitlines()
    assert header.startswith("long_text") and row.startswith("x")  # left-aligned under its name
    assert row.split()[0] == "x" * (sql_shell.TEXT_WIDTH - 1) + "…" and row.split()[1] == "ab"
    out = io.StringIO()
    sql_shell.run_statement(f"select range as n from range({sql_shell.SHOWN_ROWS + 10})", out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 1 + sql_shell.SHOWN_ROWS + 2 and "10 more rows" in lines[-2]
