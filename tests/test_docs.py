"""The docs keep up with the code: every store column and every parameter is documented."""

from __future__ import annotations

import re

import pytest

from carta import dictionary
from carta.schema import ALL_TABLES, table_columns
from carta.store import ROOT

DICTIONARY = (ROOT / "docs" / "data-dictionary.md").read_text(encoding="utf-8")


def documented_columns(table: str) -> set[str]:
    section = re.search(rf"^## `{table}`\n(.*?)(?=^## |\Z)", DICTIONARY, re.M | re.S)
    assert section, f"docs/data-dictionary.md has no section for table {table}"
    return set(re.findall(r"^\| `([a-z0-9_]+)` \|", section.group(1), re.M))


@pytest.mark.parametrize("table", ALL_TABLES)
def test_every_column_is_documented(table: str) -> None:
    in_schema = {name for name, _ in table_columns()[table]}
    assert documented_columns(table) == in_schema


def test_every_parameter_is_listed() -> None:
    for code in dictionary.parameters()["code"]:
        assert f"| {code} |" in DICTIONARY, code


def test_parameter_dictionary_is_complete() -> None:
    params = dictionary.parameters()
    required = {
        "CK",
        "LDH",
        "ALDOLASE",
        "AST",
        "ALT",
        "CRP",
        "FERRITIN",
        "HGB",
        "ANC",
        "PLT",
        "LYMPH",
        "CART",
        "CD19",
        "IGG",
        "CMAS",
        "MMT8",
        "PGA",
        "PARENT_GA",
        "CHAQ",
        "CAT_ACT",
        "CAT_DMG",
        "DAS_SKIN",
        "DAS_MUSCLE",
        "DAS",
        "EXTRAMUSC",
    }
    assert required <= set(params["code"])
    scores = params[params["domain"] == "score"]
    assert scores["scale_min"].notna().all() and scores["better"].notna().all()
    labs = params[params["domain"].isin(["enzyme", "inflammation", "hematology", "immunoglobulin"])]
    assert labs["ref_high"].notna().all() and labs["loinc"].notna().all()
    assert params["source_note"].str.contains(r"\[[CPU]\]").all()
    assert dict(zip(params["code"], params["loinc"], strict=True))["CD19"] == "8116-6"


def test_default_timepoints_are_ordered_and_disjoint() -> None:
    windows = dictionary.timepoints().sort_values("sort")
    assert {"Baseline", "D7", "D14", "M1", "M2", "M3", "M6", "M8"} <= set(windows["name"])
    assert (windows["day_from"].iloc[1:].to_numpy() > windows["day_to"].iloc[:-1].to_numpy()).all()


def test_every_file_the_readme_links_is_there() -> None:
    readme = (ROOT / "README.md").read_text()
    linked = re.findall(r"\]\(((?:docs|scripts|data|bench)/[^)#]+)\)", readme)
    assert any(path.startswith("docs/screenshots/") for path in linked)
    missing = [path for path in linked if not (ROOT / path).exists()]
    assert missing == []
