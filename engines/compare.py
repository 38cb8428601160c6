"""Compare the relations one engine built with another's, relation by relation, row for row.

Values are compared normalized, so that equal facts compare equal whatever the engine's types:
doubles rounded to 9 decimals (the engines add in different orders), timestamps as microseconds
since the epoch (DuckDB's local timestamps and Spark's session-UTC ones alike), decimals and
integers by value. Columns are compared by name: a column missing on one side is a difference.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class Difference:
    relation: str
    duckdb_rows: int
    spark_rows: int
    differing_rows: int  # rows of either side without an equal row on the other (except all, both ways)
    columns_only_in_duckdb: tuple[str, ...] = ()
    columns_only_in_spark: tuple[str, ...] = ()

    @property
    def equal(self) -> bool:
        return not (self.differing_rows or self.columns_only_in_duckdb or self.columns_only_in_spark)


def compare(warehouse: Path, brought_back: Path, models: list[tuple[str, str]]) -> list[Difference]:
    """Each model's relation, (schema, name), in DuckDB's warehouse against the one Spark built."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{warehouse}' as duck (read_only)")
        return [_compare_one(con, schema, name, brought_back / schema / name) for schema, name in models]
    finally:
        con.close()


def _compare_one(con: duckdb.DuckDBPyConnection, schema: str, name: str, folder: Path) -> Difference:
    duck = f'duck."{schema}"."{name}"'
    spark = f"read_parquet('{folder}/*.parquet')"
    duck_columns = _columns(con, duck)
    spark_columns = _columns(con, spark) if any(folder.glob("*.parquet")) else {}
    duck_rows = con.execute(f"select count(*) from {duck}").fetchone()[0] if duck_columns else 0
    spark_rows = con.execute(f"select count(*) from {spark}").fetchone()[0] if spark_columns else 0
    if not (duck_columns and spark_columns):  # built on one engine only
        return Difference(
            f"{schema}.{name}", duck_rows, spark_rows, duck_rows + spark_rows, tuple(duck_columns), tuple(spark_columns)
        )
    shared = [c for c in duck_columns if c in spark_columns]
    one = f"select {_normalized(duck_columns, shared)} from {duck}"
    two = f"select {_normalized(spark_columns, shared)} from {spark}"
    differing = con.execute(f"select count(*) from (({one} except all {two}) union all ({two} except all {one}))")
    return Difference(
        f"{schema}.{name}",
        duck_rows,
        spark_rows,
        differing.fetchone()[0],
        tuple(c for c in duck_columns if c not in spark_columns),
        tuple(c for c in spark_columns if c not in duck_columns),
    )


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    """Column name -> type, or nothing when the relation does not exist."""
    try:
        described = con.execute(f"describe select * from {relation}").fetchall()
    except duckdb.CatalogException:
        return {}
    return {name: kind.upper() for name, kind, *_ in described}


def _normalized(columns: dict[str, str], shared: list[str]) -> str:
    def one(name: str) -> str:
        kind, quoted = columns[name], f'"{name}"'
        if kind in ("DOUBLE", "FLOAT"):
            return f"round({quoted}, 9) as {quoted}"
        if kind.startswith("TIMESTAMP"):
            return f"epoch_us({quoted}) as {quoted}"
        if kind.startswith("DECIMAL") or kind in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT"):
            return f"cast({quoted} as decimal(38, 9)) as {quoted}"
        return quoted

    return ", ".join(one(name) for name in shared)
