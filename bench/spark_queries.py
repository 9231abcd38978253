"""Benchmark: the cohort queries on DuckDB (the store file and its Parquet export) and on Spark in
local mode over the same export, every patient of the store chosen.

Spark's first run of a query compiles its plan; the second shows what a repeated query costs.
The rows are counted on each engine; a count that differs stops the benchmark.

    .venv/bin/python -m bench.spark_queries [--patients 1000] [--master local[2]]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

from carta import dictionary, parquet
from carta import spark as carta_spark
from carta.build import build_store
from carta.store import open_read_only, query_names, query_parameters, query_sql, run_query

NO_FILTER = {"indications": [], "diagnoses": [], "autoantibodies": [], "sexes": [],
             "products": [], "sources": [], "age_min": None, "age_max": None,
             "dose_min": None, "dose_max": None}  # fmt: skip


def parameters(name: str, patients: list[str]) -> dict[str, object]:
    windows = [
        {"name": w.name, "nominal_day": int(w.nominal_day), "day_from": int(w.day_from),
         "day_to": int(w.day_to)}
        for w in dictionary.timepoints().sort_values("sort").itertuples()
    ]  # fmt: skip
    every = {"patients": patients, "codes": ["CK", "ANC", "CD19"], "windows": windows, **NO_FILTER}
    return {p: every[p] for p in query_parameters(query_sql(name))}


def timed(run) -> tuple[float, int]:
    started = time.perf_counter()
    rows = len(run())
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1_000)
    parser.add_argument("--master", default=carta_spark.LOCAL_MASTER)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = build_store(Path(folder) / "carta.duckdb", n_patients=args.patients).path
        dataset = Path(folder) / "parquet"
        source = open_read_only(store)
        parquet.export(source, dataset)
        source.close()
        duck, duck_pq = open_read_only(store), open_read_only(dataset)
        patients = run_query(duck, "patient_ids", search="", max_rows=10**9)["patient_id"].tolist()
        started = time.perf_counter()
        settings = {"spark.log.level": "ERROR", "spark.sql.warehouse.dir": f"{folder}/warehouse"}
        spark = carta_spark.open_session(dataset, master=args.master, settings=settings)
        print(f"{len(patients):,} patients; Spark session and views: "
              f"{time.perf_counter() - started:.1f} s\n")  # fmt: skip
        print("| query | rows | DuckDB file (s) | DuckDB Parquet (s) | Spark first (s) | "
              "Spark again (s) |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|")
        totals = [0.0] * 4
        for name in [n for n in query_names() if n.startswith("cohort_")]:
            params = parameters(name, patients)
            engines = [(run_query, duck), (run_query, duck_pq)] + [
                (carta_spark.run_query, spark)
            ] * 2
            runs = [timed(partial(run, con, name, **params)) for run, con in engines]
            counts = {rows for _, rows in runs}
            assert len(counts) == 1, f"{name}: the engines disagree on the rows ({counts})"
            totals = [t + s for t, (s, _) in zip(totals, runs, strict=True)]
            print(f"| {name} | {runs[0][1]:,} | " + " | ".join(f"{s:.2f}" for s, _ in runs) + " |")
        print("| all | | " + " | ".join(f"{t:.2f}" for t in totals) + " |")
        spark.stop()
        duck.close()
        duck_pq.close()


if __name__ == "__main__":
    main()
