"""The queries in queries/ on Spark, over the Parquet dataset of `python -m carta export-parquet`.

`open_session(dataset)` starts a SparkSession (local mode unless told otherwise) with a temporary
view per table of the dataset; `run_query(spark, name, **params)` runs queries/<name>.sql on it
and returns the rows as DuckDB's `run_query` does. The SQL files stay in DuckDB's dialect:
sqlglot writes each one in Spark's, and the few constructs it does not carry over are rewritten
on its syntax tree here. The $named parameters become Spark's :named markers, which Spark binds as
literals: no value is ever pasted into the SQL text.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from carta.parquet import MARKER, is_dataset, partitioning
from carta.schema import table_columns
from carta.store import StoreError, query_parameters, query_sql

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

LOCAL_MASTER = "local[2]"

# Spark's defaults that would make its answers differ from DuckDB's: a timestamp without a zone
# stays one, read in UTC; ANSI mode (Spark 4's default, whatever a cluster sets) fails where
# DuckDB fails instead of returning NULL.
_SETTINGS = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.ansi.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}

# One machine: few partitions (Spark's 200 by default cost more than the rows they hold), no
# address but loopback, no web UI.
_LOCAL_SETTINGS = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.ui.enabled": "false",
}

# Carta turns Spark's rows into pandas through Arrow itself; pyspark's warning about pandas 3
# concerns its own pandas layer, which Carta does not use.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)


def open_session(
    dataset: str | Path,
    master: str | None = LOCAL_MASTER,
    settings: dict[str, str] | None = None,
    sources: Collection[str] | None = None,
) -> SparkSession:
    """A SparkSession with a temporary view per table of `dataset` (a folder, or a URL that
    Spark reads: hdfs://…, s3a://…). `master` None leaves the master to spark-submit and the
    cluster's configuration; `settings` add to or override Carta's; `sources` limits the patient
    data to those sources, as carta.store.open_scoped does."""
    from pyspark.sql import SparkSession

    if "://" not in str(dataset) and not is_dataset(Path(dataset)):
        raise StoreError(f"{dataset} is not a Carta Parquet store (no {MARKER} in it); write "
                         "one with: python -m carta export-parquet DIR")  # fmt: skip
    builder = SparkSession.builder.appName("carta")
    chosen = dict(_SETTINGS)
    if master:
        builder = builder.master(master)
        if master.startswith("local"):
            chosen.update(_LOCAL_SETTINGS)
    for key, value in {**chosen, **(settings or {})}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    register_views(spark, dataset, sources)
    return spark


# The store's column types (carta/schema.sql) in Spark's names; a TIMESTAMP has no zone.
_SPARK_TYPES = {
    "VARCHAR": "STRING",
    "INTEGER": "INT",
    "BIGINT": "BIGINT",
    "DOUBLE": "DOUBLE",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "TIMESTAMP": "TIMESTAMP_NTZ",
}


def register_views(
    spark: SparkSession, dataset: str | Path, sources: Collection[str] | None = None
) -> None:
    """The tables of the dataset as temporary views, in the store's column order (the source of
    a derived table's partition left out, as DuckDB's views do); with `sources`, the rows of
    patient data of those sources only."""
    root = str(dataset).rstrip("/")
    for table, typed in table_columns().items():
        # The declared schema, not one inferred from the files: no footer is read to open the
        # view, and the partition column is text whatever the source ids look like.
        schema = [f"`{name}` {_SPARK_TYPES[kind]}" for name, kind in typed]
        if partitioning(table) == "patient":
            schema.append("source_id STRING")
        frame = spark.read.schema(", ".join(schema)).parquet(f"{root}/{table}")
        if sources is not None and partitioning(table) is not None:
            frame = frame.where(frame["source_id"].isin(sorted(sources)))
        columns = [frame[name] for name, _ in typed]
        if table == "reported_findings":
            # The order of a source's statements is their order in its file, as in DuckDB.
            columns.append(frame["_metadata.row_index"].alias("rowid"))
        frame.select(*columns).createOrReplaceTempView(table)


def spark_sql(name: str, lists: frozenset[str] = frozenset()) -> str:
    """queries/<name>.sql in Spark's dialect, with :named parameter markers; `lists` names the
    parameters bound to lists."""
    return _transpiled(name, lists)


@cache
def _transpiled(name: str, lists: frozenset[str]) -> str:
    tree = sqlglot.parse_one(query_sql(name), read="duckdb")
    ctes = {cte.alias_or_name for cte in tree.find_all(exp.CTE)}
    tree = (
        tree.transform(_list_length, lists)
        .transform(_zipped_unnest)
        .transform(_recursive_unnest)
        .transform(_unpivot)
        .transform(_round_even)
    )
    tree = tree.transform(_table_star, ctes)
    return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)


def _list_length(node: exp.Expression, lists: frozenset[str]) -> exp.Expression:
    # DuckDB's len() of a list is its size; sqlglot reads len() as a string's length.
    listed = isinstance(node.this, exp.Placeholder) and node.this.name in lists
    return exp.ArraySize(this=node.this) if isinstance(node, exp.Length) and listed else node


# The positions 1…n of a list's elements, and none for an empty list (sequence(1, 0) would give
# two).
_POSITIONS = sqlglot.parse_one("TRANSFORM(list, (element, i) -> i + 1)", read="spark")


def _zipped_unnest(node: exp.Expression) -> exp.Expression:
    """DuckDB unnests the lists of one SELECT side by side (the n-th row holds the n-th element of
    each, generate_subscripts its position); Spark allows one generator a SELECT. So a SELECT of
    nothing but unnests becomes one inline() of the lists zipped."""
    if not isinstance(node, exp.Select) or len(node.expressions) < 2 or node.args.get("from_"):
        return node
    lists = []
    for projection in node.expressions:
        value = projection.unalias()
        if isinstance(value, exp.Explode) and not isinstance(value, exp.Posexplode):
            lists.append(value.this.copy())
        elif isinstance(value, exp.Anonymous) and value.name.lower() == "generate_subscripts":
            listed, dimension = value.expressions
            if dimension.name != "1":
                return node
            positions = _POSITIONS.copy()
            positions.set("this", listed.copy())
            lists.append(positions)
        else:
            return node
        if not isinstance(projection, exp.Alias):
            return node
    names = [exp.to_identifier(projection.alias) for projection in node.expressions]
    zipped = exp.Inline(this=exp.func("arrays_zip", *lists))
    return exp.select(exp.Aliases(this=zipped, expressions=names))


def _recursive_unnest(node: exp.Expression) -> exp.Expression:
    """DuckDB's unnest(list of structs, recursive := true) gives a row per element and a column
    per field; Spark's inline() does the same."""
    if not isinstance(node, exp.Explode) or isinstance(node, exp.Posexplode):
        return node
    recursive = [
        e for e in node.expressions
        if isinstance(e, exp.PropertyEQ) and e.this.name.lower() == "recursive"
    ]  # fmt: skip
    if len(recursive) != 1 or len(node.expressions) != 1:
        return node
    if not isinstance(recursive[0].expression, exp.Boolean) or not recursive[0].expression.this:
        return node
    return exp.Inline(this=node.this.copy())


def _round_even(node: exp.Expression) -> exp.Expression:
    """DuckDB's round_even(x, digits), half to even, is Spark's bround(x, digits)."""
    if isinstance(node, exp.Anonymous) and node.name.lower() == "round_even":
        return exp.Anonymous(this="BROUND", expressions=[e.copy() for e in node.expressions])
    return node


def _unpivot(node: exp.Expression) -> exp.Expression:
    """DuckDB's UNPIVOT statement (UNPIVOT t ON a AS 'x', … INTO NAME n VALUE v) as the UNPIVOT
    clause Spark knows (SELECT * FROM t UNPIVOT (v FOR n IN (a AS `x`, …))); both leave out the
    NULL values."""
    if not (isinstance(node, exp.Pivot) and node.args.get("unpivot") and node.args.get("into")):
        return node
    into = node.args["into"]
    columns = [
        exp.PivotAlias(this=e.this.copy(), alias=e.args["alias"].copy())
        if isinstance(e, exp.Alias)
        else e.copy()
        for e in node.expressions
    ]
    clause = exp.Pivot(
        expressions=[value.this.copy() for value in into.expressions],
        fields=[exp.In(this=into.this.this.copy(), expressions=columns)],
        unpivot=True,
    )
    source = node.this.copy()
    if not isinstance(source, exp.Subquery):
        source = exp.Subquery(this=source)
    source.set("pivots", [clause])
    return exp.select("*").from_(source)


def _table_star(node: exp.Expression, ctes: set[str]) -> exp.Expression:
    """t.* of a store table as its columns, in the table's order: Spark puts the columns of a
    JOIN … USING first, even in t.*."""
    if not isinstance(node, exp.Select):
        return node
    sources = [node.args.get("from_"), *node.args.get("joins", [])]
    tables = {}
    for source in sources:
        table = source.this if source is not None else None
        stored = isinstance(table, exp.Table) and table.name in table_columns()
        if stored and table.name not in ctes:
            tables[table.alias_or_name] = table.name
    projections = []
    for projection in node.expressions:
        if isinstance(projection, exp.Column) and projection.is_star and projection.table in tables:
            columns = table_columns()[tables[projection.table]]
            projections += [exp.column(name, table=projection.table) for name, _ in columns]
        else:
            projections.append(projection)
    return node.select(*projections, append=False)


def run_query(spark: SparkSession, name: str, **params: object) -> pd.DataFrame:
    """Run queries/<name>.sql with its $named parameters on `spark`: the rows as DuckDB's
    .df() gives them (nullable integers and booleans, decimals as floats, dates as datetimes)."""
    wanted = query_parameters(query_sql(name))
    if wanted != set(params):
        raise TypeError(f"query {name!r} takes {sorted(wanted)}, was given {sorted(params)}")
    lists = frozenset(k for k, v in params.items() if isinstance(v, list | tuple))
    frame = spark.sql(spark_sql(name, lists), args={k: _argument(v) for k, v in params.items()})
    # A column of an empty list's elements has no type, which Arrow cannot carry (it has no rows).
    typed = [
        frame[f.name].cast("string").alias(f.name) if f.dataType.typeName() == "void" else f.name
        for f in frame.schema.fields
    ]
    return _pandas(frame.select(*typed).toArrow())


def _argument(value: object) -> object:
    """A parameter as Spark binds it: plain values and lists as literals, a list of records (such
    as the visit windows) as an array of structs of literals."""
    from pyspark.sql import functions as F

    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return F.array(*(F.struct(*(F.lit(v).alias(k) for k, v in r.items())) for r in value))
    return value


_NULLABLE = {
    pa.int8(): pd.Int8Dtype(),
    pa.int16(): pd.Int16Dtype(),
    pa.int32(): pd.Int32Dtype(),
    pa.int64(): pd.Int64Dtype(),
    pa.bool_(): pd.BooleanDtype(),
}


def _pandas(table: pa.Table) -> pd.DataFrame:
    """Spark's decimals (of 100.0 * n / d, say) as DuckDB's frames give them: floats."""
    fields = []
    for field in table.schema:
        kind = field.type
        if pa.types.is_decimal(kind):
            kind = pa.float64()
        elif pa.types.is_timestamp(kind) and kind.tz is not None:
            kind = pa.timestamp(kind.unit)  # the session's zone is UTC: the wall time in UTC
        fields.append(field.with_type(kind))
    table = table.cast(pa.schema(fields))
    return table.to_pandas(types_mapper=_NULLABLE.get, date_as_object=False)
