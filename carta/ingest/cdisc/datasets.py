"""One CDISC dataset file read into a `Dataset`, whatever form it comes in, and told by its content.

Forms read: SAS transport v5 or v8 (`.xpt`, with pyreadstat: pandas.read_sas turns exact zeros
into 5.4e-79), CDISC Dataset-JSON v1.1 (`.json`: `columns` + `rows`), its NDJSON form
(`.ndjson`: the metadata on line 1, one row array a line), compressed Dataset-JSON (`.dsjc`: the
NDJSON form gzipped, as CDISC's examples are; gzipped `.json` content is read too), Dataset-JSON
v1.0 (`clinicalData`/`referenceData` → `itemGroupData`, its ITEMGROUPDATASEQ record number
dropped) and CSV exports. A file is told by its bytes, not its extension, so a renamed one reads
all the same. Refused with a message: zstd/zip, .sas7bdat, UTF-16 text, an xpt of several datasets.

Values: text is stripped and an empty text is <NA>; numbers are float64 and a missing one
(SAS `.`, `.A`–`.Z`, JSON null, CSV `NA` or `.`) is NaN. SAS transport keeps numbers as IBM
floats, in which 8.55 reads 8.549999999999999: they are rounded to 15 significant digits, the
decimals Dataset-JSON has. SAS numeric dates (a DATE9.-formatted ADT, TRTSDT …) become ISO 8601
text, as Dataset-JSON writes them, so every date of every form reads alike. A CSV has no types:
only the columns that SDTM/ADaM define as numeric (--SEQ, --STRESN, --DY, AGE, AVAL, VISITNUM …,
or define.xml's DataType when there is one) become numbers, and only when every value is one; the
rest stays text (LBORRES is text).

The dataset's name comes from the content: the xpt member name, Dataset-JSON's `name` (else its
itemGroupOID), a CSV's DOMAIN values (a split dataset such as LBUR keeps the file's name when
that starts with the domain), or the column layout (RDOMAIN+QNAM: SUPP--; RDOMAIN+RELID: RELREC;
PARAMCD+CNSR: ADTTE; AETERM without DOMAIN: ADAE; TRT01P/TRTSDT without PARAMCD: ADSL). An ADaM
BDS dataset (USUBJID+PARAMCD) names itself nowhere in a CSV: it is taken when the file's name
agrees (adlb.csv) and refused otherwise. `recognise` reads only the metadata (a JSON's head, an
xpt's header, a CSV's first rows), so a large file is parsed once, when it is read.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import mmap
import re
import xml.etree.ElementTree as ET
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyreadstat

from carta.ingest.problems import Problem
from carta.ingest.reading import UnreadableFile, read_whole

WHAT_CARTA_READS = (
    "Carta reads CDISC datasets as SAS transport (.xpt, v5 or v8), Dataset-JSON v1.0 or v1.1 "
    "(.json), Dataset-JSON NDJSON (.ndjson), gzip-compressed Dataset-JSON (.dsjc) or CSV"
)
# When one dataset comes in several forms, the first of these is read.
PREFERENCE = ("xpt", "dataset-json-1.1", "dataset-json-1.0", "ndjson", "dsjc", "csv")
FORM_NAMES = {
    "xpt": "SAS transport",
    "dataset-json-1.1": "Dataset-JSON v1.1",
    "dataset-json-1.0": "Dataset-JSON v1.0",
    "ndjson": "Dataset-JSON NDJSON",
    "dsjc": "compressed Dataset-JSON",
    "csv": "CSV",
}

_NAME = re.compile(r"[A-Z][A-Z0-9_]{0,31}")
_JSON_NUMERIC = {"integer", "float", "double", "decimal"}
_DEFINE_NUMERIC = {"integer", "float", "double", "decimal"}
_CSV_MISSING = re.compile(r"(?:|\.|\.[A-Z_]|NA|NAN|NaN)")
# SDTM variables named --SUFFIX (a two-letter domain prefix) that hold numbers.
_SDTM_NUMERIC = re.compile(
    r"[A-Z]{2}(?:SEQ|STRESN|DY|STDY|ENDY|DOSE|DOSTOT|STNRLO|STNRHI|TPTNUM|NOMDY|LLOQ|ULOQ"
    r"|STREFN|VAMT)"
)
_NUMERIC_NAMES = {
    # SDTM
    "AGE", "VISITNUM", "VISITDY", "TAETORD",
    # ADaM
    "AVAL", "BASE", "CHG", "PCHG", "ADY", "ASTDY", "AENDY", "ASEQ", "AVISITN", "PARAMN",
    "ANRLO", "ANRHI", "A1LO", "A1HI", "A2LO", "A2HI", "R2BASE", "R2A1LO", "R2A1HI", "BR2A1LO",
    "BR2A1HI", "CNSR", "APERIOD", "APHASEN", "ATPTN", "ADURN", "TRTDUR", "TRTDURD", "CUMDOSE",
    "AVGDD", "BMIBL", "HEIGHTBL", "WEIGHTBL", "EDUCLVL", "DURDIS", "MMSETOT", "VISNUMEN",
    "SRCSEQ", "AFRLT", "NFRLT", "ARELTM", "NRRLT", "DOSEA", "DOSEP", "BASEN", "AVALN",
}  # fmt: skip
_SEND_COLUMNS = {"SPECIES", "STRAIN", "SBSTRAIN", "SETCD", "TXPARMCD"}  # SEND-only
_ADAM_COLUMNS = {"PARAMCD", "AVAL", "AVALC", "TRTP", "TRTA", "TRT01P", "TRT01A", "TRTSDT",
                 "ADY", "ASTDT", "ASTDY", "ASEQ", "SAFFL", "ITTFL", "CNSR"}  # fmt: skip
_ADSL_COLUMNS = {"TRT01P", "TRT01A", "TRTSDT", "TRTEDT", "SAFFL", "ITTFL"}
_XPT_MAGIC = b"HEADER RECORD*******LIB"
_HEAD_BYTES = 1 << 20


@dataclass
class Dataset:
    path: Path  # the file
    name: str  # dataset name upper-case, e.g. "DM", "LB", "SUPPAE", "ADSL", "ADLBHY"
    standard: str  # "SDTM" | "ADaM" | "SEND"
    format: str  # "xpt" | "dataset-json-1.1" | "dataset-json-1.0" | "ndjson" | "dsjc" | "csv"
    frame: pd.DataFrame  # one row per record, upper-case columns: "string" or float64
    labels: dict[str, str]  # column -> label (from the file, else define.xml)
    records: int  # number of records in the file (== len(frame))


@dataclass
class DefineColumn:
    name: str
    label: str | None
    data_type: str | None  # Define-XML DataType: text, integer, float, date, datetime, …
    codelist: str | None  # CodeList OID


@dataclass
class DefineDataset:
    name: str
    label: str | None
    standard: str  # "SDTM" | "ADaM" | "SEND"
    columns: dict[str, DefineColumn]


@dataclass
class Define:
    path: Path
    version: str | None  # def:DefineVersion, e.g. "2.0.0", "2.1.0"
    datasets: dict[str, DefineDataset]  # by dataset name, upper-case
    codelists: dict[str, dict[str, str]]  # CodeList OID -> {coded value: decode}
    codelist_names: dict[str, str] = field(default_factory=dict)  # CodeList OID -> its Name

    def labels(self, dataset: str) -> dict[str, str]:
        columns = self.datasets.get(dataset.upper())
        if columns is None:
            return {}
        return {c.name: c.label for c in columns.columns.values() if c.label}

    def data_types(self, dataset: str) -> dict[str, str]:
        columns = self.datasets.get(dataset.upper())
        if columns is None:
            return {}
        return {c.name: c.data_type for c in columns.columns.values() if c.data_type}

    def decode(self, dataset: str, column: str, value: str) -> str | None:
        """The decode of a coded value through the column's code list; None when it has none."""
        found = self.datasets.get(dataset.upper())
        item = found.columns.get(column.upper()) if found else None
        if item is None or item.codelist is None:
            return None
        return self.codelists.get(item.codelist, {}).get(value)


# ------------------------------------------------------------------------------------------------
# What a file is


@dataclass
class _Raw:
    """A file's content before it is told: columns (upper-case) with their values, its own name
    and labels, and what it says about itself."""

    form: str
    columns: list[str]
    values: list[Sequence[Any]] | None  # per column; None for a peek at the header only
    numeric: set[str] | None  # columns the file types as numbers; None for CSV (untyped)
    labels: dict[str, str]
    declared: str | None = None  # the name the file gives itself
    hint: str | None = None  # the standard its metadata names
    domain: str | None = None  # the DOMAIN values (most common), for a CSV
    rdomain: str | None = None
    records: int | None = None


def recognise(path: Path | str) -> str | None:
    """The dataset's name told from the file's content; None when it is not a CDISC dataset in a
    form Carta reads (or cannot be read at all)."""
    try:
        return _identify(_peek(Path(path)), Path(path))[0]
    except UnreadableFile:
        return None


def read_dataset(path: Path | str, define: Define | None = None) -> Dataset:
    """The dataset in `path`; `define` fills missing labels and types a CSV's columns. Raises
    UnreadableFile with a message naming what Carta reads."""
    path = Path(path)
    raw = _read(path)
    name, standard = _identify(raw, path)
    table = define.datasets.get(name) if define else None
    if table is not None:
        standard = table.standard
    types = define.data_types(name) if define else {}
    numeric = raw.numeric
    if numeric is None:  # CSV: types from define.xml, else from the variables' names
        numeric = {
            c for c in raw.columns
            if (types[c].lower() in _DEFINE_NUMERIC if c in types
                else _is_numeric_name(c, raw.columns, standard))
        }  # fmt: skip
    data: dict[str, Any] = {}
    assert raw.values is not None
    for column, values in zip(raw.columns, raw.values, strict=True):
        if column in numeric:
            number = _numbers(values, strict=raw.form != "csv", column=column)
            data[column] = number if number is not None else _text(values)
        else:
            data[column] = _text(values)
    frame = pd.DataFrame(data, columns=raw.columns)
    frame.index = pd.RangeIndex(len(frame))
    labels = dict(define.labels(name)) if define else {}
    labels = {c: v for c, v in labels.items() if c in frame.columns}
    labels.update({c: v for c, v in raw.labels.items() if v})
    if raw.records is not None and raw.records != len(frame):
        raise UnreadableFile(
            f"says it holds {raw.records} records but holds {len(frame)}: the file may be cut short"
        )
    return Dataset(path, name, standard, raw.form, frame, labels, len(frame))


def read_define(path: Path | str) -> Define:
    """Define-XML 2.0 or 2.1: per dataset its columns' labels, data types and code lists."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as error:
        raise UnreadableFile(f"cannot be read as Define-XML: {error}") from error
    if _local(root.tag) != "ODM":
        raise UnreadableFile("is XML but not Define-XML: its root element is not ODM")
    version = None
    mdv_standard = ""
    standards: dict[str, str] = {}
    items: dict[str, DefineColumn] = {}
    codelists: dict[str, dict[str, str]] = {}
    codelist_names: dict[str, str] = {}
    groups = []
    for element in root.iter():
        tag = _local(element.tag)
        if tag == "MetaDataVersion":
            version = _attr(element, "DefineVersion")
            mdv_standard = _attr(element, "StandardName") or ""
        elif tag == "Standard":
            standards[_attr(element, "OID") or ""] = _attr(element, "Name") or ""
        elif tag == "ItemDef":
            codelist = next((_attr(c, "CodeListOID") for c in element
                             if _local(c.tag) == "CodeListRef"), None)  # fmt: skip
            items[_attr(element, "OID") or ""] = DefineColumn(
                (_attr(element, "Name") or "").upper(),
                _description(element) or _attr(element, "Label"),
                _attr(element, "DataType"),
                codelist,
            )
        elif tag == "CodeList":
            oid = _attr(element, "OID") or ""
            codelist_names[oid] = _attr(element, "Name") or ""
            coded: dict[str, str] = {}
            for entry in element:
                if _local(entry.tag) == "CodeListItem":
                    value = _attr(entry, "CodedValue") or ""
                    decode = next((_translated(d) for d in entry if _local(d.tag) == "Decode"),
                                  None)  # fmt: skip
                    coded[value] = decode if decode is not None else value
                elif _local(entry.tag) == "EnumeratedItem":
                    value = _attr(entry, "CodedValue") or ""
                    coded[value] = value
            codelists[oid] = coded
        elif tag == "ItemGroupDef":
            groups.append(element)
    datasets = {}
    for group in groups:
        name = (_attr(group, "Name") or _attr(group, "SASDatasetName") or "").upper()
        standard_name = standards.get(_attr(group, "StandardOID") or "", mdv_standard).upper()
        purpose = (_attr(group, "Purpose") or "").lower()
        if "SEND" in standard_name:
            standard = "SEND"
        elif "ADAM" in standard_name or purpose == "analysis":
            standard = "ADaM"
        else:
            standard = "SDTM"
        columns = {}
        for ref in group:
            if _local(ref.tag) == "ItemRef" and (item := items.get(_attr(ref, "ItemOID") or "")):
                columns[item.name] = item
        datasets[name] = DefineDataset(name, _description(group), standard, columns)
    if not datasets:
        raise UnreadableFile("is ODM XML but defines no datasets (no ItemGroupDef)")
    return Define(path, version, datasets, codelists, codelist_names)


def read_folder(folder: Path | str) -> tuple[list[Dataset], list[str]]:
    """Every CDISC dataset in the folder, one per dataset name, with define.xml's labels when it
    is there; the notes say which file was read for each, which were skipped and why."""
    folder = Path(folder)
    notes: list[str] = []
    define = None
    found: dict[str, list[tuple[int, Path]]] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            notes.append(f"{path.name}/: a folder; Carta reads the datasets beside it, not in it")
            continue
        if path.suffix.lower() == ".xml":
            try:
                candidate = read_define(path)
            except UnreadableFile as error:
                notes.append(f"{path.name}: not used, {error}")
                continue
            if define is None:
                define = candidate
                version = f" {candidate.version}" if candidate.version else ""
                notes.append(f"{path.name}: Define-XML{version} of {len(candidate.datasets)} "
                             "datasets, used for labels and the types of CSV columns")  # fmt: skip
            else:
                notes.append(f"{path.name}: a second Define-XML, not used ({define.path.name} is)")
            continue
        try:
            raw = _peek(path)
            name, _ = _identify(raw, path)
        except UnreadableFile as error:
            notes.append(f"{path.name}: not read, {error}")
            continue
        # Forms of one dataset share a file stem (dm.xpt, dm.json); two files of one domain
        # under other names (lb.csv, lab_batch2.csv) are two datasets, both read.
        found.setdefault((name, path.stem.lower()), []).append((PREFERENCE.index(raw.form), path))
    datasets = []
    for key in sorted(found):
        name = key[0]
        candidates = [p for _, p in sorted(found[key], key=lambda c: (c[0], c[1].name))]
        read, failed = None, []
        for path in candidates:
            try:
                read = read_dataset(path, define)
                break
            except UnreadableFile as error:
                failed.append(f"{path.name}: {error}")
        if read is None:
            notes.append(f"{name}: no file could be read ({'; '.join(failed)})")
            continue
        datasets.append(read)
        skipped = [p.name for p in candidates[candidates.index(read.path) + 1 :]]
        records = f"{read.records} record{'' if read.records == 1 else 's'}"
        note = f"{name}: read {read.path.name} ({FORM_NAMES[read.format]}, {records})"
        if failed:
            note += f"; could not read {'; '.join(failed)}"  # the forms preferred to it
        if skipped:
            note += f"; skipped {', '.join(skipped)} (the same dataset in a form read after it)"
        notes.append(note)
    if define is not None:
        missing = sorted(set(define.datasets) - {name for name, _ in found})
        if missing:
            notes.append(f"{define.path.name} describes {', '.join(missing)}, which no file here "
                         "holds")  # fmt: skip
        extra = sorted(d.name for d in datasets if d.name not in define.datasets)
        if extra:
            notes.append(
                f"{', '.join(extra)}: not in {define.path.name}; labels from the file only"
            )
    return datasets, notes


# ------------------------------------------------------------------------------------------------
# Telling the dataset


def _identify(raw: _Raw, path: Path) -> tuple[str, str]:
    """(name, standard) from the content, or UnreadableFile saying why it is not a dataset."""
    columns = set(raw.columns)
    stem = path.stem.upper()
    if len(columns) != len(raw.columns):
        repeated = sorted(c for c, n in Counter(raw.columns).items() if n > 1)
        raise UnreadableFile(f"has the column {', '.join(repeated)} more than once")
    json_form = raw.form.startswith("dataset-json") or raw.form in ("ndjson", "dsjc")
    if not json_form and not columns & {"STUDYID", "USUBJID"}:
        raise UnreadableFile(
            "not a CDISC dataset: no STUDYID or USUBJID column (SDTM and ADaM datasets have them)"
        )
    name = raw.declared.upper().strip() if raw.declared else None
    if name is not None and not _NAME.fullmatch(name):
        name = None
    no_domain = "DOMAIN" not in columns and "RDOMAIN" not in columns
    if name is None and raw.values is not None:  # a file without a name of its own: its values
        for key, column in (("domain", "DOMAIN"), ("rdomain", "RDOMAIN")):
            if getattr(raw, key) is None and column in columns:
                setattr(raw, key, _most_common(raw.values[raw.columns.index(column)]))
    if name is None and raw.domain and _NAME.fullmatch(raw.domain):
        # A split dataset (LBUR, QSCO) is named after its file when that starts with the domain.
        split = stem.startswith(raw.domain) and re.fullmatch(r"[A-Z0-9]{2,8}", stem)
        name = stem if split else raw.domain
    if name is None and "RDOMAIN" in columns:
        if "QNAM" in columns:
            if raw.rdomain and _NAME.fullmatch("SUPP" + raw.rdomain):
                name = "SUPP" + raw.rdomain
            elif re.fullmatch(r"SUPP[A-Z0-9]{2,4}", stem):
                name = stem
            else:
                raise UnreadableFile("a supplemental-qualifier (SUPP--) dataset of no one domain")
        elif "RELID" in columns:
            name = "RELREC"
    if name is None and no_domain:
        adam_stem = stem if re.fullmatch(r"AD[A-Z0-9]{1,6}", stem) else None
        if {"USUBJID", "PARAMCD"} <= columns:
            name = adam_stem or ("ADTTE" if "CNSR" in columns else None)
            if name is None:
                raise UnreadableFile(
                    "an ADaM BDS dataset (USUBJID and PARAMCD), whose name its content does not "
                    "give: name the file after the dataset, e.g. adlb.csv"
                )
        elif "USUBJID" in columns and columns & {"AETERM", "AEDECOD"}:
            name = adam_stem or "ADAE"
        elif "USUBJID" in columns and columns & _ADSL_COLUMNS:
            name = adam_stem or "ADSL"
    if name is None:
        topic = re.compile(r"([A-Z]{2})(?:SEQ|TESTCD|TERM|TRT)")
        prefixes = Counter(m.group(1) for c in raw.columns if (m := topic.fullmatch(c)))
        if prefixes:
            name = prefixes.most_common(1)[0][0]
    if name is None:
        raise UnreadableFile(
            "not a CDISC dataset Carta can name: no DOMAIN column, nor the layout of SUPP--, "
            "RELREC, ADSL, ADAE or an ADaM BDS dataset"
        )
    if raw.hint:
        standard = raw.hint
    elif no_domain and (name.startswith("AD") or columns & _ADAM_COLUMNS):
        standard = "ADaM"
    elif columns & _SEND_COLUMNS or any(c.endswith(("USCHFL", "NOMLBL")) for c in columns):
        standard = "SEND"
    else:
        standard = "SDTM"
    return name, standard


def _is_numeric_name(column: str, columns: Sequence[str], standard: str) -> bool:
    if column in _NUMERIC_NAMES or _SDTM_NUMERIC.fullmatch(column):
        return True
    if standard == "ADaM" and len(column) > 2:
        # ADaM's numeric codes of a text variable: AGEGR1N for AGEGR1, TRT01PN, CRIT1FN for CRIT1FL
        if column.endswith("N") and column[:-1] in columns:
            return True
        if column.endswith("FN") and column[:-1] + "L" in columns:
            return True
    return False


def _hint(*texts: Any) -> str | None:
    """The standard that a Dataset-JSON's study and metadata OIDs name, when they name one."""
    text = " ".join(str(t) for t in texts if isinstance(t, str)).upper()
    found = {s for s, pattern in (("SEND", r"SEND(?:IG|-IG|\b)"), ("ADaM", r"ADAM"),
                                  ("SDTM", r"SDTM")) if re.search(pattern, text)}  # fmt: skip
    return found.pop() if len(found) == 1 else None


# ------------------------------------------------------------------------------------------------
# Reading each form


def _form(path: Path) -> str:
    """The form of the file from its first bytes: "xpt", "dsjc" (gzip), "json" or "csv"."""
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError as error:
        raise UnreadableFile(f"cannot be opened: {error}") from error
    suffix = path.suffix.lower()
    if head.startswith(_XPT_MAGIC):
        return "xpt"
    if head.startswith(b"\x1f\x8b"):
        return "dsjc"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(f"is UTF-16 text, not UTF-8: {WHAT_CARTA_READS}, in UTF-8")
    if head.startswith(b"\x28\xb5\x2f\xfd") or head.startswith(b"PK\x03\x04"):
        raise UnreadableFile(
            f"compressed as zstd or zip, which Carta does not read; {WHAT_CARTA_READS}"
        )
    if suffix == ".sas7bdat" or head.startswith(b"\x00" * 12 + b"\xc2\xea\x81\x60"):
        raise UnreadableFile(f"a SAS dataset (.sas7bdat), not read: {WHAT_CARTA_READS}")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return "json"  # or NDJSON, told when it is read
    if b"\x00" in head:
        raise UnreadableFile(f"is not a form Carta reads: {WHAT_CARTA_READS}")
    return "csv"


def _peek(path: Path) -> _Raw:
    """What `_identify` needs, read cheaply: the header and a few rows, not the whole file."""
    form = _form(path)
    if form == "xpt":
        return _read_xpt(path, peek=True)
    if form == "csv":
        return _peek_csv(path)
    head = _json_bytes(path, form, limit=_HEAD_BYTES)
    meta = _ndjson_metadata(head)
    if meta is not None:
        return _json_raw(meta, form="ndjson" if form == "json" else form, rows=None)
    found = _json_head(head.decode("utf-8", errors="ignore"))
    if found is not None:
        return _json_doc(found, form, rows_wanted=False)
    # The metadata comes after the rows, or the file is broken: parsed whole.
    return _json_doc(_json_object(_json_bytes(path, form), "the file"), form, rows_wanted=False)


def _read(path: Path) -> _Raw:
    form = _form(path)
    if form == "xpt":
        return _read_xpt(path, peek=False)
    if form == "csv":
        return _read_csv(path)
    content = _json_bytes(path, form)
    if _ndjson_metadata(content[:_HEAD_BYTES]) is not None:
        return _read_ndjson(content, form="ndjson" if form == "json" else form)
    return _json_doc(_json_object(content, "the file"), form, rows_wanted=True)


def _json_bytes(path: Path, form: str, limit: int = -1) -> bytes:
    """The file's bytes (the first `limit` of them), un-gzipped for compressed Dataset-JSON."""
    try:
        if form == "dsjc":
            with gzip.open(path, "rb") as fh:
                content = fh.read(limit)
        else:
            with path.open("rb") as fh:
                content = fh.read(limit)
    except (OSError, EOFError, zlib.error) as error:
        kind = "gzip-compressed Dataset-JSON" if form == "dsjc" else "Dataset-JSON"
        raise UnreadableFile(f"cannot be read as {kind}: {error}") from error
    return content.removeprefix(b"\xef\xbb\xbf")


def _ndjson_metadata(head: bytes) -> dict[str, Any] | None:
    """The metadata of NDJSON (CDISC's .ndjson, and the .dsjc files, which are NDJSON gzipped):
    its first line when that is a whole JSON object with 'columns' and no 'rows'."""
    first, newline, _ = head.partition(b"\n")
    if not newline:
        return None
    try:
        meta = json.loads(first)
    except ValueError:
        return None
    if isinstance(meta, dict) and "columns" in meta and "rows" not in meta:
        return meta
    return None


def _read_xpt(path: Path, peek: bool) -> _Raw:
    members = _xpt_members(path)
    if members > 1:
        raise UnreadableFile(
            f"a SAS transport file of {members} datasets: Carta reads one dataset per file"
        )
    frame = meta = None
    for encoding in ("UTF-8", "WINDOWS-1252", "ISO-8859-1"):
        try:
            frame, meta = pyreadstat.read_xport(str(path), metadataonly=peek, encoding=encoding)
            break
        except UnicodeError:
            continue
        except (pyreadstat.ReadstatError, pyreadstat.PyreadstatError, OSError) as error:
            raise UnreadableFile(f"cannot be read as SAS transport (.xpt): {error}") from error
    if meta is None:
        raise UnreadableFile(
            "cannot be read as SAS transport (.xpt): its text is in no known encoding"
        )
    names = [str(c) for c in meta.column_names]
    columns = [c.strip().upper() for c in names]
    labels = {
        c: (meta.column_names_to_labels.get(n) or "").strip()
        for c, n in zip(columns, names, strict=True)
    }
    kinds = meta.readstat_variable_types
    numeric = {c for c, n in zip(columns, names, strict=True) if kinds.get(n) == "double"}
    values = None
    domain = rdomain = None
    if not peek:
        assert frame is not None
        values = []
        for column, name in zip(columns, names, strict=True):
            series = frame[name]
            if column in numeric and series.dtype == object:
                numeric.discard(column)  # a SAS date, time or datetime: ISO 8601 text
                values.append([_iso(v) for v in series.tolist()])
            elif column in numeric:
                values.append(_decimal(series.to_numpy(dtype="float64", copy=True)))
            else:
                values.append(series.tolist())
    return _Raw("xpt", columns, values, numeric, labels, meta.table_name or None, None,
                domain, rdomain, None if peek else meta.number_rows)  # fmt: skip


def _decimal(values: np.ndarray) -> np.ndarray:
    """Numbers from SAS transport's IBM floats rounded to 15 significant digits: 8.55 is stored
    as 8.549999999999999 there, and a reference limit or a grading threshold must compare as
    the value that was written. (Dataset-JSON gives 8.55.)"""
    finite = np.isfinite(values) & (values != 0)
    if not finite.any():
        return values
    chosen = values[finite]
    with np.errstate(over="ignore", invalid="ignore"):
        scale = 10.0 ** (14 - np.floor(np.log10(np.abs(chosen))))
        rounded = np.round(chosen * scale) / scale
    keep = ~np.isfinite(rounded)  # beyond float range when scaled: left as they are
    rounded[keep] = chosen[keep]
    values[finite] = rounded
    return values


def _xpt_members(path: Path) -> int:
    with path.open("rb") as fh:
        if path.stat().st_size == 0:
            return 0
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            count, start = 0, 0
            while True:
                at = data.find(b"HEADER RECORD*******MEMB", start)
                if at < 0:
                    return count
                count, start = count + 1, at + 80


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (date, time)):
        return value.isoformat()
    return None


def _json_object(content: bytes | str, where: str) -> Any:
    try:
        return json.loads(content)
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"is not UTF-8 text, as Dataset-JSON must be ({error})") from error
    except json.JSONDecodeError as error:
        place = f"line {error.lineno}, column {error.colno}" if where == "the file" else where
        cut = "; the file may be cut short" if error.pos >= len(content.rstrip()) - 1 else ""
        if error.msg.startswith("Unterminated string"):
            cut = "; the file may be cut short"
        raise UnreadableFile(f"is not valid JSON: {error.msg} ({place}){cut}") from error


def _json_doc(doc: Any, form: str, rows_wanted: bool) -> _Raw:
    if not isinstance(doc, dict):
        raise UnreadableFile("is JSON but not Dataset-JSON: not a JSON object at the top level")
    if "columns" in doc or "rows" in doc:
        version = "dataset-json-1.1"
        rows = doc.get("rows") if rows_wanted else None
        if rows_wanted and not isinstance(rows, list):
            raise UnreadableFile("is Dataset-JSON v1.1 without a 'rows' array")
        raw = _json_raw(doc, form=version if form == "json" else form, rows=rows)
        return raw
    data = doc.get("clinicalData") or doc.get("referenceData")
    if isinstance(data, dict):
        groups = data.get("itemGroupData")
        if not isinstance(groups, dict) or len(groups) != 1:
            raise UnreadableFile(
                "is Dataset-JSON v1.0 whose 'itemGroupData' does not hold exactly one dataset"
            )
        oid, group = next(iter(groups.items()))
        if not isinstance(group, dict) or not isinstance(group.get("items"), list):
            raise UnreadableFile(f"is Dataset-JSON v1.0 whose dataset {oid} has no 'items' list")
        rows = group.get("itemData") if rows_wanted else None
        if rows_wanted and not isinstance(rows, list):
            raise UnreadableFile(f"is Dataset-JSON v1.0 whose dataset {oid} has no 'itemData'")
        meta = {
            "name": group.get("name") or (oid[3:] if oid.startswith("IG.") else None),
            "records": group.get("records"),
            "columns": [
                {**i, "dataType": i.get("type")} for i in group["items"] if isinstance(i, dict)
            ],
            "hint": _hint(
                data.get("studyOID"),
                data.get("metaDataVersionOID"),
                data.get("metaDataRef"),
                doc.get("fileOID"),
                doc.get("originator"),
            ),
        }
        raw = _json_raw(meta, form="dataset-json-1.0" if form == "json" else form, rows=rows)
        return raw
    raise UnreadableFile(
        "is JSON but not Dataset-JSON: no 'columns' and 'rows' (v1.1) nor "
        f"'clinicalData'/'referenceData' (v1.0); {WHAT_CARTA_READS}"
    )


def _json_raw(meta: Any, form: str, rows: list | None) -> _Raw:
    """A Dataset-JSON's metadata (v1.1's top level or NDJSON's first line) and its rows."""
    if not isinstance(meta, dict) or not isinstance(meta.get("columns"), list):
        raise UnreadableFile("is Dataset-JSON without a 'columns' list describing its columns")
    items = meta["columns"]
    if not all(isinstance(c, dict) and isinstance(c.get("name"), str) for c in items):
        raise UnreadableFile("is Dataset-JSON with a column that has no 'name'")
    first = items[0] if items else {}
    record_id = str(first.get("OID") or first.get("itemOID") or first.get("name") or "")
    drop = 1 if record_id.upper() == "ITEMGROUPDATASEQ" else 0  # v1.0's record number
    items = items[drop:]
    columns = [c["name"].strip().upper() for c in items]
    numeric = {c for c, i in zip(columns, items, strict=True)
               if str(i.get("dataType") or "").lower() in _JSON_NUMERIC}  # fmt: skip
    labels = {c: i["label"].strip() for c, i in zip(columns, items, strict=True)
              if isinstance(i.get("label"), str)}  # fmt: skip
    records = meta.get("records")
    if records is not None and (not isinstance(records, int) or isinstance(records, bool)):
        raise UnreadableFile("is Dataset-JSON whose 'records' is not a whole number")
    values = None
    if rows is not None:
        width = len(items) + drop
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, list) or len(row) != width:
                size = len(row) if isinstance(row, list) else "not a list of"
                raise UnreadableFile(
                    f"is Dataset-JSON whose record {number} has {size} values where the columns "
                    f"are {width}"
                )
        values = [list(c) for c in zip(*rows, strict=True)][drop:] if rows else [[]] * len(columns)
    hint = meta.get("hint") or _hint(meta.get("studyOID"), meta.get("metaDataVersionOID"),
                                     meta.get("metaDataRef"), meta.get("fileOID"))  # fmt: skip
    declared = meta.get("name") if isinstance(meta.get("name"), str) else None
    if not declared and isinstance(meta.get("itemGroupOID"), str):
        declared = meta["itemGroupOID"].removeprefix("IG.")
    return _Raw(form, columns, values, numeric, labels, declared, hint, None, None, records)


def _json_head(text: str) -> dict[str, Any] | None:
    """The metadata of a Dataset-JSON text read up to its rows, which are left unparsed; None
    when the text ends first or the metadata comes after the rows."""
    decoder = json.JSONDecoder()
    space = re.compile(r"\s*")
    nested = {"clinicalData", "referenceData", "itemGroupData"}

    def walk(at: int, depth: int, inside_groups: bool) -> tuple[dict[str, Any], int, bool]:
        out: dict[str, Any] = {}
        at = space.match(text, at + 1).end()
        if text[at] == "}":
            return out, at + 1, False
        while True:
            key, at = decoder.raw_decode(text, at)
            at = space.match(text, at).end()
            if text[at] != ":":
                raise ValueError("no colon")
            at = space.match(text, at + 1).end()
            if key in ("rows", "itemData"):
                return out, at, True
            if (key in nested or inside_groups) and text[at] == "{" and depth < 4:
                value, at, stopped = walk(at, depth + 1, key == "itemGroupData")
                out[key] = value
                if stopped:
                    return out, at, True
            else:
                out[key], at = decoder.raw_decode(text, at)
            at = space.match(text, at).end()
            if text[at] == ",":
                at = space.match(text, at + 1).end()
            elif text[at] == "}":
                return out, at + 1, False
            else:
                raise ValueError("no comma")

    try:
        start = space.match(text.lstrip("\ufeff")).end()
        text = text.lstrip("\ufeff")
        if text[start] != "{":
            return None
        head, _, stopped = walk(start, 0, False)
    except (ValueError, IndexError):
        return None
    if not stopped:
        return None
    if "clinicalData" in head or "referenceData" in head:
        data = head.get("clinicalData") or head.get("referenceData") or {}
        groups = data.get("itemGroupData") or {}
        group = next(iter(groups.values()), {}) if len(groups) == 1 else {}
        if "items" not in group:
            return None
        return head
    if "columns" not in head or "name" not in head:
        return None
    head["rows"] = None
    return head


def _read_ndjson(content: bytes, form: str) -> _Raw:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as error:
        raise UnreadableFile(f"is not UTF-8 text, as Dataset-JSON must be ({error})") from error
    lines = text.splitlines()
    if not lines:
        raise UnreadableFile("is empty")
    meta = _json_object(lines[0], "line 1, the metadata")
    body = [(n, line) for n, line in enumerate(lines[1:], start=2) if line.strip()]
    try:
        rows = json.loads("[" + ",".join(line for _, line in body) + "]")
    except json.JSONDecodeError:
        for number, line in body:  # which line: looked for only when something is wrong
            try:
                json.loads(line)
            except json.JSONDecodeError as error:
                raise UnreadableFile(
                    f"is not valid Dataset-JSON NDJSON: line {number} is not JSON ({error.msg})"
                ) from error
        raise UnreadableFile("is not valid Dataset-JSON NDJSON") from None
    return _json_raw(meta, form=form, rows=rows)


def _peek_csv(path: Path) -> _Raw:
    """The header and the first rows of a CSV, for its DOMAIN/RDOMAIN values."""
    with path.open("rb") as fh:
        raw = fh.read(1 << 18)
    if len(raw) == 1 << 18:
        raw = raw[: raw.rfind(b"\n") + 1] or raw  # whole lines only
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].strip():
        raise UnreadableFile("not a CDISC dataset: line 1 holds no column names")
    first = lines[0]
    separator = max(",;\t", key=lambda s: (len(next(csv.reader(io.StringIO(first), delimiter=s))),
                                           s == ","))  # fmt: skip
    try:
        rows = list(csv.reader(io.StringIO("".join(lines)), delimiter=separator))
    except csv.Error as error:
        raise UnreadableFile(f"cannot be read as CSV: {error}") from error
    header = [h.strip().upper() for h in rows[0]]
    index = _index_column(header, [r[0] if r else "" for r in rows[1:]])
    header = header[index:]
    body = [r[index:] for r in rows[1:] if any(x.strip() for x in r)]
    return _csv_raw(header, body)


def _read_csv(path: Path) -> _Raw:
    problems: list[Problem] = []
    frame = read_whole(path, problems)
    refused = [p for p in problems if not p.is_warning]
    if refused:
        first = refused[0]
        raise UnreadableFile(
            f"cannot be read as a CDISC dataset: line {first.row} has {first.reason} "
            f"({len(refused)} such lines)"
        )
    header = [str(c).strip().upper() for c in frame.columns]
    header = ["" if c.startswith("UNNAMED: ") else c for c in header]
    first = frame.iloc[:, 0].tolist() if len(frame.columns) else []
    index = _index_column(header, first)
    # The columns as pandas arrays, not Python lists: a million-row LB stays in Arrow.
    body_columns = [frame.iloc[:, i].array for i in range(index, len(frame.columns))]
    raw = _csv_raw(header[index:], None)
    raw.values = body_columns
    domain_at = raw.columns.index("DOMAIN") if "DOMAIN" in raw.columns else None
    rdomain_at = raw.columns.index("RDOMAIN") if "RDOMAIN" in raw.columns else None
    raw.domain = _most_common(body_columns[domain_at]) if domain_at is not None else None
    raw.rdomain = _most_common(body_columns[rdomain_at]) if rdomain_at is not None else None
    raw.records = None
    return raw


def _index_column(header: list[str], values: list[str]) -> int:
    """1 when the first column is a row counter an export added (R's unnamed one, SAS's OBS)."""
    if not header or header[0] not in ("", "OBS"):
        return 0
    if header[0] == "":
        return 1
    return 1 if all(v.strip().isdigit() for v in values) else 0


def _csv_raw(header: list[str], body: list[list[str]] | None) -> _Raw:
    if any(not h for h in header):
        raise UnreadableFile("not a CDISC dataset: a column has no name")
    raw = _Raw("csv", header, None, None, {})
    if body is not None:
        for key, column in (("domain", "DOMAIN"), ("rdomain", "RDOMAIN")):
            if column in header:
                at = header.index(column)
                setattr(raw, key, _most_common(r[at] for r in body if len(r) > at))
    return raw


def _most_common(values: Iterable[Any]) -> str | None:
    if isinstance(values, pd.api.extensions.ExtensionArray):  # a CSV column: count in Arrow
        counts = pd.Series(values).str.strip().str.upper().replace("", pd.NA).value_counts()
        return str(counts.index[0]) if len(counts) else None
    counted = Counter(str(v).strip().upper() for v in values if v is not None and str(v).strip())
    return counted.most_common(1)[0][0] if counted else None


# ------------------------------------------------------------------------------------------------
# Values


def _numbers(values: Sequence[Any], strict: bool, column: str) -> np.ndarray | None:
    """float64 with NaN for missing values. A value that is no number raises (`strict`, typed
    files) or gives None (a CSV, whose column then stays text)."""
    if isinstance(values, np.ndarray) and values.dtype == np.float64:
        return values
    if isinstance(values, pd.api.extensions.ExtensionArray) and pd.api.types.is_string_dtype(
        values.dtype
    ):
        text = _text(values).array._pa_array.combine_chunks()  # stripped, "" as null
        missing = pc.match_substring_regex(text, r"^(?:\.|\.[A-Z_]|NA|NAN|NaN)$")
        text = pc.if_else(missing, pa.scalar(None, pa.string()), text)
        try:
            number = pc.cast(text, pa.float64())  # Arrow's parser: fast, and strict
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            return None  # a CSV column with a value that is no number stays text
        return number.to_numpy(zero_copy_only=False)
    try:
        return np.array(values, dtype="float64")  # None -> NaN, "1.5" -> 1.5
    except (TypeError, ValueError):
        pass
    out = np.empty(len(values), dtype="float64")
    for number, value in enumerate(values):
        if value is None or isinstance(value, bool):
            out[number] = np.nan if value is None else float(value)
            continue
        if isinstance(value, str):
            text = value.strip()
            if _CSV_MISSING.fullmatch(text):
                out[number] = np.nan
                continue
            value = text
        try:
            out[number] = float(value)
        except (TypeError, ValueError):
            if strict:
                raise UnreadableFile(
                    f"is typed numeric in column {column}, but record {number + 1} holds no number"
                ) from None
            return None
    return out


def _text(values: Sequence[Any]) -> pd.Series:
    """pandas "string" values, stripped, with <NA> for an empty or missing one."""
    if isinstance(values, pd.api.extensions.ExtensionArray) and pd.api.types.is_string_dtype(
        values.dtype
    ):
        arrow = values.__arrow_array__() if hasattr(values, "__arrow_array__") else None
        if arrow is None:
            arrow = pa.array(np.asarray(values, dtype=object), type=pa.string(), from_pandas=True)
        if isinstance(arrow, pa.ChunkedArray):
            arrow = arrow.combine_chunks()
        array = pc.utf8_trim_whitespace(arrow.cast(pa.string()))
        array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
        return pd.Series(pd.arrays.ArrowStringArray(array))
    try:
        array = pa.array(values, type=pa.string(), from_pandas=True)
    except (pa.ArrowTypeError, pa.ArrowInvalid):  # numbers among the text: written as text
        texts = [v if isinstance(v, str) or v is None else _as_text(v) for v in values]
        array = pa.array(texts, type=pa.string(), from_pandas=True)
    array = pc.utf8_trim_whitespace(array)
    array = pc.if_else(pc.equal(array, ""), pa.scalar(None, pa.string()), array)
    return pd.Series(pd.arrays.ArrowStringArray(array))


def _as_text(value: Any) -> str | None:
    if isinstance(value, float):
        if np.isnan(value):
            return None
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# ------------------------------------------------------------------------------------------------
# XML


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: ET.Element, name: str) -> str | None:
    if name in element.attrib:
        return element.attrib[name]
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return None


def _description(element: ET.Element) -> str | None:
    """The text of the element's Description (the English one when there are several)."""
    for child in element:
        if _local(child.tag) == "Description":
            return _translated(child)
    return None


def _translated(element: ET.Element) -> str | None:
    texts = [t for t in element if _local(t.tag) == "TranslatedText" and t.text]
    english = [t for t in texts if (_attr(t, "lang") or "en").lower().startswith("en")]
    chosen = (english or texts)[:1]
    return chosen[0].text.strip() if chosen else None
