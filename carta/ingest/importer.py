"""Import a centre's files into a new store version: the same reader as the default store, the
checks of validate.py, a quarantine file for what was refused, and one atomic publish.

Importing a file whose bytes were imported before changes nothing (the `imports` table keeps each
file's SHA-256). A new version is a copy of the published one plus the accepted rows, with the
derived tables computed again; the previous version stays in the versions folder, so an import
is undone by pointing the store back at it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from carta import dictionary
from carta.derive import derive_tables, record_quality_history
from carta.exports import csv_text
from carta.ingest import personal, redcap, wide_sheet
from carta.ingest.carta_format import (
    SUFFIXES,
    Problem,
    read_table_csv,
    refuses_file,
    sha256_of,
    stage_table_file,
)
from carta.ingest.cdisc import datasets as cdisc_datasets
from carta.ingest.cdisc import reader as cdisc_reader
from carta.ingest.checking import CheckingDatabase, arrow_frame
from carta.ingest.observation_checks import check_observations, patients_of_file
from carta.ingest.reading import UnreadableFile, header, rows_at
from carta.ingest.validate import StoreFacts, check
from carta.schema import (
    DATA_TABLES,
    HISTORY_TABLES,
    REFERENCE_TABLES,
    columns,
    create_tables,
    required_columns,
)
from carta.store import (
    Progress,
    StoreError,
    insert_frame,
    open_read_only,
    prune_versions,
    publish,
    real_path,
    run_query,
    store_path,
    versions_dir,
    write_version,
    writer_lock,
)

NOT_RECOGNISED = (
    "not a file Carta reads. Carta reads: its own format (CSV or .xlsx named after its table or "
    f"with its columns, {', '.join(f'{t}.csv' for t in DATA_TABLES)}); a wide lab sheet "
    "(columns patient_id, day or date, one column per test); SDTM and ADaM datasets as SAS "
    "transport (.xpt), Dataset-JSON (.json, .ndjson) or CSV (DM, EX, EC, CM, AE, LB, VS, QS, FT, "
    "RS, SUPP--, ADSL, BDS such as ADLB, ADAE), one by one or as a folder; and REDCap records "
    "exports (docs/import-format.md)"
)


@dataclass
class FileReport:
    file: Path
    table: str | None
    status: str  # imported | already imported | refused | checked (dry run)
    accepted: int = 0
    rejected: int = 0
    problems: list[Problem] = field(default_factory=list)
    quarantine: Path | None = None
    # The accepted rows, before publishing: a frame indexed by line, or the Arrow rows of the SQL
    # checks (with a `line` column), inserted as they are and made a frame only if asked for.
    accepted_rows: pd.DataFrame | pa.Table | None = None
    sha256: str = ""
    # The refused records as read (SDTM/ADaM, REDCap), without dates, for the quarantine file;
    # None: the quarantine file is made by reading the CSV again.
    refused_records: pd.DataFrame | None = None

    @property
    def rows(self) -> pd.DataFrame | None:
        """The accepted rows as a frame indexed by their line in the file."""
        if isinstance(self.accepted_rows, pa.Table):
            self.accepted_rows = arrow_frame(self.accepted_rows)
        return self.accepted_rows

    @rows.setter
    def rows(self, rows: pd.DataFrame | None) -> None:
        self.accepted_rows = rows


@dataclass
class ImportResult:
    files: list[FileReport]
    version: int | None = None  # the published store version, None when nothing was published
    notes: list[str] = field(default_factory=list)  # e.g. how day 0 was found in a package

    @property
    def accepted(self) -> int:
        return sum(f.accepted for f in self.files)


def import_files(
    paths: list[Path],
    store: Path | None = None,
    *,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    progress: Progress | None = None,
    day0_treatment: str | None = None,
    source: str | None = None,
    writable: frozenset[str] | None = None,
) -> ImportResult:
    """Check `paths` and publish their accepted rows; `mapping` adds names for parameters;
    `source` is the source of files without a source_id column; rows of a source outside
    `writable` (the importing person's sources; None for all) are refused.

    A folder, and every SDTM or ADaM dataset among `paths`, is read as one package
    (carta/ingest/cdisc): day 0 from the CAR T infusion (`day0_treatment` names its EXTRT)."""
    path = Path(store) if store else store_path()
    con = open_read_only(path)
    try:
        seen = set(run_query(con, "import_history")["sha256"])
        patients = run_query(con, "patient_follow_up")
        sources = set(run_query(con, "source_ids")["source_id"])
        schedules = run_query(con, "visit_schedule_rows")
    finally:
        con.close()
    facts = StoreFacts(
        patients=dict(zip(patients["patient_id"], patients["follow_up_days"], strict=True)),
        sources=sources,
        parameters=dictionary.parameters().set_index("code"),
        codes=dictionary.code_lookup(mapping),
        source=source,
        writable=writable,
        schedules=schedules,
    )
    in_store = set(facts.patients), set(sources)
    reports = []
    notes: list[str] = []
    package = [Path(p) for p in paths if _is_cdisc(Path(p))]
    paths = [Path(p) for p in paths if Path(p) not in package]
    # Carta-format sources and patients first: a package's datasets may cite them.
    tables = {p: own_table(p, source) for p in paths}
    first = [p for p in paths if tables[p] in ("sources", "patients")]
    for file in sorted(first, key=lambda p: tables[p] != "sources"):
        reports.append(_check_file(file, facts, seen, in_store, path, lambda _: None))
    paths = [p for p in paths if p not in first]
    if package:
        try:
            readings, notes = cdisc_reader.read_package(package, day0_treatment)
        except UnreadableFile as error:
            readings = []
            reports.append(FileReport(package[0], None, "refused", problems=[
                Problem(package[0].name, None, None, None, str(error))]))  # fmt: skip
        for reading in readings:
            reports += _check_reading(reading, facts, seen, in_store, path)
    for file in [p for p in paths if redcap.is_redcap_export(p)]:  # REDCap records exports
        paths.remove(file)
        reports += _check_reading(redcap.reading(file, mapping), facts, seen, in_store, path)
    order = {table: i for i, table in enumerate(DATA_TABLES)}
    steps = len(paths) + 1  # each file, then writing the new version
    for number, file in enumerate(sorted(paths, key=lambda p: order.get(tables.get(p), 99))):

        def done(fraction: float, number=number, name=Path(file).name) -> None:
            if progress:
                progress((number + fraction) / steps, f"checking {name}")

        done(0.0)
        reports.append(_check_file(Path(file), facts, seen, in_store, path, done))
    result = ImportResult(reports, notes=notes)
    if dry_run or not any(r.status == "imported" and r.accepted for r in reports):
        for report in reports:
            report.status = "checked" if dry_run and report.status == "imported" else report.status
            if not dry_run:  # nothing was published: the refused rows are written all the same
                report.quarantine = _quarantine(report, path, None)
        return result
    if progress:
        progress(len(paths) / steps, "writing the new store version")
    # One writer at a time: the new version is the published one, as it is now (another import
    # may have published meanwhile), plus this import's rows, so that no import's rows are lost.
    waiting = (lambda text: progress(len(paths) / steps, text)) if progress else None
    with writer_lock(path, waiting=waiting):
        version_file, version = write_version(path, lambda con, v: _fill(con, v, path, reports))
        publish(path, version_file)
        prune_versions(path)
    result.version = version
    for report in reports:
        report.quarantine = _quarantine(report, path, version)
    if progress:
        progress(1.0, f"published version {version}")
    return result


def _check_file(
    file: Path,
    facts: StoreFacts,
    seen: set[str],
    in_store: tuple[set[str], set[str]],
    store: Path,
    done: Callable[[float], None],
) -> FileReport:
    try:
        return _check_readable_file(file, facts, seen, in_store, store, done)
    except UnreadableFile as error:
        return FileReport(
            file, None, "refused", problems=[Problem(file.name, None, None, None, str(error))]
        )


def own_table(file: Path, source: str | None = None) -> str | None:
    """The table of a file in Carta's own format: the one it is named after, else the one whose
    columns it has, whatever its name (every column the table requires, and no other column but
    personal ones, which are refused as in a file named after its table); None for a file of
    another format."""
    if file.suffix.lower() not in SUFFIXES:
        return None
    if file.stem in DATA_TABLES:
        return file.stem
    try:
        found = set(header(file))
    except (UnreadableFile, OSError, ValueError):
        return None  # said when the file is read
    given = {"source_id"} if source else set()
    matches = [
        table for table in DATA_TABLES
        if required_columns(table) - given <= found
        and all(personal.is_personal(c) for c in found - set(columns(table)))
    ]  # fmt: skip
    return matches[0] if len(matches) == 1 else None


def _check_readable_file(file, facts, seen, in_store, store, done) -> FileReport:
    table = own_table(file, facts.source)
    own_format = table is not None
    reader = None if own_format else _other_format(file, facts)
    if not own_format and reader is None:
        reason = NOT_RECOGNISED
        return FileReport(
            file, None, "refused", problems=[Problem(file.name, None, None, None, reason)]
        )
    sha = sha256_of(file)
    if sha in seen:
        return FileReport(file, None, "already imported", sha256=sha)
    if table == "observations":
        return _check_observations_file(file, facts, store, done, sha)
    table_file = (
        read_table_csv(file, table, done, facts.source)
        if own_format
        else reader(file, facts.codes, facts.source)
    )
    if table_file.table == "observations" and not table_file.rows.empty:
        facts = replace(facts, observation_keys=_stored_keys(store, table_file.rows))
    if own_format:
        rows, found = check(table_file, facts)
    else:
        # A line of a wide sheet holds several tests: check the rows under a running index,
        # then report each problem at its line in the file.
        long = table_file.rows.reset_index(drop=True)
        table_file.rows = long
        rows, found = check(table_file, facts)
        found = [replace(p, row=int(long.at[p.row, "line"])) if p.row is not None else p
                 for p in found]  # fmt: skip
    problems = table_file.problems + found
    rows, problems = _new_ids_only(table_file.table, rows, problems, in_store, file.name)
    if table_file.table == "patients":
        facts.patients.update(zip(rows["patient_id"], rows["follow_up_days"], strict=True))
    if table_file.table == "sources":
        facts.sources.update(rows["source_id"])
    refused_lines = {p.row for p in problems if p.row is not None and not p.is_warning}
    refused_file = any(p.row is None and p.reason.startswith("missing columns") for p in problems)
    return FileReport(
        file,
        table_file.table,
        "refused" if refused_file else "imported",
        accepted=len(rows),
        rejected=len(refused_lines),
        problems=problems,
        accepted_rows=rows,
        sha256=sha,
    )


def _check_observations_file(file, facts, store, done, sha) -> FileReport:
    """An observations file in Carta's format, read into DuckDB and checked there: its accepted
    rows stay Arrow until they are inserted into the new version."""
    with CheckingDatabase() as db:
        table_file = stage_table_file(db, file, "observations", done, facts.source)
        if refuses_file(table_file):
            return FileReport(file, "observations", "refused", problems=table_file.problems,
                              accepted_rows=table_file.rows, sha256=sha)  # fmt: skip
        stored = _stored_key_rows(store, patients_of_file(db))
        accepted, found = check_observations(db, facts, stored, file.name)
    problems = table_file.problems + found
    refused_lines = {p.row for p in problems if p.row is not None and not p.is_warning}
    return FileReport(file, "observations", "imported", accepted=accepted.num_rows,
                      rejected=len(refused_lines), problems=problems, accepted_rows=accepted,
                      sha256=sha)  # fmt: skip


def _is_cdisc(path: Path) -> bool:
    """A folder (a package) or a file whose content is an SDTM or ADaM dataset."""
    if path.is_dir():
        return True
    try:
        return cdisc_datasets.recognise(path) is not None
    except UnreadableFile:
        return path.suffix.lower() in (".xpt", ".json", ".ndjson")


def _check_reading(reading, facts: StoreFacts, seen, in_store, store: Path) -> list[FileReport]:
    """The reports of one dataset of a package: a report per table its records went to."""
    file = reading.path
    sha = sha256_of(file)
    if sha in seen:
        return [FileReport(file, None, "already imported", sha256=sha)]
    if not reading.tables:
        status = "merged" if reading.merged else "refused"
        refused = {p.row for p in reading.problems if p.row is not None and not p.is_warning}
        rejected = (
            reading.records - reading.merged if reading.merged or not refused else len(refused)
        )
        return [
            FileReport(
                file,
                f"{reading.name} (merged)" if reading.merged else None,
                status,
                accepted=reading.merged,
                rejected=rejected,
                problems=reading.problems,
                sha256=sha,
                refused_records=_refused_records(reading, refused),
            )
        ]
    reports = []
    # A table none of whose records went to it (no other tests in an LB dataset) gets no row.
    tables = [t for t in reading.tables if not t.rows.empty or t.problems] or reading.tables[:1]
    for table_file in tables:
        rows = table_file.rows.reset_index(drop=True)
        table_file.rows = rows
        if table_file.table == "observations" and not rows.empty:
            facts = replace(facts, observation_keys=_stored_keys(store, rows))
        accepted, found = check(table_file, facts) if not rows.empty else (rows, [])
        found = [replace(p, row=int(rows.at[p.row, "line"])) if p.row is not None else p
                 for p in found]  # fmt: skip
        problems = table_file.problems + found
        accepted, problems = _new_ids_only(table_file.table, accepted, problems, in_store,
                                           file.name)  # fmt: skip
        if table_file.table == "patients":
            facts.patients.update(
                zip(accepted["patient_id"], accepted["follow_up_days"], strict=True)
            )
        if table_file.table == "sources":
            facts.sources.update(accepted["source_id"])
        refused = {p.row for p in problems if p.row is not None and not p.is_warning}
        reports.append(FileReport(
            file, table_file.table, "imported", accepted=len(accepted), rejected=len(refused),
            problems=problems, accepted_rows=accepted.drop(columns="line", errors="ignore"),
            sha256=sha,
            refused_records=_refused_records(reading, refused),
        ))  # fmt: skip
    return reports


def _refused_records(reading, lines: set) -> pd.DataFrame | None:
    if reading.frame is None or not lines:
        return None
    first = getattr(reading, "first_line", 1)
    chosen = sorted(line for line in lines if first <= line < first + len(reading.frame))
    refused = reading.frame.iloc[[line - first for line in chosen]].set_axis(chosen)
    return cdisc_reader.writable(refused)  # the refused records only: a few of a million


def _other_format(file: Path, facts: StoreFacts):
    """The reader for a file that is not named after a table, or None."""
    if file.suffix.lower() not in SUFFIXES:
        return None
    if wide_sheet.is_wide_sheet(file, facts.codes):
        return wide_sheet.read_wide_sheet
    return None


def _stored_keys(store: Path, rows: pd.DataFrame) -> frozenset[tuple]:
    patients = sorted(rows["patient_id"].dropna().unique())
    return frozenset(_stored_key_rows(store, patients).itertuples(index=False, name=None))


def _stored_key_rows(store: Path, patients: list[str]) -> pd.DataFrame:
    """The store's (patient_id, day, code, specimen) of these patients' observations."""
    con = open_read_only(store)
    try:
        return run_query(con, "observation_keys", patients=patients)
    finally:
        con.close()


def _new_ids_only(table, rows, problems, in_store, file_name):
    """Patients and sources are added, never overwritten: an id already used is refused."""
    column = {"patients": "patient_id", "sources": "source_id"}.get(table)
    if column is None:
        return rows, problems
    existing = in_store[0] if table == "patients" else in_store[1]
    taken = rows[column].isin(existing) | rows[column].duplicated(keep="first")
    problems = problems + [
        Problem(file_name, int(line), column, rows.at[line, column],
                f"{column} is already in the store or earlier in this file")
        for line in taken[taken].index
    ]  # fmt: skip
    return rows[~taken], problems


def _fill(con: duckdb.DuckDBPyConnection, version: int, path: Path, reports) -> dict[str, str]:
    """The published version's rows, the accepted rows, the import records, derived tables."""
    create_tables(con)
    con.execute("ATTACH ? AS published (READ_ONLY)", [str(real_path(path))])
    for table in (*REFERENCE_TABLES, *DATA_TABLES, *HISTORY_TABLES):
        con.execute(f"INSERT INTO {table} SELECT * FROM published.{table}")  # schema names
    meta = dict(con.execute("SELECT key, value FROM published.store_meta").fetchall())
    next_id = con.execute("SELECT coalesce(max(import_id), 0) + 1 FROM imports").fetchall()[0][0]
    con.execute("DETACH published")
    digest = hashlib.sha256(meta.get("fingerprint", "").encode())
    for report in reports:
        if report.status != "imported" or not report.accepted:
            continue
        insert_frame(con, report.table, report.accepted_rows)  # a frame or Arrow
        con.execute(
            "INSERT INTO imports VALUES ($id, now(), $name, $sha, $accepted, $rejected, $version)",
            {"id": next_id, "name": report.file.name, "sha": report.sha256,
             "accepted": report.accepted, "rejected": report.rejected, "version": version},
        )  # fmt: skip
        next_id += 1
        digest.update(report.sha256.encode())
    problems = run_query(con, "integrity_problems")
    if len(problems):
        lines = "; ".join(f"{r.problem}: {r.n}" for r in problems.itertuples())
        raise StoreError(
            f"The import would leave the store inconsistent ({lines}); nothing changed."
        )
    settings = derive_tables(con)
    record_quality_history(con, version)
    kept = {
        k: v for k, v in meta.items() if k not in ("schema_version", "store_version", "built_at")
    }
    return (
        kept
        | settings
        | {
            "imported": "yes",
            "fingerprint": f"imported:{digest.hexdigest()}",
            "data_cut": dt.date.today().isoformat(),
        }
    )


def report_table(result: ImportResult) -> pd.DataFrame:
    """The import report as a table: a row per file and table with its counts, then a row per
    problem (line, column, reason; never the value, which may be a date)."""
    # The package's notes first: how day 0 was found, partial dates, forms read and skipped.
    rows = [{"file": "", "table": "", "status": "note", "accepted": None, "refused": None,
             "line": None, "column": None, "reason": note} for note in result.notes]  # fmt: skip
    for report in result.files:
        base = {"file": report.file.name, "table": report.table or "", "status": report.status}
        rows.append(base | {"accepted": report.accepted, "refused": report.rejected,
                            "line": None, "column": None, "reason": None})  # fmt: skip
        rows += [
            base | {"accepted": None, "refused": None, "line": p.row, "column": p.column,
                    "reason": p.reason}
            for p in report.problems
        ]  # fmt: skip
    table = pd.DataFrame(rows, columns=["file", "table", "status", "accepted", "refused", "line",
                                        "column", "reason"])  # fmt: skip
    return table.astype({"accepted": "Int64", "refused": "Int64", "line": "Int64"})


def _quarantine(report: FileReport, path: Path, version: int | None) -> Path | None:
    """The refused rows of a file, as they were written, with their reasons (read again a batch
    at a time, keeping only the refused lines; a dataset's records as read, without dates)."""
    refused = [p for p in report.problems if p.row is not None and not p.is_warning]
    if not refused:
        return None
    reasons: dict[int, list[str]] = {}
    for p in refused:
        reasons.setdefault(p.row, []).append(f"{p.column}: {p.reason}" if p.column else p.reason)
    if report.refused_records is not None:
        out = report.refused_records[report.refused_records.index.isin(reasons)]
    else:
        # A row of the wrong width is in no batch: its line and reason are kept, not its text,
        # which could hold anything (a name, a date).
        unparsed = [p.row for p in refused if p.column is None]
        unparsed_lines = pd.DataFrame(index=pd.Index(sorted(unparsed), dtype="int64"))
        out = pd.concat([rows_at(report.file, set(reasons)), unparsed_lines])
    # Never a personal column or a date, whatever the reader (carta/ingest/personal.py).
    out = personal.for_quarantine(out.sort_index())
    lines = out.index.tolist()
    out.insert(0, "reason", ["; ".join(reasons[line]) for line in lines])
    out.insert(0, "line", lines)
    folder = versions_dir(path).parent / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    table = f"-{report.table.split()[0]}" if report.table else ""
    stamp = f"v{version:04d}" if version is not None else "not-imported"
    target = folder / f"{stamp}-{report.file.stem}{table}-{report.sha256[:8] or 'file'}.csv"
    target.write_text(csv_text(out), encoding="utf-8")  # formula cells neutralised
    return target


def read_mapping(path: Path) -> dict[str, str]:
    """A mapping file: CSV with columns `name` and `code`, one other name for a parameter a row."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"name", "code"} <= set(frame.columns):
        raise StoreError(f"{path.name}: a mapping file has the columns name and code")
    known = set(dictionary.parameters()["code"])
    unknown = sorted(set(frame["code"]) - known)
    if unknown:
        raise StoreError(f"{path.name}: unknown parameter codes {', '.join(unknown)}")
    return dict(zip(frame["name"], frame["code"], strict=True))
