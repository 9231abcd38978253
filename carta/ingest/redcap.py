"""REDCap: the CAR T follow-up project Carta ships (data/redcap/) and the records exports of it.

The project is defined here and written to data/redcap/ by `write_project()` (run
`python -m carta.ingest.redcap`): a data dictionary in REDCap's own layout, the events, the
instrument–event mapping and the repeating instruments. Its observation fields are named by the
Carta parameter codes in lower case (`ck`, `crp`, `cd19`, `cmas`), one per code of
`carta.dictionary.parameters()`, read at run time, so a code added to the dictionary has its field.

A records export of the project (CSV, REDCap's "raw" or "labels" layout, variable names or field
labels as headers) is read with no mapping file into Carta's tables: sources, patients,
observations, events and adverse_events. What REDCap's layout brings is taken as it comes:

- the record id (always the first column) is the patient's pseudonymous id, `patient_id`;
- `redcap_event_name` (longitudinal projects): the visit; a value with neither a date nor a day
  takes the event's name as its `timing` in words;
- `redcap_repeat_instrument` / `redcap_repeat_instance`: one adverse event or medication a line;
- checkbox fields as one column per choice, `field___code`, with 1/0 or Checked/Unchecked;
- choices as their codes ("raw") or their labels ("labels"), mapped back through the dictionary.

Dates become study days against the patient's infusion date (`infusion_date`, day 0) and are
never kept: not in rows, notes, problems or their values. A partial, impossible or otherwise
written date is refused with the reason. A field flagged as an identifier in the dictionary
(`Identifier?` = y), a column named like a personal identifier, a date Carta does not use and the
REDCap bookkeeping columns (form status, data access group, survey identifier and timestamps) are
refused whole: nothing of them is stored. Every cell with a value is accounted for: read into a
row, or refused with a reason (`account()` lists each cell's fate).

Another REDCap project comes in with a mapping (`name,code`): a field name mapped to a Carta
parameter code, or to a field of this project (`visit_day`, `infusion_date`, …).
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from carta import dictionary as carta_dictionary
from carta.display import unit_text
from carta.ingest import personal
from carta.ingest.carta_format import Problem, TableFile, sha256_of
from carta.ingest.problems import DATE_IN_TEXT
from carta.ingest.reading import UnreadableFile, header, read_whole
from carta.schema import columns, required_columns, table_columns

PROJECT_DIR = carta_dictionary.REFERENCE_DIR.parent / "redcap"
DICTIONARY_FILE = PROJECT_DIR / "carta_car_t_followup_dictionary.csv"
EVENTS_FILE = PROJECT_DIR / "events.csv"
MAPPING_FILE = PROJECT_DIR / "instrument_event_mapping.csv"
REPEATING_FILE = PROJECT_DIR / "repeating_instruments.csv"

# REDCap's data dictionary columns, in REDCap's order and spelling.
DICTIONARY_COLUMNS = (
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note",
    "Text Validation Type OR Show Slider Number", "Text Validation Min", "Text Validation Max",
    "Identifier?", "Branching Logic (Show field only if...)", "Required Field?",
    "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name", "Matrix Ranking?",
    "Field Annotation",
)  # fmt: skip
TABLES = ("sources", "patients", "observations", "events", "adverse_events")

FORMS = ("enrolment", "treatment", "labs", "vitals", "scores", "adverse_events", "medications")
_FOLLOW_UP = ("labs", "vitals", "scores", "adverse_events", "medications")
REPEATING_FORMS = ("adverse_events", "medications")
# (event name, unique event name, instruments); the unscheduled visit is a repeating event.
EVENTS = (
    ("Baseline", "baseline_arm_1", FORMS),
    ("Day 7", "day_7_arm_1", _FOLLOW_UP),
    ("Day 14", "day_14_arm_1", _FOLLOW_UP),
    ("Day 28", "day_28_arm_1", _FOLLOW_UP),
    ("Month 3", "month_3_arm_1", _FOLLOW_UP),
    ("Month 6", "month_6_arm_1", _FOLLOW_UP),
    ("Month 12", "month_12_arm_1", _FOLLOW_UP),
    ("Unscheduled", "unscheduled_arm_1", ("labs", "vitals", "scores")),
)
REPEATING_EVENTS = ("unscheduled_arm_1",)

# A date field and the study-day field that may stand in for it; infusion_date is day 0 itself.
DATE_FIELDS = {
    "infusion_date": None,
    "follow_up_date": "follow_up_day",
    "apheresis_date": "apheresis_day",
    "ld_start_date": "ld_start_day",
    "ld_end_date": "ld_end_day",
    "visit_date": "visit_day",
    "vitals_date": "vitals_day",
    "score_date": "score_day",
    "ae_onset_date": "ae_onset_day",
    "ae_end_date": "ae_end_day",
    "med_start_date": "med_start_day",
    "med_end_date": "med_end_day",
}
QUALIFIERS = {"lt": "<", "gt": ">", "nd": "not_detected"}
# A serology result as the laboratory reads it (observations.interpretation).
INTERPRETATIONS = {"neg": "negative", "bord": "borderline", "pos": "positive"}
LD_UNIT = "mg/m2"


# --- the project ---------------------------------------------------------------------------------


def _field(name, form, ftype, label, **extra) -> dict[str, str]:
    keys = {
        "section": "Section Header", "choices": "Choices, Calculations, OR Slider Labels",
        "note": "Field Note", "validation": "Text Validation Type OR Show Slider Number",
        "vmin": "Text Validation Min", "vmax": "Text Validation Max",
        "identifier": "Identifier?", "branching": "Branching Logic (Show field only if...)",
        "required": "Required Field?", "annotation": "Field Annotation",
    }  # fmt: skip
    row = dict.fromkeys(DICTIONARY_COLUMNS, "")
    row |= {"Variable / Field Name": name, "Form Name": form, "Field Type": ftype,
            "Field Label": label}  # fmt: skip
    row |= {keys[k]: str(v) for k, v in extra.items()}
    return row


def _date(name, form, label, day_field, **extra) -> list[dict[str, str]]:
    """A date and the study day that may be given instead of it."""
    note = "Carta turns it into the study day against infusion_date and keeps no date"
    return [
        _field(name, form, "text", f"{label}: date", validation="date_ymd", note="YYYY-MM-DD",
               annotation=note, **extra),
        _field(day_field, form, "text", f"{label}: study day", validation="integer",
               note="days after the infusion (day 0; before it negative), instead of the date"),
    ]  # fmt: skip


def _choices(pairs) -> str:
    return " | ".join(f"{code}, {label}" for code, label in pairs)


DIAGNOSES = (
    ("jdm", "Juvenile dermatomyositis"), ("dm", "Dermatomyositis"),
    ("asyn", "Antisynthetase syndrome"), ("imnm", "Immune-mediated necrotising myopathy"),
    ("sle", "Systemic lupus erythematosus"), ("ssc", "Systemic sclerosis"),
    ("mg", "Myasthenia gravis"), ("other", "Other"),
)  # fmt: skip
AUTOANTIBODIES = (
    ("nxp2", "anti-NXP2"), ("tif1g", "anti-TIF1-gamma"), ("mda5", "anti-MDA5"),
    ("mi2", "anti-Mi-2"), ("sae", "anti-SAE"), ("jo1", "anti-Jo-1"), ("pl7", "anti-PL-7"),
    ("pl12", "anti-PL-12"), ("srp", "anti-SRP"), ("hmgcr", "anti-HMGCR"),
    ("dsdna", "anti-dsDNA"), ("scl70", "anti-Scl-70"), ("rnap3", "anti-RNA polymerase III"),
    ("none", "None detected"), ("other", "Other"),
)  # fmt: skip
LD_DRUGS = (("cy", "Cyclophosphamide"), ("flu", "Fludarabine"), ("benda", "Bendamustine"),
            ("other", "Other"))  # fmt: skip
GRADES = (("0", "Grade 0 (assessed and not observed)"), ("1", "Grade 1"), ("2", "Grade 2"),
          ("3", "Grade 3"), ("4", "Grade 4"), ("5", "Grade 5 (death)"))  # fmt: skip
GRADING_SYSTEMS = (("astct2019", "ASTCT 2019"), ("ctcae50", "CTCAE v5.0"),
                   ("ctcae403", "CTCAE v4.03"), ("icaht2023", "ICAHT 2023"),
                   ("other", "Other"))  # fmt: skip
SEVERITIES = (("mild", "Mild"), ("moderate", "Moderate"), ("severe", "Severe"),
              ("life_threatening", "Life-threatening"), ("fatal", "Fatal"))  # fmt: skip
DOSE_BASES = (("total", "Total over the course"), ("per_day", "Per day"),
              ("per_dose", "Per dose"))  # fmt: skip
QUALIFIER_CHOICES = (("lt", "Below the assay limit (the value is the limit)"),
                     ("gt", "Above the assay limit (the value is the limit)"),
                     ("nd", "Not detected (no value)"))  # fmt: skip
INTERPRETATION_CHOICES = (("neg", "Negative"), ("bord", "Borderline"), ("pos", "Positive"))
_DOMAIN_SECTIONS = {
    "enzyme": "Enzymes", "inflammation": "Inflammation", "hematology": "Blood count",
    "cellular": "CAR T, B and T cells", "immunoglobulin": "Immunoglobulins",
    "chemistry": "Chemistry", "coagulation": "Coagulation", "urinalysis": "Urinalysis",
    "vital": "Vital signs", "score": "Scores", "serology": "Serology",
    "function": "Lung function",
}  # fmt: skip


def field_name(code: str) -> str:
    """The REDCap field of a Carta parameter code: the code in lower case, other characters than
    letters and digits as one underscore ('CK' -> 'ck', 'PARENT_GA' -> 'parent_ga')."""
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]", "_", code.lower())).strip("_")
    return name if name[:1].isalpha() else f"p_{name}"


def _static_fields() -> list[dict[str, str]]:
    e, t, ae, med = "enrolment", "treatment", "adverse_events", "medications"
    return [
        _field("record_id", e, "text", "Record ID",
               note="the patient's pseudonymous study id, e.g. SITE-001; never a name or a "
                    "hospital or medical record number",
               annotation="Carta: patient_id"),
        _field("source_id", e, "text", "Source", required="y",
               note="Carta source id of the site or study, e.g. site-a",
               annotation="Carta: patients.source_id and the source_id of every row"),
        _field("source_citation", e, "notes", "Source citation",
               note="how Carta cites the source; once per source, unless Carta has it already",
               annotation="Carta: sources.citation (kind site)"),
        _field("cohort", e, "text", "Cohort", required="y", note="e.g. Site A JDM",
               annotation="Carta: patients.cohort"),
        _field("sex", e, "radio", "Sex", choices=_choices((("M", "Male"), ("F", "Female")))),
        _field("age_years", e, "text", "Age at infusion (years)", validation="number",
               vmin=0, vmax=120),
        _field("race", e, "text", "Race (as reported)"),
        _field("diagnosis", e, "dropdown", "Diagnosis", choices=_choices(DIAGNOSES)),
        _field("diagnosis_other", e, "text", "Diagnosis if other",
               branching="[diagnosis] = 'other'"),
        _field("autoantibody", e, "radio", "Autoantibody", choices=_choices(AUTOANTIBODIES)),
        _field("autoantibody_other", e, "text", "Autoantibody if other",
               branching="[autoantibody] = 'other'"),
        _field("disease_duration_years", e, "text", "Disease duration at infusion (years)",
               validation="number", vmin=0),
        _field("prior_therapies", e, "notes", "Treatment lines before CAR T",
               note="no dates: write the order or the study days"),
        _field("product", e, "text", "CAR T product"),
        _field("cell_dose_per_kg", e, "text", "CAR T cells infused per kg body weight",
               validation="number", vmin=0, note="cells/kg, e.g. 1000000"),
        _field("infusion_date", e, "text", "Date of the CAR T-cell infusion (day 0)",
               validation="date_ymd", note="YYYY-MM-DD", required="y",
               annotation="Carta: day 0; every date of the record becomes a study day against it "
                          "and no date is kept"),
        *_date("follow_up_date", e, "Last follow-up", "follow_up_day"),
        *_date("apheresis_date", t, "Leukapheresis", "apheresis_day"),
        _field("ld_drug", t, "checkbox", "Lymphodepletion drugs", choices=_choices(LD_DRUGS),
               section="Lymphodepletion"),
        _field("ld_other", t, "text", "Other lymphodepletion drug",
               branching="[ld_drug(other)] = '1'"),
        *_date("ld_start_date", t, "First day of lymphodepletion", "ld_start_day"),
        *_date("ld_end_date", t, "Last day of lymphodepletion", "ld_end_day"),
        *[
            _field(f"ld_{code}_dose", t, "text", f"{label}: total dose (mg/m²)",
                   validation="number", vmin=0, note="mg/m², total over the course",
                   branching=f"[ld_drug({code})] = '1'")
            for code, label in LD_DRUGS if code != "other"
        ],
        _field("ld_other_dose", t, "text", "Other drug: total dose", validation="number",
               vmin=0, note="total over the course, in the unit below",
               branching="[ld_drug(other)] = '1'"),
        _field("ld_other_dose_unit", t, "text", "Other drug: unit of the dose",
               note="e.g. mg/m2, mg/kg", branching="[ld_drug(other)] = '1'"),
        _field("ae_term", ae, "text", "Adverse event", required="y",
               note="e.g. Cytokine release syndrome, ICANS, Neutropenia, Infection"),
        _field("ae_grade", ae, "radio", "Grade", choices=_choices(GRADES)),
        _field("ae_grading_system", ae, "dropdown", "Grading system",
               choices=_choices(GRADING_SYSTEMS)),
        _field("ae_grading_other", ae, "text", "Grading system if other",
               branching="[ae_grading_system] = 'other'"),
        _field("ae_severity", ae, "radio", "Severity (when not graded)",
               choices=_choices(SEVERITIES), note="as the source words it; Carta never grades it"),
        *_date("ae_onset_date", ae, "Onset", "ae_onset_day"),
        *_date("ae_end_date", ae, "Resolution", "ae_end_day"),
        _field("ae_serious", ae, "yesno", "Serious adverse event"),
        _field("ae_treatment", ae, "text", "Treatment given for it", note="e.g. tocilizumab"),
        _field("ae_organ", ae, "text", "Organ or site", note="e.g. skin, kidney (LICATS)"),
        _field("med_name", med, "text", "Medication", required="y",
               note="e.g. Intravenous immunoglobulin, Tocilizumab"),
        *_date("med_start_date", med, "Start", "med_start_day"),
        *_date("med_end_date", med, "End", "med_end_day"),
        _field("med_dose", med, "text", "Dose", validation="number", vmin=0),
        _field("med_dose_unit", med, "text", "Unit of the dose", note="e.g. g/kg, mg/kg"),
        _field("med_dose_basis", med, "radio", "The dose counts", choices=_choices(DOSE_BASES)),
    ]  # fmt: skip


def form_of(domain: str) -> str:
    """The instrument of a parameter domain: scores, vital signs, or the laboratory values."""
    return {"score": "scores", "vital": "vitals"}.get(domain, "labs")


# The visit date and day of each instrument of observations.
VISIT_FIELDS = {
    "labs": ("visit_date", "visit_day"),
    "vitals": ("vitals_date", "vitals_day"),
    "scores": ("score_date", "score_day"),
}


def project_dictionary(params: pd.DataFrame | None = None) -> pd.DataFrame:
    """The project's data dictionary in REDCap's layout: the fixed instruments, and the labs,
    vitals and scores instruments with one field per parameter code of the dictionary (read at
    run time), grouped by domain under section headers."""
    params = carta_dictionary.parameters() if params is None else params
    # Domains in the order of their first parameter, then each domain's parameters by sort.
    first = params.groupby("domain")["sort"].transform("min")
    params = params.assign(_first=first).sort_values(["_first", "sort"], kind="stable")
    static = _static_fields()
    enrolment_treatment = [r for r in static if r["Form Name"] in ("enrolment", "treatment")]
    rest = [r for r in static if r["Form Name"] not in ("enrolment", "treatment")]
    labels = {"labs": "Blood or urine sample", "vitals": "Vital signs", "scores": "Assessment"}
    forms = {
        form: _date(date, form, labels[form], day) for form, (date, day) in VISIT_FIELDS.items()
    }
    sections: set[tuple[str, str]] = set()
    for p in params.itertuples(index=False):
        form = form_of(p.domain)
        name = field_name(p.code)
        unit = unit_text(p.unit)
        section = _DOMAIN_SECTIONS.get(p.domain, str(p.domain).capitalize())
        low = "" if pd.isna(p.scale_min) else f"{p.scale_min:g}"
        high = "" if pd.isna(p.scale_max) else f"{p.scale_max:g}"
        note = unit
        if low and high:
            note = f"{unit}, {low}–{high}"
        elif low:
            note = f"{unit}, {low} or more"
        scales = carta_dictionary.parameter_scales()
        scales = scales[scales["code"] == p.code]
        if not scales.empty:  # checked against the scale the next field names, at import
            high = f"{scales['scale_max'].max():g}"
            note += f" (another scale: name it in {name}_scale)"
        forms[form].append(
            _field(name, form, "text", p.label, validation="number", vmin=low or 0, vmax=high,
                   note=note, section="" if (form, section) in sections else section,
                   annotation=f"Carta: parameter {p.code}, in {p.unit}")
        )  # fmt: skip
        sections.add((form, section))
        if form == "labs":
            forms[form].append(
                _field(f"{name}_qual", form, "dropdown", f"{p.label}: beyond the assay limit",
                       choices=_choices(QUALIFIER_CHOICES),
                       annotation=f"Carta: qualifier of {p.code} (<, > or not detected)")
            )  # fmt: skip
        if not scales.empty:
            forms[form].append(
                _field(f"{name}_scale", form, "dropdown", f"{p.label}: scale",
                       choices=_choices((f"{m:g}", label) for m, label in
                                        zip(scales["scale_max"], scales["label"], strict=True)),
                       annotation=f"Carta: the scale {p.code} is recorded on (scale_max); "
                                  "empty: the dictionary's")
            )  # fmt: skip
        if p.domain == "serology":
            forms[form].append(
                _field(f"{name}_result", form, "dropdown", f"{p.label}: result",
                       choices=_choices(INTERPRETATION_CHOICES),
                       annotation=f"Carta: interpretation of {p.code} (negative, borderline or "
                                  "positive; the value may then be left empty)")
            )  # fmt: skip
    fields = [*enrolment_treatment, *forms["labs"], *forms["vitals"], *forms["scores"], *rest]
    names = [r["Variable / Field Name"] for r in fields]
    clashing = sorted({n for n in names if names.count(n) > 1})
    if clashing:
        raise ValueError(f"REDCap field names used twice: {', '.join(clashing)}")
    return pd.DataFrame(fields, columns=list(DICTIONARY_COLUMNS))


def events_frame() -> pd.DataFrame:
    """REDCap's events upload: event_name, arm_num, unique_event_name, custom_event_label."""
    return pd.DataFrame(
        [(name, 1, unique, "") for name, unique, _ in EVENTS],
        columns=["event_name", "arm_num", "unique_event_name", "custom_event_label"],
    )


def mapping_frame() -> pd.DataFrame:
    """REDCap's instrument–event mapping upload: arm_num, unique_event_name, form."""
    return pd.DataFrame(
        [(1, unique, form) for _, unique, forms in EVENTS for form in forms],
        columns=["arm_num", "unique_event_name", "form"],
    )


def repeating_frame() -> pd.DataFrame:
    """REDCap's repeating instruments and events upload: event_name, form_name,
    custom_form_label (an empty form_name makes the whole event repeat)."""
    rows = [
        (unique, form, "[ae_term]" if form == "adverse_events" else "[med_name]")
        for _, unique, forms in EVENTS
        for form in forms
        if form in REPEATING_FORMS
    ]
    rows += [(unique, "", "") for unique in REPEATING_EVENTS]
    return pd.DataFrame(rows, columns=["event_name", "form_name", "custom_form_label"])


def write_project(folder: Path = PROJECT_DIR) -> list[Path]:
    """Write the project's CSV files (the README is written by hand)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        DICTIONARY_FILE.name: project_dictionary(),
        EVENTS_FILE.name: events_frame(),
        MAPPING_FILE.name: mapping_frame(),
        REPEATING_FILE.name: repeating_frame(),
    }
    for name, frame in files.items():
        frame.to_csv(folder / name, index=False, lineterminator="\n", encoding="utf-8")
    return [folder / name for name in files]


# --- the project as the reader sees it -----------------------------------------------------------


@dataclass(frozen=True)
class Field:
    name: str
    form: str
    type: str
    label: str
    choices: tuple[tuple[str, str], ...]
    validation: str
    identifier: bool

    @property
    def is_date(self) -> bool:
        return self.type == "text" and self.validation.startswith(("date", "datetime"))


@dataclass(frozen=True)
class Project:
    fields: dict[str, Field]  # in dictionary order
    codes: dict[str, str]  # observation field -> parameter code
    units: dict[str, str]  # parameter code -> the dictionary unit
    specimens: dict[str, str]  # parameter code -> its specimen (urine for urinalysis, else blood)
    events: dict[str, str]  # unique event name -> event name
    forms: tuple[str, ...]

    @property
    def record_id(self) -> str:
        return next(iter(self.fields))


def load_project(dictionary: Path | None = None) -> Project:
    """The shipped project (generated from the parameter dictionary), or a site's own data
    dictionary as REDCap downloads it (for its Identifier? flags and added fields)."""
    frame = (
        project_dictionary()
        if dictionary is None
        else pd.read_csv(dictionary, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    )
    fields = {}
    for row in frame.to_dict("records"):
        name = row["Variable / Field Name"].strip()
        fields[name] = Field(
            name=name,
            form=row["Form Name"].strip(),
            type=row["Field Type"].strip().lower(),
            label=_plain(row["Field Label"]),
            choices=_parse_choices(row["Choices, Calculations, OR Slider Labels"]),
            validation=row["Text Validation Type OR Show Slider Number"].strip().lower(),
            identifier=row["Identifier?"].strip().lower() == "y",
        )
    params = carta_dictionary.parameters()
    codes = {field_name(c): c for c in params["code"] if field_name(c) in fields}
    forms = tuple(dict.fromkeys(f.form for f in fields.values()))
    return Project(
        fields=fields,
        codes=codes,
        units=dict(zip(params["code"], params["unit"], strict=True)),
        specimens={
            code: "urine" if domain == "urinalysis" else "blood"
            for code, domain in zip(params["code"], params["domain"], strict=True)
        },
        events={unique: name for name, unique, _ in EVENTS},
        forms=forms,
    )


def _parse_choices(text: str) -> tuple[tuple[str, str], ...]:
    pairs = []
    for part in str(text).split("|"):
        code, _, label = part.partition(",")
        if code.strip():
            pairs.append((code.strip(), _plain(label) if label else code.strip()))
    return tuple(pairs)


def _plain(label: object) -> str:
    """A label as REDCap writes it in a labels export's header: tags removed, spaces as one."""
    return " ".join(re.sub(r"<[^>]*>", " ", str(label)).split())


def _key(text: object) -> str:
    return " ".join(str(text).strip().lower().replace("_", " ").replace("-", " ").split())


# Fields the reader reads; a site dictionary's other fields are refused whole.
def _read_fields(project: Project) -> set[str]:
    static = {r["Variable / Field Name"] for r in _static_fields()}
    static |= {name for pair in VISIT_FIELDS.values() for name in pair}
    quals = {f"{name}_{part}" for name in project.codes for part in ("qual", "result", "scale")}
    return (static | set(project.codes) | quals) & set(project.fields)


# --- columns -------------------------------------------------------------------------------------


@dataclass
class Column:
    name: str  # as in the file
    kind: str  # record | event | instrument | instance | field | checkbox | observation | skip
    field: str | None = None  # the project field (field, checkbox)
    choice: str | None = None  # the checkbox choice code
    code: str | None = None  # the parameter code (observation; field of the labs or scores form)
    reason: str | None = None  # skip: why nothing of the column is stored (one problem a reason)


_STATUS = "REDCap form status (Incomplete, Unverified, Complete): not stored"
_SPECIAL_RAW = {
    "redcap_event_name": ("event", None),
    "redcap_repeat_instrument": ("instrument", None),
    "redcap_repeat_instance": ("instance", None),
    "redcap_data_access_group": ("skip", "REDCap data access group: not stored (the source is "
                                         "the enrolment form's source_id)"),
    "redcap_survey_identifier": ("skip", "REDCap survey identifier: not stored"),
}  # fmt: skip
_SPECIAL_LABELS = {
    "event name": "redcap_event_name",
    "repeat instrument": "redcap_repeat_instrument",
    "repeat instance": "redcap_repeat_instance",
    "data access group": "redcap_data_access_group",
    "survey identifier": "redcap_survey_identifier",
}
_TIMESTAMP = "a REDCap survey timestamp (a date): nothing of it is stored"
_PERSONAL = ("identifies a person; refused, and nothing of this column is stored (Carta keeps "
             "pseudonymous ids and study days only)")  # fmt: skip
_IDENTIFIER = ("flagged as an identifier in the data dictionary (Identifier? y): refused, and "
               "nothing of this column is stored")  # fmt: skip
_UNUSED_DATE = "a date Carta does not use: nothing of it is stored (Carta keeps no dates)"
_UNREAD = "a field Carta does not read: nothing of it is stored"
_UNKNOWN = ("not a field of the Carta REDCap project, nor named by the mapping: nothing of it is "
            "stored (a mapping file can name a parameter)")  # fmt: skip


def _personal(name: str) -> bool:
    return personal.is_personal(name)  # the one rule of every reader


def resolve_columns(names: list[str], project: Project, lookup: dict[str, str]) -> list[Column]:
    """What each column of an export is: raw variable names or labels, per column."""
    readable = _read_fields(project)
    labels = _label_index(project)
    params = set(project.units)
    out = [Column(names[0], "record")]
    for name in names[1:]:
        column = _raw_column(name, project, readable)
        if column is None:
            column = _label_column(name, project, readable, labels)
        if column is None:
            target = carta_dictionary.resolve_code(name.strip(), lookup)
            if _personal(name):
                column = Column(name, "skip", reason=_PERSONAL)
            elif target in params:
                column = Column(name, "observation", code=target)
            elif target in project.fields and target in readable and target != name:
                column = _field_column(name, project.fields[target], project, readable)
            else:
                column = Column(name, "skip", reason=_UNKNOWN)
        out.append(column)
    return out


def _field_column(name: str, f: Field, project: Project, readable: set[str]) -> Column:
    if f.identifier:
        return Column(name, "skip", field=f.name, reason=_IDENTIFIER)
    if _personal(f.name) or _personal(f.label):
        return Column(name, "skip", field=f.name, reason=_PERSONAL)
    if f.is_date and f.name not in DATE_FIELDS:
        return Column(name, "skip", field=f.name, reason=_UNUSED_DATE)
    if f.name not in readable or f.type == "checkbox":
        return Column(name, "skip", field=f.name, reason=_UNREAD)
    return Column(name, "field", field=f.name, code=project.codes.get(f.name))


def _raw_column(name: str, project: Project, readable: set[str]) -> Column | None:
    if name in _SPECIAL_RAW:
        kind, reason = _SPECIAL_RAW[name]
        return Column(name, kind, reason=reason)
    form = re.fullmatch(r"(?P<form>\w+?)_(?P<what>complete|timestamp)", name)
    if form and form["form"] in project.forms:
        if form["what"] == "complete":
            return Column(name, "skip", reason=_STATUS)
        return Column(name, "skip", reason=_TIMESTAMP)
    if name in project.fields:
        return _field_column(name, project.fields[name], project, readable)
    box = re.fullmatch(r"(?P<field>\w+?)___(?P<code>\w+)", name)
    if box and box["field"] in project.fields:
        f = project.fields[box["field"]]
        codes = {_export_code(code): code for code, _ in f.choices}
        if f.type == "checkbox" and box["code"] in codes:
            return _checkbox(name, f, codes[box["code"]], project, readable)
    return None


def _export_code(code: str) -> str:
    """A checkbox choice code as REDCap writes it in the column name (lower case, '-' and '.'
    as '_')."""
    return re.sub(r"[^a-z0-9_]", "_", code.lower())


def _checkbox(name, f: Field, code: str, project: Project, readable: set[str]) -> Column:
    if f.identifier:
        return Column(name, "skip", field=f.name, reason=_IDENTIFIER)
    if f.name not in readable:
        return Column(name, "skip", field=f.name, reason=_UNREAD)
    return Column(name, "checkbox", field=f.name, choice=code)


def _label_index(project: Project) -> dict[str, list[tuple[str, str | None]]]:
    """Header label -> the fields (and checkbox choices) with that label, in dictionary order."""
    index: dict[str, list[tuple[str, str | None]]] = defaultdict(list)
    for f in project.fields.values():
        if f.type == "descriptive":
            continue
        if f.type == "checkbox":
            for code, label in f.choices:
                index[_plain(f"{f.label} (choice={label})").lower()].append((f.name, code))
        else:
            index[f.label.lower()].append((f.name, None))
    return index


def _label_column(name: str, project: Project, readable: set[str], labels) -> Column | None:
    # Repeated labels come as 'Label', 'Label.1', … (reading.header makes them unique).
    for text in dict.fromkeys([name, re.sub(r"\.\d+$", "", name)]):
        plain = _plain(text).lower()
        if plain in _SPECIAL_LABELS:
            column = _raw_column(_SPECIAL_LABELS[plain], project, readable)
            column.name = name
            return column
        if plain == "complete?":
            return Column(name, "skip", reason=_STATUS)
        if plain == "survey timestamp":
            return Column(name, "skip", reason=_TIMESTAMP)
        if labels.get(plain):
            field_, code = labels[plain].pop(0)
            f = project.fields[field_]
            if code is not None:
                return _checkbox(name, f, code, project, readable)
            return _field_column(name, f, project, readable)
    return None


def is_redcap_export(path: Path) -> bool:
    """A REDCap records export, known by its columns: REDCap's own (redcap_event_name,
    redcap_repeat_instrument, …, or their labels), or the project's record id first and at
    least one other field of the project."""
    try:
        names = header(path)
    except (UnreadableFile, OSError):  # unreadable: the importer says why
        return False
    if len(names) < 2:
        return False
    if any(n.strip() in _SPECIAL_RAW for n in names):
        return True
    if {_plain(n).lower() for n in names} >= {"event name", "record id"}:
        return True
    project = load_project()
    record = project.fields[project.record_id]
    if names[0].strip() not in (record.name, record.label):
        return False
    readable = _read_fields(project)
    labels = _label_index(project)
    others = [
        _raw_column(n, project, readable) or _label_column(n, project, readable, labels)
        for n in names[1:]
    ]
    return any(c is not None and c.kind in ("field", "checkbox") for c in others)


# --- values --------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$")
_RESULT = re.compile(
    r"^(?P<qualifier>[<>])?\s*(?P<number>[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)$"
)
_NOT_DETECTED = {"n.d.", "nd", "not detected", "undetectable", "neg", "negative"}
_ISO = re.compile(r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})(?:[ T]\d{2}:\d{2}(?::\d{2})?)?$")
_PARTIAL = re.compile(r"^\d{4}(?:-\d{1,2})?$")
# Text that holds a calendar date is not stored (Carta keeps no dates).
_DATE_IN_TEXT = DATE_IN_TEXT  # one rule for every reader (carta/ingest/problems.py)


class Bad(ValueError):
    """A value that cannot be read: the message is the reason (it never holds the value)."""


def parse_date(text: str) -> dt.date:
    """A complete date as REDCap exports it (YYYY-MM-DD, a time allowed); otherwise Bad."""
    match = _ISO.match(text)
    if not match:
        if _PARTIAL.match(text):
            raise Bad("a partial date (a year or a month only): Carta needs the day; give the "
                      "full date, or the study day")  # fmt: skip
        raise Bad("not a date as REDCap exports it (YYYY-MM-DD): export the data with the "
                  "default date format, or give the study day")  # fmt: skip
    try:
        return dt.date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        raise Bad("not a real calendar date") from None


def _number(text: str) -> float:
    if not _NUMBER.match(text):
        raise Bad("not a number (write it with a decimal point and no thousands separator)")
    return float(text)


def _whole(text: str) -> int:
    try:
        number = _number(text)
    except Bad:
        raise Bad("not a whole number of days") from None
    if number % 1 or abs(number) >= 2**31:
        raise Bad("not a whole number of days")
    return int(number)


def _interpretation(f: Field, text: str) -> str:
    """negative, borderline or positive from a result field's choice (by its code in Carta's
    project, else by its label in a site's own)."""
    code = _choice(f, text)
    if code in INTERPRETATIONS:
        return INTERPRETATIONS[code]
    label = _key(dict(f.choices).get(code, code))
    if label not in INTERPRETATIONS.values():
        raise Bad(f"{f.name}: a result is negative, borderline or positive")
    return label


def _choice(f: Field, text: str) -> str:
    """The choice code of a raw code or a label."""
    pairs = f.choices
    if f.type == "yesno":
        pairs = (("1", "Yes"), ("0", "No"))
    elif f.type == "truefalse":
        pairs = (("1", "True"), ("0", "False"))
    for code, _ in pairs:
        if text == code:
            return code
    for code, label in pairs:
        if _key(text) == _key(label):
            return code
    raise Bad("not one of the field's choices (codes or labels of the data dictionary)")


def _label_of(f: Field, code: str) -> str:
    return dict(f.choices).get(code, code)


def _text(value: str) -> str:
    if _DATE_IN_TEXT.search(value):
        raise Bad("holds what looks like a calendar date: not stored (Carta keeps no dates; "
                  "write the study day instead)")  # fmt: skip
    return value


# --- the reader ----------------------------------------------------------------------------------


def read_redcap(
    path: Path, mapping: dict[str, str] | None = None, dictionary: Path | None = None
) -> list[TableFile]:
    """A REDCap records export as Carta tables, in load order: sources, patients, observations,
    events, adverse_events. Rows hold the store's columns plus `line` (the line in the export);
    problems name that line. `mapping` maps another project's field names to Carta parameter
    codes or to fields of this project; `dictionary` is the project's own data dictionary when
    it differs from the shipped one."""
    return _Reader(Path(path), mapping, dictionary).read().tables


@dataclass
class RedcapReading:
    """A REDCap export as the importer takes a file of several tables (the attributes of
    carta.ingest.cdisc.reader.DatasetReading): its tables, in load order, and `frame`, a row per
    line of the file (the header, line 1, empty) with only the columns that may be written to a
    quarantine file: no date, identifier or unknown column, no text holding a date."""

    path: Path
    name: str
    records: int
    tables: list[TableFile] = field(default_factory=list)
    merged: int = 0
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    frame: pd.DataFrame | None = None


def reading(
    path: Path, mapping: dict[str, str] | None = None, dictionary: Path | None = None
) -> RedcapReading:
    """`read_redcap` for the importer: the tables, and the lines without dates for quarantine."""
    result = _Reader(Path(path), mapping, dictionary).read()
    return RedcapReading(Path(path), "REDCap", result.records, result.tables, frame=result.frame)


def account(
    path: Path, mapping: dict[str, str] | None = None, dictionary: Path | None = None
) -> pd.DataFrame:
    """Every cell with a value in the export and what became of it: line, column, outcome
    ('stored' in a row of `table`; 'read', its meaning taken but nothing of its own to store,
    e.g. a key, a date made a study day, an unticked box; 'refused' with the reason; 'not
    stored', its column refused whole) and the reason."""
    return _Reader(Path(path), mapping, dictionary).read().ledger


def read_mapping(path: Path) -> dict[str, str]:
    """A mapping file for another REDCap project: CSV with columns name and code, the code a
    Carta parameter code or a field of the Carta project."""
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"name", "code"} <= set(frame.columns):
        raise ValueError(f"{path.name}: a mapping file has the columns name and code")
    known = set(carta_dictionary.parameters()["code"]) | set(load_project().fields)
    unknown = sorted(set(frame["code"].str.strip()) - known)
    if unknown:
        raise ValueError(f"{path.name}: not a parameter code or project field: {unknown}")
    return dict(zip(frame["name"].str.strip(), frame["code"].str.strip(), strict=True))


@dataclass
class _Record:
    patient_id: str
    enrolment_line: int | None = None
    treatment_line: int | None = None
    source_id: str | None = None
    day0: dt.date | None = None
    # why the record's dates cannot become study days
    day0_problem: str = (
        "a date needs the patient's infusion date (infusion_date, enrolment form), which is not "
        "in this file"
    )


@dataclass
class _Row:
    table: str
    line: int
    values: dict
    cells: list  # the columns of its line the row is made of, or (line, column) of another
    refused: str | None = None


@dataclass
class _Result:
    tables: list[TableFile]
    ledger: pd.DataFrame
    records: int = 0
    frame: pd.DataFrame | None = None


@dataclass
class _Reader:
    path: Path
    mapping: dict[str, str] | None
    dictionary: Path | None
    problems: dict[str, list[Problem]] = field(default_factory=lambda: {t: [] for t in TABLES})
    rows: list[_Row] = field(default_factory=list)
    ledger: dict[tuple[int, str], tuple[str, str | None, str | None]] = field(default_factory=dict)
    sources: dict[str, _Row] = field(default_factory=dict)  # source_id -> its row

    # -- bookkeeping

    def problem(self, table, line, column, value, reason, cells=()) -> None:
        """Refuse the cell (and `cells` of the same line with it). A value holding a date is
        never repeated in the problem."""
        if isinstance(value, str) and _DATE_IN_TEXT.search(value):
            value = None
        self.problems[table].append(Problem(self.path.name, line, column, value, reason))
        for cell in (column, *cells):
            if (line, cell) in self.cells and self.ledger.get((line, cell), ("read",))[0] == "read":
                self.ledger[(line, cell)] = ("refused", None, reason)

    def warn(self, table, line, column, value, reason, cells=()) -> None:
        """The cell is refused, the row it belongs to imported without it."""
        self.problem(table, line, column, value, f"warning: {reason}; imported without it", cells)

    def read_cell(self, line, column) -> None:
        if column is not None and (line, column) in self.cells:
            self.ledger.setdefault((line, column), ("read", None, None))

    def add(self, table, line, values, cells) -> _Row:
        row = _Row(table, line, values, [c for c in cells if c is not None])
        self.rows.append(row)
        return row

    # -- reading

    def read(self) -> _Result:
        self.project = load_project(self.dictionary)
        self.lookup = carta_dictionary.code_lookup(self.mapping)
        width: list[Problem] = []
        raw = read_whole(self.path, width)
        for p in width:  # the line's text may hold dates: never kept
            self.problems["patients"].append(Problem(p.file, p.row, None, None, p.reason))
        raw = raw.apply(lambda s: s.str.strip())
        self.raw = raw
        names = list(raw.columns)
        # The cells as plain text by line, for reading them one by one (pandas' .at is slow).
        self.text = {int(line): dict(zip(names, row, strict=True))
                     for line, row in zip(raw.index, raw.itertuples(index=False, name=None),
                                          strict=True)}  # fmt: skip
        self.cells = {
            (int(line), column) for column in names for line in raw.index[raw[column].ne("")]
        }
        if not names:
            return self._result()
        self.columns = resolve_columns(names, self.project, self.lookup)
        record = self.project.fields.get(names[0])
        if _personal(names[0]) or (record is not None and record.identifier):
            # The record id is the patient's id in Carta: it must be a pseudonym.
            reason = (_PERSONAL if _personal(names[0]) else _IDENTIFIER) + (
                "; the record id is Carta's patient id, so the file is refused"
            )
            self.columns = [Column(n, "skip", reason=reason) for n in names]
        self._skip_columns()
        records = self._records()
        for line in raw.index:
            self._line(int(line), records)
        return self._result()

    def _skip_columns(self) -> None:
        groups: dict[str, list[Column]] = defaultdict(list)
        for c in self.columns:
            if c.kind == "skip":
                groups[c.reason].append(c)
        for cols in groups.values():
            reason = cols[0].reason
            name = ", ".join(c.name for c in cols)
            table = "patients"
            self.problems[table].append(Problem(self.path.name, None, name, None, reason))
            for c in cols:
                for line in self.raw.index[self.raw[c.name].ne("")]:
                    self.ledger[(int(line), c.name)] = ("not stored", None, reason)

    def _is_date_column(self, name: str) -> bool:
        if not hasattr(self, "_dates"):
            fields = self.project.fields
            self._dates = {
                c.name for c in self.columns if c.field in fields and fields[c.field].is_date
            }
        return name in self._dates

    def _by_kind(self, kind: str) -> Column | None:
        return next((c for c in self.columns if c.kind == kind), None)

    def _values(self, line: int, report: bool = True) -> dict[str, tuple[Column, str]]:
        """The line's cells with a value, by field (observation columns by their own name)."""
        out = {}
        for c in self.columns:
            text = self.text[line][c.name]
            if not text or c.kind not in ("field", "checkbox", "observation"):
                continue
            key = c.field if c.kind == "field" else f"{c.field}___{c.choice}"
            if c.kind == "observation":
                key = c.name
            if key in out:  # two columns for one field (a mapping onto a project field)
                if report:
                    reason = "a second column for the same field on this line: not stored"
                    self.problem(self._table_of(c), line, c.name, text, reason)
                continue
            out[key] = (c, text)
        return out

    def _table_of(self, c: Column) -> str:
        form = self.project.fields[c.field].form if c.field in self.project.fields else "labs"
        return {
            "enrolment": "patients", "treatment": "events", "labs": "observations",
            "vitals": "observations", "scores": "observations",
            "adverse_events": "adverse_events",
            "medications": "events",
        }.get(form, "patients")  # fmt: skip

    def _records(self) -> dict[str, _Record]:
        """Each record's enrolment line, source and day 0, read before any other line."""
        key = self.columns[0].name
        records: dict[str, _Record] = {}
        for line in self.raw.index:
            record_id = self.text[int(line)][key]
            if not record_id or _DATE_IN_TEXT.search(record_id):
                continue
            record = records.setdefault(record_id, _Record(record_id))
            values = self._values(int(line), report=False)
            forms = {self._form(c) for c, text in values.values() if not _unticked(c, text)}
            if "enrolment" in forms and record.enrolment_line is None:
                record.enrolment_line = int(line)
                source = values.get("source_id")
                record.source_id = source[1] if source else None
                self._day0(record, values)
            if "treatment" in forms and record.treatment_line is None:
                record.treatment_line = int(line)
        return records

    def _form(self, c: Column) -> str:
        return self.project.fields[c.field].form if c.field in self.project.fields else "labs"

    def _day0(self, record: _Record, values) -> None:
        if "infusion_date" not in values:
            record.day0_problem = (
                "a date needs the patient's infusion date (infusion_date, enrolment form) to "
                "become a study day: give it, or the study day instead of the date"
            )
            return
        column, text = values["infusion_date"]
        try:
            record.day0 = parse_date(text)
        except Bad as bad:
            record.day0_problem = (
                f"the patient's infusion date (line {record.enrolment_line}) cannot be read, so "
                "this date cannot become a study day"
            )
            reason = f"infusion_date: {bad}; no date of this patient can become a study day"
            self.warn("patients", record.enrolment_line, column.name, None, reason)

    def _line(self, line: int, records: dict[str, _Record]) -> None:
        key = self.columns[0].name
        record_id = self.text[line][key]
        if not record_id or _DATE_IN_TEXT.search(record_id):
            reason = (
                "no record id: the line is refused"
                if not record_id
                else "the record id looks like a date: the line is refused (a record id is a "
                "pseudonymous study id)"
            )
            line_cells = [c for c, text in self.text[line].items() if text]
            self.problem("patients", line, key, None, reason, line_cells)
            return
        record = records[record_id]
        # The record id is stored (as patient_id) with every row of the line; the event and
        # repeat columns are read (the visit, the instance) and stored only as what they mean.
        self.keys = [key]
        for c in self.columns:
            if c.kind in ("record", "event", "instrument", "instance"):
                self.read_cell(line, c.name)
        self.event = self._event(line)
        self.instance = self._instance(line)
        values = self._values(line)
        by_form: dict[str, dict] = defaultdict(dict)
        for name, (c, text) in values.items():
            by_form[self._form(c)][name] = (c, text)
        # Unticked boxes alone (REDCap writes 0 in every line of a form's event) say nothing.
        for form, cells in list(by_form.items()):
            if all(_unticked(c, text) for c, text in cells.values()):
                for c, _ in cells.values():
                    self.read_cell(line, c.name)
                del by_form[form]
        if by_form.get("enrolment"):
            self._once(line, record, "enrolment", by_form["enrolment"], self._enrolment)
        if by_form.get("treatment"):
            self._once(line, record, "treatment", by_form["treatment"], self._treatment)
        for form, (date_field, day_field) in VISIT_FIELDS.items():
            if by_form.get(form):
                self._visit(line, record, by_form[form], date_field, day_field)
        if by_form.get("adverse_events"):
            self._adverse_event(line, record, by_form["adverse_events"])
        if by_form.get("medications"):
            self._medication(line, record, by_form["medications"])

    def _once(self, line, record, form, values, build) -> None:
        first = record.enrolment_line if form == "enrolment" else record.treatment_line
        if line != first:
            table = "patients" if form == "enrolment" else "events"
            for c, text in values.values():
                self.problem(table, line, c.name, None if c.field in DATE_FIELDS else text,
                             f"the {form} form of this record is already on line {first}: "
                             "not stored")  # fmt: skip
            return
        build(line, record, values)

    def _event(self, line) -> tuple[str | None, str | None]:
        """(unique event name or None, the event's name in words or None)."""
        c = self._by_kind("event")
        text = self.text[line][c.name] if c else ""
        if not text:
            return None, None
        events = self.project.events
        if text in events:
            return text, events[text]
        bare = re.sub(r"\s*\(Arm \d+:.*\)\s*$", "", text)
        for unique, name in events.items():
            if _key(bare) == _key(name):
                return unique, name
        return None, (None if _DATE_IN_TEXT.search(text) else text)

    def _instance(self, line) -> str | None:
        c = self._by_kind("instance")
        text = self.text[line][c.name] if c else ""
        return text if text.isdigit() else None

    def _repeat_note(self, form: str) -> str | None:
        return f"REDCap {form} #{self.instance}" if self.instance else None

    # -- study days

    def _when(self, line, record, values, date_field, day_field, table, cells, soft=False):
        """('ok', day) or ('none', None), or ('bad', reason) with the problem reported and
        `cells` refused with it; `soft`: reported as a warning (the row goes on without)."""
        report = self.warn if soft else self.problem
        date = values.get(date_field)
        day = values.get(day_field) if day_field else None
        from_date = from_day = None
        try:
            if date:
                parsed = parse_date(date[1])
                if record.day0 is None:
                    raise Bad(record.day0_problem or "no infusion date")
                from_date = (parsed - record.day0).days
        except Bad as bad:
            reason = f"{date_field}: {bad} (nothing of the date is stored)"
            report(table, line, date[0].name, None, reason, cells)
            return "bad", reason
        try:
            if day:
                from_day = _whole(day[1])
        except Bad as bad:
            reason = f"{day_field}: {bad}"
            report(table, line, day[0].name, day[1], reason, cells)
            return "bad", reason
        if from_date is not None and from_day is not None and from_date != from_day:
            reason = (
                f"{day_field} disagrees with {date_field} (study day {from_date} from the date)"
            )
            report(table, line, day[0].name, day[1], reason, [date[0].name, *cells])
            return "bad", reason
        for v in (date, day):
            if v:
                self.read_cell(line, v[0].name)
        if from_date is not None:
            return "ok", from_date
        if from_day is not None:
            return "ok", from_day
        return "none", None

    # -- forms

    def _enrolment(self, line, record: _Record, values) -> None:
        v = {name: text for name, (c, text) in values.items()}
        col = {name: c.name for name, (c, text) in values.items()}
        f = self.project.fields
        patient = {"patient_id": record.patient_id, "source_id": record.source_id,
                   "synthetic": False}  # fmt: skip
        cells = [*self.keys, col.get("source_id")]

        def take(name, convert, column=None, check=None, problem=None):
            if name not in v:
                return
            try:
                value = convert(v[name])
                if check and not check(value):
                    raise Bad(problem)
            except Bad as bad:
                self.warn("patients", line, col[name], v[name], f"{name}: {bad}")
                return
            patient[column or name] = value
            cells.append(col[name])

        take("cohort", _text)
        take("sex", lambda t: _choice(f["sex"], t))
        take("age_years", _number, check=lambda x: x >= 0, problem="an age is 0 or more")
        take("race", _text)
        take("disease_duration_years", _number, check=lambda x: x >= 0,
             problem="a duration is 0 or more")  # fmt: skip
        take("prior_therapies", _text)
        take("product", _text)
        take("cell_dose_per_kg", _number, check=lambda x: x > 0,
             problem="a cell dose is more than 0")  # fmt: skip
        self._other_choice(line, v, col, "diagnosis", patient, cells)
        self._other_choice(line, v, col, "autoantibody", patient, cells)
        if "infusion_date" in v and record.day0 is not None:
            self.read_cell(line, col["infusion_date"])
        state, day = self._when(line, record, values, "follow_up_date", "follow_up_day",
                                "patients", [], soft=True)  # fmt: skip
        if state == "ok":
            names = [col[n] for n in ("follow_up_date", "follow_up_day") if n in col]
            if day < 0:
                name = "follow_up_date" if "follow_up_date" in v else "follow_up_day"
                self.warn("patients", line, col[name], None if name.endswith("date") else v[name],
                          "the last follow-up is before the infusion", names)  # fmt: skip
            else:
                patient["follow_up_days"] = day
                cells += names
        self.add("patients", line, patient, cells)
        self._source(line, record, v, col)
        dose = patient.get("cell_dose_per_kg")
        if record.day0 is not None or dose is not None:
            self.add("events", line, {
                "patient_id": record.patient_id, "kind": "infusion",
                "name": "CD19 CAR T infusion", "start_day": 0, "end_day": 0, "dose": dose,
                "dose_unit": "cells/kg" if dose is not None else None,
                "dose_basis": "per_dose" if dose is not None else None,
                "source_id": record.source_id,
                "note": "Day 0 of the REDCap enrolment form",
            }, [*self.keys, col.get("cell_dose_per_kg")])  # fmt: skip

    def _other_choice(self, line, v, col, name, patient, cells) -> None:
        """A choice with an 'other' text field: the label, or the text given for 'other'."""
        f = self.project.fields[name]
        other = f"{name}_other"
        try:
            code = _choice(f, v[name]) if name in v else None
        except Bad as bad:
            self.warn("patients", line, col[name], v[name], f"{name}: {bad}")
            code = None
        if code is not None:
            cells.append(col[name])
            patient[name] = _label_of(f, code)
        if other in v:
            if code not in (None, "other"):
                self.problem("patients", line, col[other], v[other],
                             f"{other} is given, but {name} is not Other: not stored")  # fmt: skip
                return
            try:
                patient[name] = _text(v[other])
                cells.append(col[other])
            except Bad as bad:
                self.warn("patients", line, col[other], None, f"{other}: {bad}")

    def _source(self, line, record: _Record, v, col) -> None:
        if "source_citation" not in v:
            return
        if record.source_id is None:
            self.problem("sources", line, col["source_citation"], v["source_citation"],
                         "a citation needs the source_id it cites: not stored")  # fmt: skip
            return
        try:
            citation = _text(v["source_citation"])
        except Bad as bad:
            self.problem("sources", line, col["source_citation"], None, f"source_citation: {bad}")
            return
        earlier = self.sources.get(record.source_id)
        if earlier is None:
            self.sources[record.source_id] = self.add("sources", line, {
                "source_id": record.source_id, "kind": "site", "citation": citation,
                "note": "REDCap project export",
            }, [col["source_id"], col["source_citation"]])  # fmt: skip
        elif earlier.values["citation"] == citation:
            earlier.cells.append((line, col["source_citation"]))  # the same row, given again
        else:
            self.problem("sources", line, col["source_citation"], citation,
                         f"another citation for this source than on line {earlier.line}: "
                         "not stored")  # fmt: skip

    def _treatment(self, line, record: _Record, values) -> None:
        v = {name: text for name, (c, text) in values.items()}
        col = {name: c.name for name, (c, text) in values.items()}
        base = {"patient_id": record.patient_id, "source_id": record.source_id}
        if "apheresis_date" in v or "apheresis_day" in v:
            state, day = self._when(line, record, values, "apheresis_date", "apheresis_day",
                                    "events", [])  # fmt: skip
            if state == "ok":
                self.add("events", line, base | {"kind": "apheresis", "name": "Leukapheresis",
                         "start_day": day},
                         [*self.keys, *(col[n] for n in ("apheresis_date", "apheresis_day")
                                        if n in col)])  # fmt: skip
        f = self.project.fields["ld_drug"]
        ticked = []
        for code, _ in f.choices:
            name = f"ld_drug___{code}"
            if name not in v:
                continue
            try:
                if _ticked(f, code, v[name]):
                    ticked.append(code)
                else:
                    self.read_cell(line, col[name])
            except Bad as bad:
                self.problem("events", line, col[name], v[name], str(bad))
        doses = {code: f"ld_{code}_dose" for code, _ in f.choices}
        extra = {"ld_other", "ld_other_dose_unit"}
        for code, dose in doses.items():
            names = {dose} | (extra if code == "other" else set())
            for name in sorted(names & set(v)):
                if code not in ticked:
                    self.problem("events", line, col[name], v[name],
                                 "given for a drug not ticked in ld_drug: not stored")  # fmt: skip
        day_fields = ["ld_start_date", "ld_start_day", "ld_end_date", "ld_end_day"]
        if not ticked:
            for name in day_fields:
                if name in v:
                    self.problem("events", line, col[name], None if "date" in name else v[name],
                                 "lymphodepletion days with no drug ticked in ld_drug: "
                                 "not stored")  # fmt: skip
            return
        boxes = [col[f"ld_drug___{code}"] for code in ticked]
        doses_given = [col[n] for n in (*doses.values(), *extra) if n in v and n in col]
        cells = [*boxes, *doses_given]
        start_state, start = self._when(line, record, values, "ld_start_date", "ld_start_day",
                                        "events", cells)  # fmt: skip
        end_state, end = self._when(line, record, values, "ld_end_date", "ld_end_day",
                                    "events", cells)  # fmt: skip
        if "bad" in (start_state, end_state):
            return
        if start is not None and end is not None and end < start:
            name = "ld_end_date" if "ld_end_date" in v else "ld_end_day"
            self.problem("events", line, col[name], None if "date" in name else v[name],
                         "the last day of lymphodepletion is before the first", cells)  # fmt: skip
            return
        day_cells = [col[n] for n in day_fields if n in col]
        for code in ticked:
            row = base | {"kind": "lymphodepletion", "start_day": start, "end_day": end,
                          "name": _label_of(f, code), "dose_basis": None}  # fmt: skip
            used = [*self.keys, col[f"ld_drug___{code}"], *day_cells]
            if code == "other" and "ld_other" in v:
                try:
                    row["name"] = _text(v["ld_other"])
                    used.append(col["ld_other"])
                except Bad as bad:
                    self.warn("events", line, col["ld_other"], None, f"ld_other: {bad}")
            if code == "other" and row["name"] == "Other":
                row["name"] = "Other lymphodepletion drug (not named)"
            dose_field = doses[code]
            if dose_field in v:
                unit = LD_UNIT if code != "other" else v.get("ld_other_dose_unit")
                try:
                    row["dose"] = _number(v[dose_field])
                    if row["dose"] < 0:
                        raise Bad("a dose is 0 or more")
                    if not unit:
                        raise Bad("a dose without its unit (ld_other_dose_unit)")
                    row |= {"dose_unit": _text(unit), "dose_basis": "total"}
                    used.append(col[dose_field])
                    if code == "other":
                        used.append(col["ld_other_dose_unit"])
                except Bad as bad:
                    row.pop("dose", None)
                    self.warn(
                        "events", line, col[dose_field], v[dose_field], f"{dose_field}: {bad}"
                    )
            elif code == "other" and "ld_other_dose_unit" in v:
                self.problem("events", line, col["ld_other_dose_unit"], v["ld_other_dose_unit"],
                             "a unit with no dose: not stored")  # fmt: skip
            self.add("events", line, row, used)

    def _visit(self, line, record: _Record, values, date_field, day_field) -> None:
        """One visit's observations (the labs or the scores form, and mapped columns)."""
        results = {
            name: (c, text) for name, (c, text) in values.items()
            if c.code is not None or c.kind == "observation"
        }  # fmt: skip
        quals = {
            name[: -len("_qual")]: (c, text) for name, (c, text) in values.items()
            if c.kind == "field" and name.endswith("_qual")
        }  # fmt: skip
        interps = {
            name[: -len("_result")]: (c, text) for name, (c, text) in values.items()
            if c.kind == "field" and name.endswith("_result")
        }  # fmt: skip
        scales = {
            name[: -len("_scale")]: (c, text) for name, (c, text) in values.items()
            if c.kind == "field" and name.endswith("_scale")
        }  # fmt: skip
        value_cells = [c.name for c, _ in (*results.values(), *quals.values(), *interps.values())]
        state, day = self._when(line, record, values, date_field, day_field, "observations",
                                value_cells)  # fmt: skip
        if state == "bad":
            return
        day_cells = [values[n][0].name for n in (date_field, day_field) if n in values]
        timing = None
        if state == "none":
            unique, name = self.event
            if name is None or unique in REPEATING_EVENTS:
                if value_cells:
                    reason = f"no study day: give {date_field} or {day_field}"
                    self.problem("observations", line, date_field, None, reason, value_cells)
                return
            timing = name
        if not results and not quals and not interps:
            return
        interpretation = {}
        for name, (c, text) in interps.items():
            try:
                interpretation[name] = _interpretation(self.project.fields[c.field], text)
            except Bad as bad:
                self.problem("observations", line, c.name, text, str(bad))
        # A result read as negative or positive with no value beside it.
        for name in [n for n in interpretation if n not in results and n not in quals]:
            code = self.project.codes.get(name)
            self._observation(line, record, code, None, None, day, timing,
                              self.project.units.get(code), [interps[name][0].name, *day_cells],
                              interpretation=interpretation[name])  # fmt: skip
        for name in sorted(set(quals) - set(results), key=list(quals).index):
            c, text = quals[name]
            try:
                qualifier = QUALIFIERS.get(_choice(self.project.fields[c.field], text))
            except Bad as bad:
                self.problem("observations", line, c.name, text, str(bad))
                continue
            if qualifier != "not_detected":
                self.problem("observations", line, c.name, text,
                             f"{c.field} needs the assay limit in {name}: refused")  # fmt: skip
                continue
            code = self.project.codes.get(name)
            self._observation(line, record, code, None, qualifier, day, timing,
                              self.project.units.get(code), [c.name, *day_cells],
                              interpretation=interpretation.get(name))  # fmt: skip
        for name, (c, text) in results.items():
            qual = quals.get(name)
            cells = [c.name] + ([qual[0].name] if qual else [])
            cells += [interps[name][0].name] if name in interpretation else []
            scale_max = None
            if name in scales:
                c_scale, scale_text = scales[name]
                try:
                    scale_max = float(_choice(self.project.fields[c_scale.field], scale_text))
                except (Bad, ValueError):
                    self.problem("observations", line, c_scale.name, scale_text,
                                 "not a scale of this score: its value is refused with it",
                                 [c.name, c_scale.name])  # fmt: skip
                    continue
                cells.append(c_scale.name)
            try:
                value, qualifier = _result(text)
                if qual:
                    given = QUALIFIERS.get(_choice(self.project.fields[qual[0].field], qual[1]))
                    if qualifier is not None:
                        raise Bad(f"a qualifier in both {name} and {qual[0].name}")
                    if given == "not_detected" and value is not None:
                        raise Bad(f"a value, and not detected in {qual[0].name}: give one")
                    qualifier = given
            except Bad as bad:
                self.problem("observations", line, c.name, text, str(bad), cells)
                continue
            # A field of the project has the dictionary unit; a mapped column has none given.
            unit = self.project.units.get(c.code) if c.kind == "field" else None
            note = None if c.kind == "field" else f"REDCap field {c.name}"
            self._observation(line, record, c.code, value, qualifier, day, timing, unit,
                              [*cells, *day_cells], note,
                              interpretation.get(name), scale_max)  # fmt: skip

    def _observation(self, line, record, code, value, qualifier, day, timing, unit, cells,
                     note=None, interpretation=None, scale_max=None) -> None:  # fmt: skip
        self.add("observations", line, {
            "patient_id": record.patient_id, "day": day, "code": code, "value": value,
            "unit": unit, "specimen": self.project.specimens.get(code, "blood"),
            "qualifier": qualifier, "interpretation": interpretation, "scale_max": scale_max,
            "source_id": record.source_id, "note": note, "timing": timing,
        }, [*self.keys, *cells])  # fmt: skip

    def _adverse_event(self, line, record: _Record, values) -> None:
        v = {name: text for name, (c, text) in values.items()}
        col = {name: c.name for name, (c, text) in values.items()}
        f = self.project.fields
        everything = list(col.values())
        ae = {"patient_id": record.patient_id, "source_id": record.source_id,
              "note": self._repeat_note("adverse_events")}  # fmt: skip
        used = [*self.keys]
        notes = []
        try:
            if "ae_term" in v:
                ae["term"] = _text(v["ae_term"])
                used.append(col["ae_term"])
            if "ae_grade" in v:
                ae["grade"] = int(_choice(f["ae_grade"], v["ae_grade"]))
                used.append(col["ae_grade"])
        except Bad as bad:
            name = "ae_grade" if "term" in ae else "ae_term"
            self.problem("adverse_events", line, col[name], v[name], f"{name}: {bad}", everything)
            return
        system = None
        if "ae_grading_system" in v:
            try:
                code = _choice(f["ae_grading_system"], v["ae_grading_system"])
                system = _label_of(f["ae_grading_system"], code)
                used.append(col["ae_grading_system"])
                if code == "other" and "ae_grading_other" in v:
                    system = _text(v["ae_grading_other"])
                    used.append(col["ae_grading_other"])
            except Bad as bad:
                self.warn("adverse_events", line, col["ae_grading_system"],
                          v["ae_grading_system"], f"ae_grading_system: {bad}")  # fmt: skip
        ae["grading_system"] = system or "not reported"
        if "ae_severity" in v:
            try:
                severity = _label_of(f["ae_severity"], _choice(f["ae_severity"], v["ae_severity"]))
                if "severity" in columns("adverse_events"):
                    ae["severity"] = severity.lower()
                else:
                    notes.append(f"severity {severity.lower()}")
                used.append(col["ae_severity"])
            except Bad as bad:
                self.warn("adverse_events", line, col["ae_severity"], v["ae_severity"],
                          f"ae_severity: {bad}")  # fmt: skip
        if "ae_serious" in v:
            try:
                ae["serious"] = _choice(f["ae_serious"], v["ae_serious"]) == "1"
                used.append(col["ae_serious"])
            except Bad as bad:
                self.warn("adverse_events", line, col["ae_serious"], v["ae_serious"],
                          f"ae_serious: {bad}")  # fmt: skip
        for name, target in (("ae_treatment", "treatment"), ("ae_organ", "organ")):
            if name in v:
                try:
                    ae[target] = _text(v[name])
                    used.append(col[name])
                except Bad as bad:
                    self.warn("adverse_events", line, col[name], None, f"{name}: {bad}")
        if "ae_grading_other" in v and col["ae_grading_other"] not in used:
            self.problem("adverse_events", line, col["ae_grading_other"], v["ae_grading_other"],
                         "ae_grading_other is given, but the grading system is not Other: "
                         "not stored")  # fmt: skip
        state, onset = self._when(line, record, values, "ae_onset_date", "ae_onset_day",
                                  "adverse_events", everything)  # fmt: skip
        if state == "bad":
            return
        state, end = self._when(line, record, values, "ae_end_date", "ae_end_day",
                                "adverse_events", everything)  # fmt: skip
        if state == "bad":
            return
        if onset is not None and end is not None and end < onset:
            name = "ae_end_date" if "ae_end_date" in v else "ae_end_day"
            self.problem("adverse_events", line, col[name], None if "date" in name else v[name],
                         "the adverse event ends before its onset", everything)  # fmt: skip
            return
        ae |= {"onset_day": onset, "end_day": end}
        if notes:
            ae["note"] = "; ".join(filter(None, [ae["note"], *notes]))
        used += [col[n] for n in ("ae_onset_date", "ae_onset_day", "ae_end_date", "ae_end_day")
                 if n in col]  # fmt: skip
        self.add("adverse_events", line, ae, used)

    def _medication(self, line, record: _Record, values) -> None:
        v = {name: text for name, (c, text) in values.items()}
        col = {name: c.name for name, (c, text) in values.items()}
        everything = list(col.values())
        med = {"patient_id": record.patient_id, "kind": "medication",
               "source_id": record.source_id, "note": self._repeat_note("medications")}  # fmt: skip
        used = [*self.keys]
        if "med_name" in v:
            try:
                med["name"] = _text(v["med_name"])
                used.append(col["med_name"])
            except Bad as bad:
                self.problem("events", line, col["med_name"], None, f"med_name: {bad}",
                             everything)  # fmt: skip
                return
        if "med_dose" in v:
            try:
                med["dose"] = _number(v["med_dose"])
                if med["dose"] < 0:
                    raise Bad("a dose is 0 or more")
                used.append(col["med_dose"])
            except Bad as bad:
                med.pop("dose", None)
                self.warn("events", line, col["med_dose"], v["med_dose"], f"med_dose: {bad}")
        if "med_dose_unit" in v:
            try:
                med["dose_unit"] = _text(v["med_dose_unit"])
                used.append(col["med_dose_unit"])
            except Bad as bad:
                self.warn("events", line, col["med_dose_unit"], None, f"med_dose_unit: {bad}")
        if "med_dose_basis" in v:
            try:
                med["dose_basis"] = _choice(self.project.fields["med_dose_basis"],
                                            v["med_dose_basis"])  # fmt: skip
                used.append(col["med_dose_basis"])
            except Bad as bad:
                self.warn("events", line, col["med_dose_basis"], v["med_dose_basis"],
                          f"med_dose_basis: {bad}")  # fmt: skip
        state, start = self._when(line, record, values, "med_start_date", "med_start_day",
                                  "events", everything)  # fmt: skip
        if state == "bad":
            return
        state, end = self._when(line, record, values, "med_end_date", "med_end_day", "events",
                                everything)  # fmt: skip
        if state == "bad":
            return
        if start is not None and end is not None and end < start:
            name = "med_end_date" if "med_end_date" in v else "med_end_day"
            self.problem("events", line, col[name], None if "date" in name else v[name],
                         "the medication ends before it starts", everything)  # fmt: skip
            return
        med |= {"start_day": start, "end_day": end}
        used += [col[n] for n in ("med_start_date", "med_start_day", "med_end_date",
                                  "med_end_day") if n in col]  # fmt: skip
        self.add("events", line, med, used)

    # -- the result

    def _result(self) -> _Result:
        sha = sha256_of(self.path)
        # A row without a value the store requires is refused, naming the field to fill.
        for row in self.rows:
            for column in sorted(required_columns(row.table)):
                if row.values.get(column) is None and (row.table, column) != (
                    "observations",
                    "unit",
                ):
                    field_ = _REQUIRED_FIELD.get((row.table, column), column)
                    reason = f"required: {field_} is empty"
                    if column == "source_id":
                        reason = ("required: the patient's source_id (enrolment form) is not in "
                                  "this file")  # fmt: skip
                    self.problem(row.table, row.line, field_, None, reason)
                    row.refused = reason
                    break
        # The cells of the rows: stored when a row they are in is accepted.
        fates: dict[tuple[int, str], list[_Row]] = defaultdict(list)
        for row in self.rows:
            for cell in row.cells:
                line, name = cell if isinstance(cell, tuple) else (row.line, cell)
                fates[(line, name)].append(row)
        for cell, rows in fates.items():
            if cell not in self.cells or (cell in self.ledger and self.ledger[cell][0] != "read"):
                continue
            accepted = next((r for r in rows if r.refused is None), None)
            if accepted is not None:
                # A date is read (made a study day), never stored.
                outcome = "read" if self._is_date_column(cell[1]) else "stored"
                self.ledger[cell] = (outcome, accepted.table, None)
            elif cell not in self.ledger:
                self.ledger[cell] = ("refused", None, rows[0].refused)
        # A safety net: a cell no rule read is reported, never dropped in silence.
        for cell in sorted(self.cells - set(self.ledger)):
            reason = "a value Carta did not read: not stored"
            self.problems["patients"].append(Problem(self.path.name, cell[0], cell[1], None,
                                                     reason))  # fmt: skip
            self.ledger[cell] = ("refused", None, reason)
        tables = []
        for table in TABLES:
            accepted = [r for r in self.rows if r.table == table and r.refused is None]
            tables.append(TableFile(table, self.path, sha, _frame(table, accepted),
                                    self.problems[table]))  # fmt: skip
        ledger = pd.DataFrame(
            [(line, name, *fate) for (line, name), fate in sorted(self.ledger.items())],
            columns=["line", "column", "outcome", "table", "reason"],
        )
        return _Result(tables, ledger, len(self.raw), self._writable())

    def _writable(self) -> pd.DataFrame:
        """The lines as written, without what must never be written again: dates, identifiers,
        unknown and bookkeeping columns, text holding a date."""
        kept = [
            c.name for c in getattr(self, "columns", [])
            if c.kind != "skip" and not self._is_date_column(c.name)
        ]  # fmt: skip
        frame = self.raw[kept]
        frame = frame.mask(frame.apply(lambda s: s.str.contains(_DATE_IN_TEXT)), "")
        last = int(frame.index.max()) if len(frame) else 1
        return frame.reindex(pd.RangeIndex(1, last + 1), fill_value="")


_REQUIRED_FIELD = {
    ("patients", "cohort"): "cohort",
    ("patients", "source_id"): "source_id",
    ("adverse_events", "term"): "ae_term",
    ("adverse_events", "grade"): "ae_grade",
    ("events", "name"): "med_name",
}


def _unticked(c: Column, text: str) -> bool:
    return c.kind == "checkbox" and (text == "0" or _key(text) == "unchecked")


def _ticked(f: Field, code: str, text: str) -> bool:
    """A checkbox cell: 1/0 ('raw'), Checked/Unchecked ('labels'), or the choice's label."""
    if text in ("1", "0"):
        return text == "1"
    if _key(text) in ("checked", "unchecked"):
        return _key(text) == "checked"
    if _key(text) == _key(_label_of(f, code)):
        return True
    raise Bad("not a checkbox value (1 or 0, Checked or Unchecked)")


def _result(text: str) -> tuple[float | None, str | None]:
    """A result cell: a number, <x or >x typed into a text field, or not detected."""
    if text.lower() in _NOT_DETECTED:
        return None, "not_detected"
    match = _RESULT.match(text.replace(" ", ""))
    if not match:
        raise Bad("not a number, <x, >x or not detected")
    return float(match["number"]), match["qualifier"]


_DTYPES = {"INTEGER": "Int64", "BIGINT": "Int64", "DOUBLE": "Float64", "BOOLEAN": "boolean",
           "VARCHAR": "string"}  # fmt: skip


def _frame(table: str, rows: list[_Row]) -> pd.DataFrame:
    names = columns(table)
    frame = pd.DataFrame(
        [{"line": r.line, **{n: r.values.get(n) for n in names}} for r in rows],
        columns=["line", *names],
    )
    types = {"line": "int64"} | {
        name: _DTYPES[t] for name, t in table_columns()[table] if t in _DTYPES
    }
    return frame.astype(types).reset_index(drop=True)


if __name__ == "__main__":  # python -m carta.ingest.redcap: write the project's CSV files
    for written in write_project():
        print(written.relative_to(PROJECT_DIR.parent.parent), file=sys.stdout)
