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
import re
import zipfile
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from carta.ingest.problems import Problem

BATCH_BYTES = 2 << 20  # pyarrow reads up to about 16 blocks ahead
# A workbook is read whole (its cells as text): about 100 bytes a cell, so 0.5 GB at most.
MAX_EXCEL_CELLS = 5_000_000
# A header is column names; beyond this it is no header (and Python's csv stops at 128 KiB).
MAX_HEADER_CHARACTERS = 100_000
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
    for batch in arrow_batches(path, problems, done):
        frame = batch.drop_columns(LINE).to_pandas()
        frame.index = pd.Index(batch.column(LINE).to_numpy(), dtype="int64")
        yield frame


def rows_at(path: Path, lines: set[int]) -> pd.DataFrame:
    """The rows at `lines` as text, every column, read again (for a quarantine file): the other
    rows are left in Arrow, never made into frames."""
    wanted = pa.array(sorted(lines), pa.int64())
    parts = [batch.filter(pc.is_in(batch.column(LINE), wanted)) for batch in
             arrow_batches(path, [])]  # fmt: skip
    if not parts:
        return pd.DataFrame(columns=header(path), index=pd.Index([], dtype="int64"), dtype="str")
    table = pa.Table.from_batches(parts)
    frame = table.drop_columns(LINE).to_pandas()
    frame.index = pd.Index(table.column(LINE).to_numpy(), dtype="int64")
    return frame


LINE = "line"  # the column of an Arrow batch that holds each row's line in the file


def arrow_batches(
    path: Path,
    problems: list[Problem],
    done: Callable[[float], None] | None = None,
    columns: list[str] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The file's rows as Arrow text in batches, each with its line in column `line`; only
    `columns` of the file when given (a row is judged blank, or holding stray bytes, by all of
    its cells all the same). What `batches` reads, without ever making a frame of it: the import
    hands these batches to DuckDB (carta/ingest/checking.py)."""
    if _is_excel(path):
        frame = _excel(path)
        table = pa.Table.from_pandas(frame, preserve_index=False).append_column(
            LINE, pa.array(frame.index.to_numpy(), pa.int64())
        )
        yield from table.select([*(columns or frame.columns), LINE]).to_batches()
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
            lines, line = _next_lines(line, batch.num_rows, skipped)
            # The bytes parsed so far, counted from the batch: pyarrow reads ahead, so the file
            # position runs ahead of the work. One byte per cell for its separator.
            parsed += batch.num_rows * len(names) + sum(
                column.buffers()[2].size for column in batch.columns
            )
            blank = _blank_rows(batch)
            batch = batch.append_column(LINE, pa.array(lines, pa.int64()))
            if blank is not None:
                batch = batch.filter(pc.invert(blank))
            if encoding == STRAY_BYTES:
                batch = _without_stray_bytes(batch, names, path, problems)
            if done:
                done(min(parsed / size, 1.0))
            yield batch.select([*(columns or names), LINE])
    except (pa.ArrowInvalid, UnicodeError) as error:
        raise UnreadableFile(f"cannot be read as CSV: {error}") from error


def _next_lines(first: int, count: int, skipped: set[int]) -> tuple[np.ndarray, int]:
    """The line numbers of the next `count` rows from line `first` on, passing over (and
    forgetting) the lines skipped for their width; and the line after them."""
    candidates = np.arange(first, first + count + len(skipped), dtype=np.int64)
    if skipped:
        candidates = candidates[~np.isin(candidates, np.fromiter(skipped, np.int64))]
    lines = candidates[:count]
    after = int(lines[-1]) + 1 if count else first
    skipped.difference_update([n for n in skipped if n < after])
    return lines, after


def _blank_rows(batch: pa.RecordBatch) -> pa.Array | None:
    """Per row: whether every cell is empty; None when no row is. Most batches have no row whose
    first cell is empty, and then no blank row: the other columns are looked at only when one
    has."""
    blank = pc.equal(batch.column(0), "")
    if not pc.any(blank).as_py():
        return None
    for column in batch.columns[1:]:
        blank = pc.and_(blank, pc.equal(column, ""))
    return blank


def _without_stray_bytes(batch: pa.RecordBatch, names: list[str], path: Path, problems):
    stray = pa.array(np.zeros(batch.num_rows, dtype=bool))
    for name in names:
        stray = pc.or_(stray, pc.match_substring(batch.column(name), "\ufffd"))
    for line in batch.column(LINE).filter(stray).to_pylist():
        problems.append(Problem(path.name, int(line), None, None, NOT_UTF8))
    return batch.filter(pc.invert(stray))


def read_whole(path: Path, problems: list[Problem]) -> pd.DataFrame:
    """Every batch in one frame, for the formats read whole (wide sheets, SDTM)."""
    parts = list(batches(path, problems))
    if not parts:
        return pd.DataFrame(columns=header(path), dtype="str")
    return pd.concat(parts) if len(parts) > 1 else parts[0]


def _is_excel(path: Path) -> bool:
    return path.suffix.lower() == ".xlsx"


def _excel(path: Path, header_only: bool = False) -> pd.DataFrame:
    """The first sheet as text, streamed row by row (openpyxl's read-only mode), up to
    MAX_EXCEL_CELLS cells: a workbook is read whole, so it is bounded; a CSV is not."""
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as error:
        raise UnreadableFile(f"cannot be read as an Excel workbook: {error}") from error
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        first = next(rows, ())
        width = max((i + 1 for i, v in enumerate(first) if v is not None), default=0)
        names = _unique([_cell_text(v) or f"Unnamed: {i}" for i, v in enumerate(first[:width])])
        if header_only or not names:
            return pd.DataFrame(columns=names, dtype="str")
        lines, records = [], []
        for line, row in enumerate(rows, start=2):
            cells = [_cell_text(v) for v in row[:width]]
            if not any(cells):
                continue  # a blank row: its line number is simply not used
            if (len(records) + 1) * width > MAX_EXCEL_CELLS:
                raise UnreadableFile(
                    f"holds more than {MAX_EXCEL_CELLS:,} cells, more than Carta reads from a "
                    "workbook: save the sheet as CSV, which is read in batches of any size"
                )
            lines.append(line)
            records.append(cells + [""] * (width - len(cells)))
    finally:
        book.close()
    return pd.DataFrame(records, columns=names, index=pd.Index(lines, dtype="int64"), dtype="str")


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _csv_layout(path: Path) -> tuple[str, str, list[str]]:
    """(encoding, separator, unique column names) from the file's bytes and its first line."""
    stat = path.stat()
    encoding = _encoding(path.resolve(), stat.st_size, stat.st_mtime_ns)
    opened = {"utf-8": "utf-8-sig", STRAY_BYTES: "utf-8-sig"}.get(encoding, encoding)
    try:
        with path.open(encoding=opened, errors="replace" if encoding == STRAY_BYTES else "strict",
                       newline="") as fh:  # fmt: skip
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
    if len(first) > MAX_HEADER_CHARACTERS:
        raise UnreadableFile(
            f"line 1 (the column names) is {len(first):,} characters long, over the "
            f"{MAX_HEADER_CHARACTERS:,} Carta reads: is it the right file?"
        )
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


@lru_cache(maxsize=32)
def _encoding(path: Path, _size: int, _modified: int) -> str:
    """UTF-8 when the bytes are UTF-8; Windows-1252 when they are not and hold no UTF-8 sequence
    at all (a legacy export); else UTF-8 with a few stray bytes, read so that the lines holding
    them are refused and reported, never the whole file decoded wrongly ("MÃ¼ller"). Kept per
    file, size and modification time: a file is looked at several times (its format, its
    header, its rows), and decoding a large one takes a tenth of a second each time."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    stray = False
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                decoder.decode(block)
        decoder.decode(b"", final=True)  # a sequence cut short at the end of the file
    except UnicodeDecodeError:
        stray = True
    if not stray:
        return "utf-8"
    with path.open("rb") as fh:
        # A UTF-8 sequence of two to four bytes: a lead byte and its continuation bytes.
        has_utf8 = any(
            _UTF8_SEQUENCE.search(block) for block in iter(lambda: fh.read(1 << 20), b"")
        )
    return STRAY_BYTES if has_utf8 else "cp1252"


_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# UTF-8 whose undecodable bytes become U+FFFD, so that their lines can be found and refused.
STRAY_BYTES = "carta-utf-8-with-stray-bytes"
NOT_UTF8 = "holds bytes that are not UTF-8 text (the rest of the file is UTF-8); refused"


def _stray_bytes_codec(name: str) -> codecs.CodecInfo | None:
    if name != STRAY_BYTES.replace("-", "_"):
        return None
    utf8 = codecs.lookup("utf-8")

    class Decoder(codecs.IncrementalDecoder):
        def __init__(self, errors: str = "strict") -> None:
            super().__init__(errors)
            self._inner = utf8.incrementaldecoder("replace")

        def decode(self, data, final=False):
            return self._inner.decode(data, final)

        def reset(self) -> None:
            self._inner.reset()

    return codecs.CodecInfo(
        utf8.encode, lambda data, errors="strict": utf8.decode(data, "replace"),
        incrementalencoder=utf8.incrementalencoder, incrementaldecoder=Decoder,
        name=STRAY_BYTES,
    )  # fmt: skip


codecs.register(_stray_bytes_codec)
