"""Command line: `python -m carta build|info`. Errors are one clear line and a non-zero exit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from carta import __version__, synth
from carta.store import StoreError, open_read_only, run_query, store_info, store_path


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
        help=f"synthetic patients (default {synth.DEFAULT_PATIENTS}; 0 for none)",
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

    info = commands.add_parser("info", help="show what the store holds")
    info.add_argument("--store", type=Path, metavar="PATH")

    args = parser.parse_args(argv)
    try:
        if args.command == "build":
            return _build(args)
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
