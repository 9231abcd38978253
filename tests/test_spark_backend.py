"""The query files on Spark (carta/spark.py): each gives the rows DuckDB gives on the store, in
the order the query sets, read by a local SparkSession from the store's Parquet export; source ids
stay text; parameters are bound, never pasted into the SQL."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from carta import spark as carta_spark
from carta.build import build_store
from carta.store import open_read_only, open_scoped, query_parameters, query_sql
from tests.backends import (
    duckdb_rows,
    export_parquet,
    in_fixed_order,
    parameter_sets,
    same,
    same_order,
)
from tests.conftest import PUBLISHED_ID
from tests.test_queries import store_query_names

# Queries that do not run on Spark, with the reason (none at present).
NOT_ON_SPARK: dict[str, str] = {}

# Queries that give no row on the test store with any parameter set, so that Spark is compared
# with DuckDB on their columns only; each is checked to be still empty, so the list stays true.
NO_ROWS = {
    "integrity_problems": "a store as built has no integrity problem",
    "patient_other_observations": "other observations come from site imports only",
    "visit_schedule_rows": "a source's own schedule comes from site imports only",
}

LUPUS_PATIENT = "SYN-SLE-0001"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """JDM patients and the published case, and lupus and systemic sclerosis patients, whose
    remission and serology tables are not empty."""
    path = tmp_path_factory.mktemp("spark-store") / "carta.duckdb"
    build_store(path, n_patients=4, other_indications=3)
    return path


@pytest.fixture(scope="module")
def duck(store: Path):
    con = open_read_only(store)
    yield con
    con.close()


@pytest.fixture(scope="module")
def dataset(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return export_parquet(store, tmp_path_factory.mktemp("spark-parquet") / "store")


@pytest.fixture(scope="module")
def spark(dataset: Path, tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        message = "Spark needs Java: ./test.sh installs Debian's openjdk-17-jre-headless"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    work = tmp_path_factory.mktemp("spark")
    started = time.perf_counter()
    # A JVM of two minutes on two shared cores: the quick compiler only and the serial collector
    # take a third less CPU than the defaults (measured: 150 -> 90 CPU seconds for this file).
    java = f"-Djava.io.tmpdir={work} -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
    session = carta_spark.open_session(dataset, master="local[2]", settings={
        "spark.local.dir": str(work / "local"),
        "spark.sql.warehouse.dir": str(work / "warehouse"),
        "spark.driver.extraJavaOptions": java,
        "spark.log.level": "ERROR",
    })  # fmt: skip
    print(f"Spark session and views in {time.perf_counter() - started:.1f} s")
    yield session
    session.stop()


def spark_parameter_sets(name: str, patients: list[str]) -> list[dict[str, object]]:
    """tests/test_queries.py's parameter sets, the first taking every patient of the store and
    ranges that some values fall outside; for a query of one patient, a lupus patient besides."""
    sets = parameter_sets(name)
    wanted = query_parameters(query_sql(name))
    ranges = {"codes": ["CK", "ANC"], "lows": [0.0, 0.5], "highs": [100.0, 3.0]}
    sets[0].update({k: v for k, v in {"patients": patients, **ranges}.items() if k in wanted})
    if "patient_id" in wanted:
        sets.append({**sets[0], "patient_id": LUPUS_PATIENT})
    return sets


def patients_of(con) -> list[str]:
    return [row[0] for row in con.execute("SELECT patient_id FROM patients").fetchall()]


@pytest.mark.parametrize("name", [n for n in store_query_names() if n not in NOT_ON_SPARK])
def test_the_query_gives_duckdbs_rows_on_spark(name, duck, spark) -> None:
    found_rows = 0
    for params in spark_parameter_sets(name, patients_of(duck)):
        expected = duckdb_rows(duck, name, params)
        found = carta_spark.run_query(spark, name, **params)
        same(in_fixed_order(expected), in_fixed_order(found), name)
        same_order(expected, found, name)
        found_rows += len(found)
    assert (found_rows == 0) == (name in NO_ROWS), f"{name}: {found_rows} rows"


def test_a_source_id_that_looks_like_a_number_stays_text(dataset, spark, tmp_path) -> None:
    """A site dropped in as partitions named source_id=0042 is read, its id as text."""
    registry = tmp_path / "registry"
    shutil.copytree(dataset, registry)
    for table in ("sources", "patients", "observations"):
        site = registry / table / "source_id=0042"
        shutil.copytree(registry / table / "source_id=synthetic", site)
    before = carta_spark.run_query(spark, "store_summary").set_index("source_kind")
    try:
        carta_spark.register_views(spark, registry)
        sources = carta_spark.run_query(spark, "source_ids")["source_id"].tolist()
        after = carta_spark.run_query(spark, "store_summary").set_index("source_kind")
    finally:
        carta_spark.register_views(spark, dataset)
    assert sources == ["0042", "nicolai2024", "synthetic"]
    assert after.loc["synthetic", "observations"] == 2 * before.loc["synthetic", "observations"]
    assert after.loc["published", "observations"] == before.loc["published", "observations"]


@pytest.mark.parametrize(
    "name", ["patient_ids", "store_summary", "patient_profile", "cohort_observations"]
)
def test_read_over_one_source_spark_sees_what_duckdb_sees(name, store, dataset, duck, spark):
    """Every patient asked for, the published case included: only the synthetic source's rows."""
    scoped = open_scoped(store, frozenset({"synthetic"}))
    shown = []
    try:
        carta_spark.register_views(spark, dataset, sources={"synthetic"})
        for params in spark_parameter_sets(name, patients_of(duck)):
            expected = duckdb_rows(scoped, name, params)
            shown.append(carta_spark.run_query(spark, name, **params))
            same(in_fixed_order(expected), in_fixed_order(shown[-1]), name)
    finally:
        scoped.close()
        carta_spark.register_views(spark, dataset)
    assert any(len(frame) for frame in shown)
    assert not any(PUBLISHED_ID in frame.to_string() for frame in shown)


def test_parameters_are_bound_not_pasted(spark) -> None:
    text = carta_spark.spark_sql("patient_profile")
    assert ":patient_id" in text and "$" not in text
    hostile = f"{PUBLISHED_ID}' OR '1' = '1"
    assert carta_spark.run_query(spark, "patient_profile", patient_id=hostile).empty
    assert len(carta_spark.run_query(spark, "patient_profile", patient_id=PUBLISHED_ID)) == 1
    # No filter set: every patient; a hostile element of a list matches no source.
    wanted = query_parameters(query_sql("cohort_patients"))
    filters = {p: None if p.endswith(("_min", "_max")) else [] for p in wanted}
    assert len(carta_spark.run_query(spark, "cohort_patients", **filters)) == 8
    filters["sources"] = ["nicolai2024') OR (1 = 1"]
    assert carta_spark.run_query(spark, "cohort_patients", **filters).empty


def test_a_query_is_given_exactly_its_parameters(spark) -> None:
    with pytest.raises(TypeError, match="takes \\['patient_id'\\]"):
        carta_spark.run_query(spark, "patient_profile")
    with pytest.raises(TypeError, match="was given \\['patient_id', 'sql'\\]"):
        carta_spark.run_query(spark, "patient_profile", patient_id=PUBLISHED_ID, sql="1")
