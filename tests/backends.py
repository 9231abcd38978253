"""Comparing what two backends answer to the same query file: the DuckDB store, its Parquet
export read by DuckDB (tests/test_parquet_store.py) and the same export on Spark
(tests/test_spark_backend.py)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlglot
from sqlglot import exp

from carta.cli import main
from carta.store import query_sql
from tests.test_queries import parameter_sets


def export_parquet(store: Path, out: Path) -> Path:
    """`store` written as a Parquet dataset at `out`, through the command line."""
    assert main(["export-parquet", str(out), "--store", str(store)]) == 0
    return out


def duckdb_rows(con, name: str, params: dict) -> pd.DataFrame:
    """The rows of queries/<name>.sql on a DuckDB connection, in the query's order."""
    cursor = con.cursor()
    try:
        return cursor.execute(query_sql(name), params).df()
    finally:
        cursor.close()


def in_fixed_order(frame: pd.DataFrame) -> pd.DataFrame:
    # Ties in an ORDER BY may come in either order: compare as sets of rows, in a fixed order.
    return frame.sort_values(list(frame.columns), ignore_index=True, na_position="first",
                             key=lambda c: c.astype(str))  # fmt: skip


def rows(con, name: str, params: dict) -> pd.DataFrame:
    return in_fixed_order(duckdb_rows(con, name, params))


def _missing_as_none(frame: pd.DataFrame) -> pd.DataFrame:
    """A missing value compared as missing, whichever of None, NaN or NA a backend gives for it
    (an all-NULL text column is None in DuckDB's frame, NaN in Arrow's); floats stay floats, to
    be compared within a tolerance."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_float_dtype(out[column]):
            values = out[column].astype(object)
            out[column] = values.where(values.notna(), None)
    return out


def same(left: pd.DataFrame, right: pd.DataFrame, name: str) -> None:
    assert list(left.columns) == list(right.columns), name
    pd.testing.assert_frame_equal(
        _missing_as_none(left), _missing_as_none(right), check_dtype=False, obj=name
    )


def order_columns(name: str) -> list[str]:
    """The output columns that lead the ORDER BY of queries/<name>.sql (up to the first key that
    is not an output column): the rows of two backends must come in the same order of these."""
    tree = sqlglot.parse_one(query_sql(name), read="duckdb")
    order = tree.args.get("order")
    if order is None:
        return []
    outputs = {p.alias_or_name: p for p in tree.selects}
    keys = []
    for ordered in order.expressions:
        key = ordered.this
        chosen = outputs.get(key.name) if isinstance(key, exp.Column) else None
        # An output column of that name, and the same column (ORDER BY o.day with o.day AS day).
        if chosen is None or not (key.table == "" or chosen.unalias() == key):
            break
        keys.append(key.name)
    return keys


def same_order(left: pd.DataFrame, right: pd.DataFrame, name: str) -> None:
    keys = order_columns(name)
    if keys:
        same(left[keys].reset_index(drop=True), right[keys].reset_index(drop=True), name)


def agree(name: str, duck, pq) -> None:
    try:
        for params in parameter_sets(name):
            same(rows(duck, name, params), rows(pq, name, params), name)
    finally:
        duck.close()
        pq.close()
