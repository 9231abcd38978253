"""Command line: `python -m carta build|import|versions|audit|info|quality|export-parquet`.

Errors are one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from carta import __version__, audit, synth, synth_indications
from carta.store import (
    StoreError,
    kept_versions,
    open_read_only,
    run_query,
    store_info,
    store_path,
    use_version,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m carta",
        description="Carta: outcomes dashboard for CD19 CAR T-cell therapy in autoimmune disease.",
    )
    parser.add_argument("--version", action="version", version=f"carta {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    build = commands.add_parser(
        "build",
        help="build the store from the published case and a synthetic demo cohort",
        description="Build a new store version and publish it atomically. Does nothing when the "
        "published store already has exactly this content (use --force to rebuild anyway).",
    )
    build.add_argument(
        "--patients",
        type=int,
        default=synth.DEFAULT_PATIENTS,
        metavar="N",
        help=f"synthetic JDM patients (default {synth.DEFAULT_PATIENTS}; 0 for none)",
    )
    build.add_argument(
        "--other-indications",
        type=int,
        default=None,
        metavar="N",
        help="synthetic lupus, systemic sclerosis and adult myositis patients, in the mix of the "
        f"published series (default {synth_indications.DEFAULT_PATIENTS} with the default "
        "--patients, else 0)",
    )
    build.add_argument(
        "--seed",
        type=int,
        default=synth.DEFAULT_SEED,
        metavar="S",
        help=f"seed of the synthetic cohort (default {synth.DEFAULT_SEED})",
    )
    build.add_argument(
        "--store",
        type=Path,
        metavar="PATH",
        help="store path (default: $CARTA_STORE or data/store/carta.duckdb)",
    )
    build.add_argument(
        "--no-published", action="store_true", help="leave out the published case from data/seed/"
    )
    build.add_argument("--force", action="store_true", help="build even if nothing changed")

    export = commands.add_parser(
        "export-parquet",
        help="write the published store as a Parquet dataset, partitioned by source",
        description="Every table of the published version under DIR/<table>/, the tables of "
        "patient data hive-partitioned by source (source_id=...); CARTA_STORE=DIR then serves it "
        "read-only with the same queries (docs/architecture.md).",
    )
    export.add_argument("dir", type=Path, metavar="DIR")
    export.add_argument("--store", type=Path, metavar="PATH")
    export.add_argument("--replace", action="store_true", help="write over a DIR that has files")

    info = commands.add_parser("info", help="show what the store holds")
    info.add_argument("--store", type=Path, metavar="PATH")

    quality = commands.add_parser(
        "quality",
        help="print the data-quality findings of the published store version",
        description="The findings of the data-quality checks run at the last publish "
        '(conformance, completeness, plausibility; docs/rules.md, "Data quality"), each with '
        "the patient, visit, parameter and day behind it.",
    )
    quality.add_argument("--store", type=Path, metavar="PATH")
    quality.add_argument("--format", choices=["table", "csv"], default="table",
                         help="a summary and the findings as text (default), or every finding "
                         "as CSV")  # fmt: skip
    quality.add_argument("--history", action="store_true",
                         help="the findings of every published version instead, counted per "
                         "source and check: the trend across releases")  # fmt: skip

    versions = commands.add_parser(
        "versions", help="list the kept store versions, or publish one again (undo an import)"
    )
    versions.add_argument("--store", type=Path, metavar="PATH")
    versions.add_argument("--use", type=int, metavar="N", help="publish version N again")

    imports = commands.add_parser(
        "import",
        help="import a centre's files (Carta's format, wide lab sheets, SDTM/ADaM packages, "
        "REDCap exports) into a new store version",
        description="Check every row, publish the accepted ones as a new store version in one "
        "atomic step, and write the refused rows with their reasons to a quarantine file. "
        "Files already imported are skipped. See docs/import-format.md.",
    )
    imports.add_argument("files", type=Path, nargs="+", metavar="FILE",
                         help="files, or a folder holding an SDTM or ADaM package")  # fmt: skip
    imports.add_argument("--store", type=Path, metavar="PATH")
    imports.add_argument("--dry-run", action="store_true", help="check and report; change nothing")
    imports.add_argument("--mapping", type=Path, metavar="FILE",
                         help="CSV with columns name,code: other names for parameters")  # fmt: skip
    imports.add_argument(
        "--day0-treatment",
        metavar="NAME",
        help="the EXTRT of the CAR T product, when its name is not recognised",
    )
    imports.add_argument(
        "--source",
        metavar="SOURCE_ID",
        help="the source of files that have no source_id column (a clinic's sheet)",
    )
    imports.add_argument(
        "--report",
        type=Path,
        metavar="FILE",
        help="also write the per-file report (and every problem) as CSV",
    )

    audit_command = commands.add_parser(
        "audit",
        help="print the audit trail as CSV: who opened, exported, imported or undid what",
        description="The audit trail (docs/security.md), oldest first, as CSV on standard output.",
    )
    audit_command.add_argument("--store", type=Path, metavar="PATH")
    audit_command.add_argument("--since", type=_day, metavar="DATE",
                               help="from this day on (YYYY-MM-DD, UTC)")  # fmt: skip
    audit_command.add_argument("--user", metavar="EMAIL", help="only this person's records")

    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
        if args.command == "import":
            return _import(args)
        if args.command == "versions":
            return _versions(args)
        if args.command == "quality":
            return _quality(args)
        if args.command == "audit":
            return _audit(args)
        if args.command == "export-parquet":
            return _export_parquet(args)
        return _info(args)
    except StoreError as exc:
        print(f"carta: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("carta: interrupted; the published store is unchanged.", file=sys.stderr)
        return 130


def _build(args: argparse.Namespace) -> int:
    from carta.build import build_store  # the generator's imports are only needed here

    path = args.store.absolute() if args.store else store_path()
    show = _progress_printer()
    result = build_store(
        path,
        n_patients=args.patients,
        other_indications=args.other_indications,
        seed=args.seed,
        include_published=not args.no_published,
        force=args.force,
        progress=show,
    )
    if not result.published:
        print(f"Store {path} is already up to date (version {result.version}); nothing to do.")
        return 0
    print(f"\nPublished store version {result.version} at {path}")
    print(f"  file: {result.version_file}")
    for table, n in result.rows.items():
        print(f"  {table:<18} {n:>12,} rows")
    print(
        f"  built in {result.seconds:.1f} s "
        f"({result.total_rows / max(result.seconds, 1e-9):,.0f} rows/s)"
    )
    return 0


def _import(args: argparse.Namespace) -> int:
    from carta.ingest.importer import import_files, read_mapping, report_table

    missing = [f for f in args.files if not f.exists()]
    if missing:
        raise StoreError(f"no such file: {', '.join(str(f) for f in missing)}")
    path = args.store.absolute() if args.store else store_path()
    mapping = read_mapping(args.mapping) if args.mapping else None
    result = import_files(
        args.files, path, dry_run=args.dry_run, mapping=mapping, progress=_progress_printer(),
        day0_treatment=args.day0_treatment, source=args.source,
    )  # fmt: skip
    if result.version is not None:
        files = ", ".join(f.name for f in args.files)
        who = audit.command_line_user()
        audit.record(audit.audit_path(path), who, "import", files, f"version {result.version}")
    for note in result.notes:
        print(f"  {note}")
    print(f"\n{'file':<28} {'table':<18} {'status':<17} {'accepted':>9} {'refused':>8}")
    for report in result.files:
        print(
            f"{report.file.name:<28} {report.table or '-':<18} {report.status:<17} "
            f"{report.accepted:>9,} {report.rejected:>8,}"
        )
        for problem in report.problems[:10]:
            where = f"line {problem.row}" if problem.row else "file"
            column = f", {problem.column}" if problem.column else ""
            value = f" = {problem.value!r}" if problem.value is not None else ""
            print(f"    {where}{column}{value}: {problem.reason}")
        if len(report.problems) > 10:
            print(f"    … and {len(report.problems) - 10} more (see the quarantine file)")
        if report.quarantine:
            print(f"    refused rows with reasons: {report.quarantine}")
    if args.report:
        report_table(result).to_csv(args.report, index=False)
        print(f"Report written to {args.report}")
    if result.version is not None:
        print(f"Published store version {result.version} at {path}")
        return 0
    if args.dry_run:
        print("Dry run: nothing was changed.")
        return 0 if result.accepted else 1
    if all(r.status == "already imported" for r in result.files):
        print("Every file was imported before; nothing changed.")
        return 0
    print("Nothing could be imported; the store is unchanged.")
    return 1


def _versions(args: argparse.Namespace) -> int:
    path = args.store.absolute() if args.store else store_path()
    if args.use is not None:
        use_version(path, args.use)
        audit.record(audit.audit_path(path), audit.command_line_user(), "undo",
                     f"store version {args.use}", "published again")  # fmt: skip
        print(f"Published version {args.use} again at {path}")
    for row in kept_versions(path).sort_values("version").itertuples():
        marker = "*" if row.published else " "
        shown = f"  imported: {row.imported}" if row.imported else ""
        print(f"{marker} version {row.version:<4} built {row.built_at or '?'}{shown}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    from carta.exports import csv_text

    path = args.store.absolute() if args.store else store_path()
    sys.stdout.write(csv_text(audit.read(audit.audit_path(path), args.since, args.user)))
    return 0


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a day (YYYY-MM-DD): {text[:40]!r}") from None


def _export_parquet(args: argparse.Namespace) -> int:
    from carta import parquet

    path = args.store.absolute() if args.store else store_path()
    con = open_read_only(path)
    try:
        version = store_info(con).get("store_version", "")
        counts = parquet.export(con, args.dir, replace=args.replace)
    except FileExistsError as exc:
        print(f"carta: {exc}", file=sys.stderr)
        return 2
    finally:
        con.close()
    print(f"Wrote store version {version} of {path} to {args.dir.absolute()}:")
    for table, rows in counts.items():
        print(f"  {table:<24} {rows:>12,} rows")
    print(f"Serve it read-only with: CARTA_STORE={args.dir.absolute()} ./run.sh")
    return 0


def _info(args: argparse.Namespace) -> int:
    path = args.store.absolute() if args.store else store_path()
    con = open_read_only(path)
    try:
        meta = store_info(con)
        summary = run_query(con, "store_summary")
    finally:
        con.close()
    print(f"Store {path}")
    for key in ("store_version", "schema_version", "built_at", "data_cut", "carta_version"):
        print(f"  {key:<15} {meta.get(key, '')}")
    for row in summary.itertuples():
        print(
            f"  {row.source_kind:<15} {row.patients:>8,} patients "
            f"{row.observations:>12,} observations"
        )
    return 0


def _quality(args: argparse.Namespace) -> int:
    from carta import exports

    path = args.store.absolute() if args.store else store_path()
    con = open_read_only(path)
    try:
        meta = store_info(con)
        rows = run_query(
            con, "patients_quality_history" if args.history else "patients_quality_findings"
        )
    finally:
        con.close()
    if args.history:
        rows = rows.drop(columns="published_at")
        if args.format == "csv":
            sys.stdout.write(exports.csv_text(rows))
            return 0
        print(f"Store {path}: findings per version, source and check")
        for row in rows.itertuples(index=False):
            print(f"  v{row.store_version:<5} {row.source_id:<16} {row.check_name:<34} "
                  f"{row.findings:>8,} ({row.patients:,} patients)")  # fmt: skip
        return 0
    if args.format == "csv":
        sys.stdout.write(exports.csv_text(rows))
        return 0
    print(f"Store {path}, version {meta.get('store_version', '')}: {len(rows):,} findings")
    for (category, check), group in rows.groupby(["category", "check_name"], sort=True):
        print(f"  {category:<13} {check:<34} {len(group):>8,}")
    shown = rows.head(QUALITY_ROWS_PRINTED).astype(object)
    for row in shown.where(shown.notna(), None).itertuples(index=False):
        where = " ".join(str(part) for part in (row.patient_id, row.visit, row.code) if part)
        day = "" if row.day is None else f" day {row.day}"
        print(f"{row.check_name}: {where}{day}: {row.detail}")
    if len(rows) > len(shown):
        print(f"… and {len(rows) - len(shown):,} more: --format csv lists every one")
    return 0


QUALITY_ROWS_PRINTED = 50


def _progress_printer():
    interactive = sys.stderr.isatty()
    last = {"shown": -1}

    def show(fraction: float, message: str) -> None:
        percent = int(fraction * 100)
        if interactive:
            bar = "#" * (percent // 4)
            print(f"\r[{bar:<25}] {percent:3d}% {message:<40}", end="", file=sys.stderr, flush=True)
        elif percent // 10 != last["shown"]:
            last["shown"] = percent // 10
            print(f"{percent:3d}% {message}", file=sys.stderr, flush=True)

    return show
