"""Reading an imported file as text: CSV streamed in batches by pyarrow, or an Excel sheet.

Every cell comes back as text ('' when empty), indexed by its line in the file (the header is line
1; a value that holds a line break keeps its row one line number, as spreadsheets count). A CSV
file is never held whole: `batches` yields about BATCH_BYTES of it at a time. What clinics' exports
do to CSV is taken in stride: a semicolon or tab separator, a byte-order mark, Windows-1252 text,
and rows with too few or too many fields, which are reported and skipped while the others go on.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from carta.ingest.problems import Problem

BATCH_BYTES = 2 << 20  # pyarrow reads up to about 16 blocks ahead
SEPARATORS = ",;\t"


class UnreadableFile(Exception):
    """The file cannot be read as CSV or as an Excel workbook; the message says why."""


def header(path: Path) -> list[str]:
    """The column names, made unique as pandas does ('dose', 'dose.1')."""
    if _is_excel(path):
        return list(_excel(path, header_only=True).columns)
    return _csv_layout(path)[2]


def batches(
    path: Path, problems: list[Problem], done: Callable[[float], None] | None = None
) -> Iterator[pd.DataFrame]:
    """The file's rows as text in batches; rows of the wrong width are added to `problems`.
    `done` hears the fraction of the file read after each batch, for a progress bar."""
    if _is_excel(path):
        yield _excel(path)
        return
    encoding, separator, names = _csv_layout(path)
    if not names:
        return
    skipped: set[int] = set()

    def wrong_width(row: pa_csv.InvalidRow) -> str:
        skipped.add(row.number)
        problems.append(
            Problem(path.name, row.number, None, row.text,
                    f"{row.actual_columns} fields where the header has {row.expected_columns}; "
                    "refused")
        )  # fmt: skip
        return "skip"

    size = max(path.stat().st_size, 1)
    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(
                use_threads=False,
                block_size=BATCH_BYTES,
                skip_rows=1,
                column_names=names,
                encoding=encoding,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=separator,
                newlines_in_values=True,
                # Blank lines come as rows of empty cells: counted, so that line numbers stay
                # true, then dropped below.
                ignore_empty_lines=False,
                invalid_row_handler=wrong_width,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        line, parsed = 2, 0
        for batch in reader:
            # Rows skipped for their width are left out of the batch but keep their line numbers.
            # pyarrow parses a block ahead, so a skip may be reported before its batch comes.
            lines = []
            while len(lines) < batch.num_rows:
                if line in skipped:
                    skipped.discard(line)
                else:
                    lines.append(line)
                line += 1
            frame = batch.to_pandas()
            frame.index = pd.Index(lines, dtype="int64")
            frame = frame[~frame.eq("").all(axis=1)]
            if done:
                # The bytes parsed so far, counted from the batch: pyarrow reads ahead, so the
                # file position runs ahead of the work. One byte per cell for its separator.
                parsed += batch.num_rows * len(names) + sum(
                    column.buffers()[2].size for column in batch.columns
                )
                done(min(parsed / size, 1.0))
            yield frame
    except (pa.ArrowInvalid, UnicodeError) as error:
        raise UnreadableFile(f"cannot be read as CSV: {error}") from error


def read_whole(path: Path, problems: list[Problem]) -> pd.DataFrame:
    """Every batch in one frame, for the formats read whole (wide sheets, SDTM)."""
    parts = list(batches(path, problems))
    if not parts:
        return pd.DataFrame(columns=header(path), dtype="str")
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _is_excel(path: Path) -> bool:
    return path.suffix.lower() == ".xlsx"


def _excel(path: Path, header_only: bool = False) -> pd.DataFrame:
    try:
        frame = pd.read_excel(
            path, dtype=str, keep_default_na=False, engine="openpyxl",
            nrows=0 if header_only else None,
        )  # fmt: skip
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UnreadableFile(f"cannot be read as an Excel workbook: {error}") from error
    frame = frame.fillna("")
    frame.index = frame.index + 2
    return frame


def _csv_layout(path: Path) -> tuple[str, str, list[str]]:
    """(encoding, separator, unique column names) from the file's bytes and its first line."""
    encoding = "utf-8" if _is_utf8(path) else "cp1252"
    try:
        with path.open(encoding="utf-8-sig" if encoding == "utf-8" else encoding, newline="") as fh:
            first = fh.readline()
            rest = first.strip() or fh.read(1 << 16).strip()
    except UnicodeError as error:
        reason = f"cannot be read as CSV: not UTF-8 or Windows-1252 text ({error})"
        raise UnreadableFile(reason) from error
    if not first.strip():
        if rest:
            raise UnreadableFile("line 1 is empty: Carta reads the column names from line 1")
        return encoding, ",", []
    # The separator that splits the header into the most fields, quotes respected; a comma on a
    # tie.
    fields = {s: len(next(csv.reader(io.StringIO(first), delimiter=s))) for s in SEPARATORS}
    separator = max(SEPARATORS, key=lambda s: (fields[s], s == ","))
    names = next(csv.reader(io.StringIO(first), delimiter=separator))
    return encoding, separator, _unique([n if n.strip() else f"Unnamed: {i}"
                                         for i, n in enumerate(names)])  # fmt: skip


def _unique(names: list[str]) -> list[str]:
    """Repeated names get .1, .2, …, skipping any the header already has ('CK', 'CK', 'CK.1' ->
    'CK', 'CK.2', 'CK.1')."""
    taken = set(names)
    unique, seen = [], set()
    for name in names:
        candidate, count = name, 0
        while candidate in seen or (count and candidate in taken):
            count += 1
            candidate = f"{name}.{count}"
        seen.add(candidate)
        unique.append(candidate)
    return unique


def _is_utf8(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
