"""The laboratory dictionary as data: every code a centre's labs and vital signs come under has a
unit, a domain, a plausible range and the CDISC test code it is sent as; every unit conversion is
between UCUM spellings the dictionary knows; the worked conversions come out right through the
importer's own path; and every test code in the public CDISC test data either resolves or is
deliberately kept as an "other test"."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from carta import dictionary
from carta.ingest.importer import import_files
from carta.measures import remission
from carta.schema import SCHEMA_FILE, columns

CDISC = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdisc"

# The CDISC test code (LBTESTCD, VSTESTCD) each code is sent as. SDTM names urine tests as it
# names blood ones and tells them apart by LBSPEC (or, without LBSPEC, LBCAT URINALYSIS): a code
# sent as ("PROT", "URINE") resolves through dictionary.resolve_in_specimen.
CDISC_CODES: dict[str, str | tuple[str, str]] = {
    "CK": "CK", "LDH": "LDH", "ALDOLASE": "ALDOLASE", "AST": "AST", "ALT": "ALT", "CRP": "CRP",
    "FERRITIN": "FERRITIN", "HGB": "HGB", "ANC": "NEUT", "PLT": "PLAT", "LYMPH": "LYM",
    "CD19": "CD19", "IGG": "IGG",
    "ALP": "ALP", "GGT": "GGT", "AMYLASE": "AMYLASE", "LIPASE": "LIPASE",
    "PCT": "PROCALCT", "IL6": "IL6", "ESR": "ESR", "C3": "C3", "C4": "C4",
    "WBC": "WBC", "RBC": "RBC", "HCT": "HCT", "MCV": "MCV", "MCH": "MCH", "MCHC": "MCHC",
    "RDW": "RDW", "MONO": "MONO", "EOS": "EOS", "BASO": "BASO", "RETIC": "RETIRBC",
    "IGA": "IGA", "IGM": "IGM", "CD3": "CD3", "CD4": "CD4", "CD8": "CD8",
    "ALB": "ALB", "PROT": "PROT", "BILI": "BILI", "BILDIR": "BILDIR", "CREAT": "CREAT",
    "UREA": "UREA", "UREAN": "UREAN", "GLUC": "GLUC", "SODIUM": "SODIUM", "K": "K", "CL": "CL",
    "CA": "CA", "PHOS": "PHOS", "MG": "MG", "URATE": "URATE", "CHOL": "CHOL", "HDL": "HDL",
    "LDL": "LDL", "TRIG": "TRIG", "TROPONT": "TROPONT", "TROPONI": "TROPONI", "BNP": "BNP",
    "NTPROBNP": "BNPPRONT", "TSH": "TSH", "VITB12": "VITB12",
    "PT": "PT", "INR": "INR", "APTT": "APTT", "FIBRINO": "FIBRINO", "DDIMER": "DDIMER",
    "UPROT": ("PROT", "URINE"), "UALB": ("ALB", "URINE"), "UCREAT": ("CREAT", "URINE"),
    "UPCR": "PROTCRT", "UACR": "ALBCREAT", "UGLUC": ("GLUC", "URINE"), "SPGRAV": "SPGRAV",
    "UPH": ("PH", "URINALYSIS"), "URBC": ("RBC", "URINE"), "UWBC": ("WBC", "URINE"),
    "TEMP": "TEMP", "SYSBP": "SYSBP", "DIABP": "DIABP", "PULSE": "PULSE", "RESP": "RESP",
    "OXYSAT": "OXYSAT", "HEIGHT": "HEIGHT", "WEIGHT": "WEIGHT",
}  # fmt: skip
# No CDISC test code: the scores (QS, FT, RS domains), CAR T cells (no LB test code) and NK cells
# (panels gate them differently).
NO_CDISC_CODE = {"CART", "NK", "CMAS", "MMT8", "PGA", "PARENT_GA", "CHAQ", "CAT_ACT", "CAT_DMG",
                 "DAS_SKIN", "DAS_MUSCLE", "DAS", "EXTRAMUSC"}  # fmt: skip
# Lupus and systemic sclerosis measures: no CDISC test code was confirmed for them, so a CDISC
# file names them by a mapping file (docs/import-format.md).
NO_CDISC_CODE |= {"SLEDAI2K", "CSLEDAI", "PGA_SLE", "DSDNA", "EGFR", "MRSS", "FVC_PCT",
                  "DLCO_PCT", "SKIN_WORSE", "DIGITAL_ULCERS", "TFR",
                  *(f"SLEDAI_{item}" for item in remission.WEIGHTS)}  # fmt: skip
# Autoantibodies: their CDISC test codes were not checked, so they resolve by name only.
NO_CDISC_CODE |= {"ANA", "ANTI_MDA5", "ANTI_TIF1G", "ANTI_NXP2", "ANTI_MI2", "ANTI_SAE", "ANTI_JO1",
                  "ANTI_PL7", "ANTI_PL12", "ANTI_SRP", "ANTI_HMGCR", "ANTI_RO52", "ANTI_PMSCL",
                  "ANTI_SCL70", "ANTI_CENPB", "ANTI_RNAP3", "ANTI_SM"}  # fmt: skip

# Test codes of the shared CDISC data deliberately left out of the dictionary: imported as other
# tests (their own code, name, unit and text), never graded, drawn or scored.
KEPT_AS_OTHER_TESTS = {
    "ANISO": "anisocytosis, an ordinal morphology grade (CDISC pilot LB: 1, no unit)",
    "MACROCY": "macrocytes, an ordinal morphology grade",
    "POIKILO": "poikilocytes, an ordinal morphology grade",
    "COLOR": "urine colour, text (NORMAL, N)",
    "KETONES": "urine ketones by dipstick: 0/1 without a unit, which could not be told from mg/dL",
    "UROBIL": "urobilinogen by dipstick: 0/1 without a unit",
    "BILIHY": "ADaM Hy's law flag (bilirubin > 1.5 x ULN), derived, not a measurement",
    "TRANSHY": "ADaM Hy's law flag (transaminase > 1.5 x ULN), derived",
    "HYLAW": "ADaM Hy's law flag, derived",
}

# UNIT_SPELLINGS as carta/ingest/validate.py had them before they became data: kept exactly.
OLD_SPELLINGS = {
    "µkat/l": "ukat/L", "ukat/l": "ukat/L", "u/l": "U/L", "iu/l": "U/L", "g/l": "g/L",
    "g/dl": "g/dL", "mg/l": "mg/L", "mg/dl": "mg/dL", "ng/ml": "ng/mL", "cells/ul": "{cells}/uL",
    "cells/µl": "{cells}/uL", "/µl": "/uL", "/ul": "/uL", "/mm3": "/mm3", "/mm³": "/mm3",
    "10^9/l": "10*9/L", "x10^9/l": "10*9/L", "10*9/l": "10*9/L", "10^3/ul": "10*3/uL",
    "10*3/ul": "10*3/uL", "k/ul": "10*3/uL",
}  # fmt: skip
# And its CONVERSIONS: (from, to) -> factor, for any parameter.
OLD_CONVERSIONS = {
    ("ukat/L", "U/L"): 60.0, ("g/L", "g/dL"): 0.1, ("g/dL", "g/L"): 10.0, ("mg/dL", "mg/L"): 10.0,
    ("mg/L", "mg/dL"): 0.1, ("{cells}/uL", "10*9/L"): 0.001, ("/uL", "10*9/L"): 0.001,
    ("/mm3", "10*9/L"): 0.001, ("10*3/uL", "10*9/L"): 1.0, ("10*9/L", "{cells}/uL"): 1000.0,
    ("mm", "cm"): 0.1,
}  # fmt: skip

STATUS = r"\[[CPU]\]"


def schema_domains() -> set[str]:
    sql = SCHEMA_FILE.read_text(encoding="utf-8")
    check = re.search(r"domain VARCHAR NOT NULL\s+CHECK \(domain IN \(([^)]*)\)\)", sql)
    assert check, "carta/schema.sql: no CHECK on parameters.domain"
    return set(re.findall(r"'([a-z_]+)'", check.group(1)))


def known_units() -> set[str]:
    return set(dictionary.parameters()["unit"]) | set(dictionary.spellings().values())


# --- the dictionary ---------------------------------------------------------------------------


def test_every_code_has_a_unit_a_domain_a_plausible_range_and_a_status() -> None:
    params = dictionary.parameters()
    assert not params["code"].duplicated().any() and not params["sort"].duplicated().any()
    assert params["unit"].notna().all() and params["unit"].str.strip().ne("").all()
    assert set(params["domain"]) <= schema_domains()
    assert {"chemistry", "coagulation", "urinalysis", "vital"} <= set(params["domain"])
    assert set(params["code"]) == set(dictionary.plausible_ranges()["code"])
    assert params["source_note"].str.contains(STATUS).all()
    loinc = params["loinc"].dropna()
    assert loinc.str.fullmatch(r"\d{1,6}-\d").all(), loinc[~loinc.str.fullmatch(r"\d+-\d")]
    assert params["better"].dropna().isin(["lower", "higher"]).all()
    # Every unit reads back as itself: a file that writes the dictionary unit keeps it.
    for unit in params["unit"]:
        assert dictionary.normal_unit(unit) == unit, unit
        assert dictionary.normal_unit(unit.upper()) == unit, unit


def test_the_25_original_codes_come_first_unchanged() -> None:
    params = dictionary.parameters()
    first = params["code"].head(25).tolist()
    assert first[:3] == ["CK", "LDH", "ALDOLASE"] and first[-1] == "EXTRAMUSC"
    # synth.py indexes codes by their place in sort order: new codes sort after the old ones.
    assert params["sort"].iloc[25:].min() > params["sort"].head(25).max()


@pytest.mark.parametrize("code", sorted(CDISC_CODES))
def test_every_code_resolves_from_its_cdisc_test_code(code: str) -> None:
    lookup = dictionary.code_lookup()
    sent = CDISC_CODES[code]
    if isinstance(sent, tuple):
        assert dictionary.resolve_in_specimen(sent[0], sent[1], lookup) == code
        # ... while the same test code in blood stays the blood parameter (or unknown).
        assert dictionary.resolve_in_specimen(sent[0], "SERUM", lookup) != code
    else:
        assert dictionary.resolve_code(sent, lookup) == code


def test_every_code_is_listed_with_its_cdisc_test_code_or_has_none() -> None:
    codes = set(dictionary.parameters()["code"])
    assert set(CDISC_CODES) | NO_CDISC_CODE == codes
    assert not set(CDISC_CODES) & NO_CDISC_CODE


@pytest.mark.parametrize(
    ("name", "code"),
    [("NEUT", "ANC"), ("Neutrophils", "ANC"), ("HGB", "HGB"), ("Hemoglobin", "HGB"),
     ("ALT", "ALT"), ("Alanine Aminotransferase", "ALT"), ("SYSBP", "SYSBP"),
     ("Systolic Blood Pressure", "SYSBP"), ("BUN", "UREAN"), ("SpO2", "OXYSAT"),
     ("HR", "PULSE"), ("Ery. Mean Corpuscular HGB Concentration", "MCHC"),
     ("NT-proBNP", "NTPROBNP"), ("2160-0", "CREAT"), ("Gamma-GT", "GGT")],
)  # fmt: skip
def test_common_names_resolve(name: str, code: str) -> None:
    assert dictionary.resolve_code(name, dictionary.code_lookup()) == code


def test_no_alias_is_ambiguous() -> None:
    """A name means one parameter: no alias names a code that does not exist, repeats another
    alias, or is another parameter's code, label or LOINC code."""
    params = dictionary.parameters()
    aliases = pd.read_csv(dictionary.REFERENCE_DIR / "parameter_aliases.csv", dtype=str)
    assert set(aliases["code"]) <= set(params["code"])
    key = dictionary._key
    keys = aliases["alias"].map(key)
    meanings = aliases.groupby(keys)["code"].nunique()
    assert (meanings == 1).all(), meanings[meanings > 1]
    own = {}
    for code, label, loinc in zip(params["code"], params["label"], params["loinc"], strict=True):
        for name in (code, label, loinc):
            if isinstance(name, str):
                assert own.setdefault(key(name), code) == code, name
    clashes = [(a, c, own[k]) for a, c, k in zip(aliases["alias"], aliases["code"], keys,
                                                 strict=True) if own.get(k, c) != c]  # fmt: skip
    assert not clashes


# --- units ------------------------------------------------------------------------------------


def test_unit_spellings_keep_the_old_ones_and_read_back_as_themselves() -> None:
    spellings = dictionary.unit_spellings()
    assert spellings["spelling"].eq(spellings["spelling"].str.strip().str.lower()).all()
    assert not spellings["spelling"].duplicated().any()
    assert spellings["source_note"].str.contains(STATUS).all()
    mapping = dictionary.spellings()
    assert {s: mapping[s] for s in OLD_SPELLINGS} == OLD_SPELLINGS
    for unit in set(mapping.values()):
        assert dictionary.normal_unit(unit) == unit, unit


@pytest.mark.parametrize(
    ("written", "unit"),
    [("µmol/l", "umol/L"), ("μmol/L", "umol/L"), ("mmHg", "mm[Hg]"), ("beats/min", "/min"),
     ("C", "Cel"), ("10^12/L", "10*12/L"), ("mEq/L", "meq/L"), ("mU/L", "m[IU]/L"),
     ("IU/L", "U/L"), (" U/L ", "U/L"), ("/nl", "10*9/L"), ("mg/L FEU", "mg/L{FEU}"),
     ("something else", "something else")],
)  # fmt: skip
def test_spelled_units(written: str, unit: str) -> None:
    assert dictionary.normal_unit(written) == unit


def test_every_conversion_is_between_known_ucum_spellings() -> None:
    frame = dictionary.unit_conversions()
    params = dictionary.parameters().set_index("code")
    units = known_units()
    key = frame[["from_unit", "to_unit", "code"]].fillna("")
    assert not key.duplicated().any(), frame[key.duplicated(keep=False)]
    assert frame["source_note"].str.contains(STATUS).all()
    assert (frame["factor"] > 0).all() and frame["from_unit"].ne(frame["to_unit"]).all()
    for row in frame.itertuples():
        for unit in (row.from_unit, row.to_unit):
            assert unit in units and dictionary.normal_unit(unit) == unit, (row.Index, unit)
        if isinstance(row.code, str):
            # A conversion for one analyte names it, and is to or from its unit.
            assert row.code in params.index, row.code
            assert params.at[row.code, "unit"] in (row.from_unit, row.to_unit), row
    # Both directions, where given, agree.
    factors = dictionary.conversions()
    for (source, target, code), factor in factors.items():
        back = factors.get((target, source, code))
        if back is not None:
            assert factor * back == pytest.approx(1.0, rel=1e-3), (source, target, code)


def test_the_old_conversions_are_kept() -> None:
    assert {k: dictionary.conversion_factor(*k) for k in OLD_CONVERSIONS} == OLD_CONVERSIONS


def test_a_molar_conversion_holds_for_its_analyte_only() -> None:
    assert dictionary.conversion_factor("mmol/L", "g/dL", "HGB") == 1.611
    assert dictionary.conversion_factor("mmol/L", "g/dL", "ALB") is None
    assert dictionary.conversion_factor("umol/L", "mg/dL", "CREAT") == pytest.approx(1 / 88.4)
    assert dictionary.conversion_factor("umol/L", "mg/dL", "GLUC") is None
    assert dictionary.conversion_factor("meq/L", "mmol/L", "SODIUM") == 1.0
    assert dictionary.conversion_factor("meq/L", "mmol/L", "CA") == 0.5
    # Generic ones hold for any code; the same unit needs no conversion.
    assert dictionary.conversion_factor("ukat/L", "U/L", "GGT") == 60.0
    assert dictionary.conversion_factor("g/L", "g/L", "ALB") == 1.0
    # °F to °C is affine, not a factor: not converted.
    assert dictionary.conversion_factor("[degF]", "Cel", "TEMP") is None


# --- through the importer ---------------------------------------------------------------------


def table_csv(table: str, rows: list[dict]) -> str:
    names = columns(table)
    return "\n".join([",".join(names), *(",".join(r.get(c, "") for c in names) for r in rows)])


# (code, value, unit as the file writes it, the value in the dictionary unit as a lab rounds it)
WORKED = [
    ("HGB", "8.0", "mmol/L", 12.9),
    ("ALT", "0.5", "µkat/L", 30.0),
    ("CREAT", "88.4", "µmol/L", 1.0),
    ("CRP", "1.2", "mg/dL", 12.0),
    ("ALB", "4.0", "g/dL", 40.0),
    ("IGG", "1000", "mg/dL", 10.0),
    ("GLUC", "5.5", "mmol/L", 99.1),
    ("BILI", "17.1", "umol/L", 1.0),
    ("CA", "9.0", "mg/dL", 2.245),
    ("CHOL", "5.0", "mmol/L", 193.4),
    ("TRIG", "1.0", "mmol/L", 88.6),
    ("UREAN", "5.0", "mmol/L", 14.0),
    ("SODIUM", "140", "mEq/L", 140.0),
    ("WBC", "5400", "/mm3", 5.4),
    ("CD4", "0.8", "10*9/L", 800.0),
    ("PLT", "250", "/nl", 250.0),
    ("TEMP", "38.2", "C", 38.2),
    ("SYSBP", "120", "mmHg", 120.0),
    ("PULSE", "88", "beats/min", 88.0),
    ("WEIGHT", "66", "lb", 29.9),
    ("PGA", "45", "mm", 4.5),
]
REFUSED = [  # (code, value, unit): no conversion, or one that is another analyte's
    ("GLUC", "5500", "umol/L"),
    ("ALB", "600", "umol/L"),
    ("TEMP", "100.4", "F"),
    ("ANC", "55", "%"),
]


def test_worked_conversions_through_the_import_path(empty_store, tmp_path) -> None:
    folder = tmp_path / "centre"
    folder.mkdir()
    (folder / "sources.csv").write_text(
        table_csv("sources", [{"source_id": "site-l", "kind": "site", "citation": "Site L"}])
    )
    (folder / "patients.csv").write_text(table_csv("patients", [
        {"patient_id": "L-01", "source_id": "site-l", "cohort": "Site L", "sex": "F",
         "age_years": "12", "follow_up_days": "365", "synthetic": "false"}]))  # fmt: skip
    rows = [
        {"patient_id": "L-01", "day": str(day), "code": code, "value": value, "unit": unit,
         "specimen": "blood", "source_id": "site-l"}
        for day, (code, value, unit, *_) in enumerate([*WORKED, *REFUSED])
    ]  # fmt: skip
    (folder / "observations.csv").write_text(table_csv("observations", rows))
    result = import_files(sorted(folder.iterdir()), empty_store, dry_run=True)
    report = next(r for r in result.files if r.table == "observations")
    stored = report.rows.set_index("code")
    params = dictionary.parameters().set_index("code")
    for code, _, unit, expected in WORKED:
        assert stored.at[code, "unit"] == params.at[code, "unit"], code
        assert float(stored.at[code, "value"]) == pytest.approx(expected, rel=2e-3), (code, unit)
    assert report.rejected == len(REFUSED)
    reasons = {p.row: p.reason for p in report.problems if not p.is_warning}
    first = len(WORKED) + 2  # the header is line 1
    assert all(
        reasons[line].startswith(f"unit {unit} cannot be converted")
        or reasons[line].startswith(f"unit {dictionary.normal_unit(unit)} cannot be converted")
        for line, (_, _, unit) in enumerate(REFUSED, start=first)
    ), reasons


# --- the shared CDISC test data ---------------------------------------------------------------


def _dataset_json(path: Path) -> pd.DataFrame:
    data = json.loads(path.read_text(encoding="utf-8"))
    return pd.DataFrame(data["rows"], columns=[c["name"] for c in data["columns"]])


def shared_tests() -> pd.DataFrame:
    """Every result of the shared data: test code and name, specimen (LBSPEC) and category (LBCAT,
    which says URINALYSIS where there is no LBSPEC), standard unit and standard number."""
    if not CDISC.is_dir():
        pytest.fail(f"the CDISC test data are missing: {CDISC} (a copy of shared/ beside the repo)")
    frames = []
    for path, prefix in ((CDISC / "sdtm-msg-v1.1" / "lb.json", "LB"),
                         (CDISC / "sdtm-msg-v1.1" / "vs.json", "VS")):  # fmt: skip
        frames.append(_dataset_json(path).rename(columns=lambda c, p=prefix: c.replace(p, "", 1)))
    frames.append(pd.read_csv(CDISC / "sdtm-statin-csv" / "lb.csv", dtype=str)
                  .rename(columns=lambda c: c.replace("LB", "", 1)))  # fmt: skip
    frames.append(pd.read_sas(CDISC / "sdtm-tdf" / "lbur.xpt", encoding="latin1")
                  .rename(columns=lambda c: c.replace("LB", "", 1)))  # fmt: skip
    adam = pd.read_sas(CDISC / "adam-tdf" / "adlbhy.xpt", encoding="latin1")
    frames.append(pd.DataFrame({"TESTCD": adam["PARAMCD"], "TEST": adam["PARAM"],
                                "STRESU": adam["PARAM"].str.extract(r"\(([^()]*)\)\s*$")[0],
                                "STRESN": adam["AVAL"]}))  # fmt: skip
    cols = ["TESTCD", "TEST", "SPEC", "CAT", "STRESU", "STRESN"]
    tests = pd.concat([f.reindex(columns=cols) for f in frames], ignore_index=True)
    tests["STRESN"] = pd.to_numeric(tests["STRESN"], errors="coerce")
    return tests.replace({"": None})


def test_every_shared_test_code_resolves_or_is_kept_as_an_other_test() -> None:
    lookup = dictionary.code_lookup()
    codes = set(dictionary.parameters()["code"])
    tests = shared_tests().drop_duplicates(["TESTCD", "TEST", "SPEC", "CAT"])
    tests["WHERE"] = tests["SPEC"].fillna(tests["CAT"])
    unresolved = set()
    for row in tests.itertuples():
        code = dictionary.resolve_in_specimen(row.TESTCD, row.WHERE, lookup)
        by_name = dictionary.resolve_code(row.TEST, lookup)
        if row.TESTCD in KEPT_AS_OTHER_TESTS:
            assert code not in codes and by_name not in codes, row
        elif code not in codes:
            unresolved.add(row.TESTCD)
        else:
            # The test name, where it names a parameter, names the same one.
            assert by_name == code or by_name not in codes, row
    assert not unresolved
    assert set(KEPT_AS_OTHER_TESTS) <= set(tests["TESTCD"])


def test_the_shared_data_units_convert_and_the_values_are_plausible() -> None:
    """Every standard result of the shared data that resolves has a unit the dictionary converts
    (or none, for the unitless urine tests), and its value, converted, lies in the plausible
    range: the bounds are not so tight that ordinary results fail them."""
    lookup = dictionary.code_lookup()
    params = dictionary.parameters().set_index("code")
    ranges = dictionary.plausible_ranges().set_index("code")
    tests = shared_tests().dropna(subset=["STRESN"])
    where = tests["SPEC"].fillna(tests["CAT"])
    tests["code"] = [dictionary.resolve_in_specimen(t, s, lookup)
                     for t, s in zip(tests["TESTCD"], where, strict=True)]  # fmt: skip
    tests = tests[tests["code"].isin(params.index)]
    assert len(tests) > 1000
    no_unit = set(tests.loc[tests["STRESU"].isna(), "code"])
    # HCT comes as a fraction without a unit (0.46): refused, never read as 0.46 %.
    assert no_unit == {"HCT", "UPH", "SPGRAV"}, no_unit
    seen = set()
    for (code, unit), group in tests.dropna(subset=["STRESU"]).groupby(["code", "STRESU"]):
        given = dictionary.normal_unit(unit)
        factor = dictionary.conversion_factor(given, params.at[code, "unit"], code)
        assert factor is not None, (code, unit)
        values = group["STRESN"] * factor
        low, high = ranges.at[code, "plausible_low"], ranges.at[code, "plausible_high"]
        assert values.min() >= low and (pd.isna(high) or values.max() <= high), (code, unit)
        seen.add(code)
    assert {"HGB", "CREAT", "BILI", "GLUC", "TEMP", "SYSBP", "WEIGHT", "HEIGHT"} <= seen
    fraction = tests.loc[(tests["code"] == "HCT") & tests["STRESU"].isna(), "STRESN"]
    assert (fraction < ranges.at["HCT", "plausible_low"]).all()
