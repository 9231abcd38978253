"""Read an SDTM or ADaM package into Carta tables: which datasets are read, in which order, and
what every record of every dataset became (accepted into a table, merged into its parent, or
refused with the reason)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from carta.ingest import personal
from carta.ingest.carta_format import TableFile
from carta.ingest.cdisc import datasets as cdisc_datasets
from carta.ingest.cdisc import domains
from carta.ingest.cdisc.datasets import Dataset
from carta.ingest.cdisc.package import find_subjects, merge_supplemental
from carta.ingest.problems import Problem

FINDINGS = ("LB", "VS", "QS", "FT", "RS")
READ = ("DM", "ADSL", "EX", "EC", "CM", "AE", "ADAE", *FINDINGS)
# In this order: DM (the patients and their study) first, exposure (day 0) before the rest.
ORDER = {name: i for i, name in enumerate(READ)}


@dataclass
class DatasetReading:
    """One dataset file: the tables its records became, and how many records it had."""

    path: Path
    name: str
    records: int
    tables: list[TableFile] = field(default_factory=list)
    merged: int = 0  # SUPP-- records merged into their parent
    problems: list[Problem] = field(default_factory=list)  # file-level problems
    notes: list[str] = field(default_factory=list)
    frame: pd.DataFrame | None = None  # the records as read, for the quarantine file
    first_line: int = 1  # what the first record is called: record 1, or line 2 of a CSV


def is_bds(dataset: Dataset) -> bool:
    """An ADaM BDS dataset of measurements (ADLB…, ADVS…): PARAMCD and AVAL by analysis day. A
    time-to-event dataset (ADTTE: CNSR) is BDS too, but its AVAL is a duration, not read."""
    frame = dataset.frame
    return (dataset.standard == "ADaM" and {"PARAMCD", "AVAL", "ADY"} <= set(frame)
            and "CNSR" not in frame)  # fmt: skip


def read_package(
    paths: list[Path], day0_treatment: str | None = None
) -> tuple[list[DatasetReading], list[str]]:
    """Every CDISC dataset among `paths` (folders are read whole) as Carta tables, with notes on
    the package (day 0 per patient, datasets skipped)."""
    found: dict[str, Dataset] = {}  # by dataset name; a second file of one name gets "NAME#2"
    notes: list[str] = []
    readings: list[DatasetReading] = []
    for path in paths:
        if path.is_dir():
            sets, folder_notes = cdisc_datasets.read_folder(path)
            notes += folder_notes
            readings += _unread_files(path, sets)
        else:
            sets = [cdisc_datasets.read_dataset(path)]
        for dataset in sets:
            if dataset.standard == "SEND":
                refused = Problem(dataset.path.name, None, None, None,
                                  f"an animal study (SEND): not patients; its {dataset.records} "
                                  "records are not imported")  # fmt: skip
                readings.append(DatasetReading(dataset.path, dataset.name, dataset.records,
                                               problems=[refused]))  # fmt: skip
                continue
            key, number = dataset.name, 1
            while key in found:
                number += 1
                key = f"{dataset.name}#{number}"
            found[key] = dataset
    subjects = find_subjects(found, day0_treatment)
    if day0_treatment:
        subjects.day0_treatment = day0_treatment
    notes += _day0_warnings(found, subjects)
    notes += subjects.notes
    folder = next((p.name for p in paths if p.is_dir()), paths[0].parent.name if paths else "")
    supplements = {name[4:]: d for name, d in found.items() if name.startswith("SUPP")}
    for name in sorted(found, key=lambda n: (ORDER.get(n, 50), n)):
        dataset = found[name]
        reading = DatasetReading(dataset.path, name, dataset.records, frame=dataset.frame)
        if name.startswith("SUPP"):
            continue  # merged into its parent below, and accounted for there
        supp = supplements.get(name)
        if supp is not None:
            frame, merged, problems = merge_supplemental(dataset, supp)
            dataset = Dataset(dataset.path, dataset.name, dataset.standard, dataset.format, frame,
                              dataset.labels, dataset.records)  # fmt: skip
            shift = 1 if supp.format == "csv" else 0  # a CSV's records at their line in the file
            problems = [replace(p, row=p.row + shift) if p.row else p for p in problems]
            readings.append(
                DatasetReading(supp.path, supp.name, supp.records, merged=merged, problems=problems,
                               notes=[f"merged into {name}: {merged} of {supp.records} records"],
                               frame=supp.frame, first_line=1 + shift)
            )  # fmt: skip
        mapper = _mapper(dataset)
        if mapper is None:
            reading.problems.append(
                Problem(dataset.path.name, None, None, None,
                        f"dataset {name} is not read by Carta ({len(dataset.frame)} records "
                        "not imported); Carta reads " + ", ".join(READ) + ", SUPP-- and ADaM "
                        "BDS datasets (PARAMCD, AVAL)")
            )  # fmt: skip
        elif "USUBJID" not in dataset.frame:
            reading.problems.append(
                Problem(dataset.path.name, None, "USUBJID", None, "no USUBJID column")
            )
        else:
            reading.tables = mapper(dataset, subjects, folder)
            # Personal columns (BRTHDTC, INVNAM, a sponsor's PATNAME …) are refused by name,
            # once per dataset, in the report of its first table.
            refused_columns = [
                Problem(dataset.path.name, None, str(column), None, personal.REASON)
                for column in dataset.frame.columns
                if personal.is_personal(column)
            ]
            target = reading.tables[0].problems if reading.tables else reading.problems
            target[:0] = refused_columns
            partial = sum(
                int(table.rows[column].notna().sum())
                for table in reading.tables
                for column in ("day_precision", "start_precision", "onset_precision")
                if column in table.rows
            )
            if partial:
                notes.append(f"{name}: {partial} record(s) with a partial date (year or month "
                             "only), kept as a range of days with no exact day")  # fmt: skip
            if dataset.format == "csv":  # a CSV's records are reported at their line in the file
                reading.first_line = 2
                for table in reading.tables:
                    table.rows["line"] = table.rows["line"].where(
                        table.rows["line"] == 0, table.rows["line"] + 1
                    )
                    table.problems = [replace(p, row=p.row + 1) if p.row else p
                                      for p in table.problems]  # fmt: skip
        readings.append(reading)
    for name, supp in supplements.items():
        if name not in found:
            readings.append(DatasetReading(supp.path, supp.name, supp.records, problems=[
                Problem(supp.path.name, None, None, None,
                        f"its parent dataset {name} is not in the package")],
                frame=supp.frame))  # fmt: skip
    return readings, notes


def _unread_files(folder: Path, read: list[Dataset]) -> list[DatasetReading]:
    """The files of a package folder that are no dataset Carta reads, reported as refused: not
    the other forms of a dataset read (same file stem), not define.xml."""
    stems = {d.path.stem.lower() for d in read}
    out = []
    for path in sorted(folder.iterdir()):
        if (path.is_dir() or path.name.startswith(".") or path.suffix.lower() == ".xml"
                or path.stem.lower() in stems):  # fmt: skip
            continue
        out.append(DatasetReading(path, path.name, 0, problems=[
            Problem(path.name, None, None, None,
                    f"not a dataset Carta reads: {cdisc_datasets.WHAT_CARTA_READS}")]))  # fmt: skip
    return out


def _day0_warnings(found: dict[str, Dataset], subjects) -> list[str]:
    """A warning when a package has exposure records but no CAR T product was recognised in
    them: day 0 then falls back to RFXSTDTC, often the first lymphodepletion dose."""
    rules = subjects.frame.get("rule", [])
    if any(str(r).startswith("the CAR T infusion") for r in rules):
        return []
    treatments = sorted({
        str(t) for name in ("EX", "EC") if name in found
        for t in found[name].frame.get(f"{name}TRT", []) if isinstance(t, str)
    })  # fmt: skip
    if not treatments:
        return []
    return [
        "warning: no CAR T product recognised among the exposure treatments ("
        + ", ".join(treatments[:10])
        + (", …" if len(treatments) > 10 else "")
        + "): day 0 is the first study treatment instead. Name the product with "
        "--day0-treatment (the Data page: CAR T product in EX) if one of these is it."
    ]


def domain_of(dataset: Dataset) -> str:
    """The SDTM domain of a dataset: its DOMAIN column where it has one, so that split datasets
    (LBUR, QSCO: SDTMIG §4.1.7) are read as their domain; else the dataset's name."""
    if dataset.standard == "SDTM" and "DOMAIN" in dataset.frame:
        values = dataset.frame["DOMAIN"].dropna().unique()
        if len(values) == 1:
            return str(values[0]).upper()
    return dataset.name


def _mapper(dataset: Dataset):
    name = domain_of(dataset)
    if name in ("DM", "ADSL"):
        return domains.patients
    if name in ("EX", "EC"):
        return lambda d, s, _: domains.exposure(d, s)
    if name == "CM":
        return lambda d, s, _: domains.medications(d, s)
    if name in ("AE", "ADAE"):
        return lambda d, s, _: domains.adverse_events(d, s)
    if name in FINDINGS or is_bds(dataset):
        return lambda d, s, _: domains.findings(d, s)
    return None


def writable(frame: pd.DataFrame) -> pd.DataFrame:
    """A dataset's records without their date and identifying columns (for quarantine files):
    by name (--DTC, CDASH --DAT, BRTHDTC, INVNAM …) and by content (any text column holding a
    date in any common form, such as AEENTPT in some packages or a SUPP QVAL "24FEB2023")."""
    return personal.for_quarantine(frame)
