"""Data: import a centre's files (check, then publish); templates, dictionary, history."""

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from carta import dictionary, display, ui
from carta.ingest.importer import import_files, read_mapping
from carta.schema import DATA_TABLES, columns
from carta.store import (
    StoreError,
    kept_versions,
    real_path,
    store_path,
    use_version,
    versions_dir,
)

ui.require_shell()

st.title("Data")
upload, templates, history, reference = st.tabs(
    ["Import files", "Templates", "Import history", "Parameter dictionary"]
)


def save_uploads(files) -> list[Path]:
    """The uploads in a folder of their own, under their names (a name says the table)."""
    folder = Path(tempfile.mkdtemp(prefix="carta-import-"))
    paths = []
    for file in files:
        path = folder / Path(file.name).name
        path.write_bytes(file.getvalue())
        paths.append(path)
    return paths


def uploaded_mapping(file) -> dict[str, str] | None:
    """The names a mapping file adds, or None (with the reason shown) when it cannot be used."""
    if file is None:
        return {}
    [path] = save_uploads([file])
    try:
        return read_mapping(path)
    except StoreError as error:
        st.error(str(error))
        return None


def show_report(result) -> None:
    for note in result.notes:  # how day 0 was found in a package, which forms were read …
        st.caption(display.escape_markdown(note))
    summary = pd.DataFrame(
        {
            "File": [r.file.name for r in result.files],
            "Table": [r.table or "—" for r in result.files],
            "Status": [r.status for r in result.files],
            "Rows accepted": [r.accepted for r in result.files],
            "Rows refused": [r.rejected for r in result.files],
        }
    )
    st.dataframe(summary, hide_index=True, key="import-summary")
    problems = pd.DataFrame(
        [
            {"File": p.file, "Line": p.row, "Column": p.column, "Reason": p.reason}
            for r in result.files
            for p in r.problems
        ]
    )  # fmt: skip
    if not problems.empty:
        noun = "problem" if len(problems) == 1 else "problems"
        st.markdown(f"**{len(problems):,} {noun}**, one per row and column")
        st.dataframe(problems, hide_index=True, key="import-problems")


with upload:
    st.markdown(
        "Upload files in Carta's import format (one per table, named after it: `patients.csv`, "
        "`observations.csv`, …; templates in the next tab), wide lab sheets (one column per "
        "test), the datasets of an SDTM or ADaM package (`.xpt`, Dataset-JSON `.json`/`.ndjson`, "
        "or CSV: DM, EX, AE, LB … together, read as one package), or a REDCap records export "
        "(docs/import-format.md). Every row is checked first; nothing changes until you confirm."
    )
    files = st.file_uploader(
        "Files to import", type=["csv", "xlsx", "xpt", "json", "ndjson", "dsjc"],
        accept_multiple_files=True, key="uploads",
    )  # fmt: skip
    day0_treatment = st.text_input(
        "CAR T product in EX (optional)", key="day0-treatment",
        help="The EXTRT of the CAR T infusion, when Carta does not recognise its name: day 0 is "
        "its first start date. Without it: a CAR T name in EXTRT, else RFXSTDTC.",
    ).strip() or None  # fmt: skip
    mapping = uploaded_mapping(
        st.file_uploader(
            "Mapping file (optional)",
            type=["csv"],
            key="mapping",
            help="A CSV with columns name and code: other names your files use for a parameter "
            "(e.g. name 'Kreatinkinase', code 'CK'). Codes are in the Parameter dictionary tab.",
        )
    )
    if files and mapping is not None:
        # A rerun (any click) must not check the same files again: the check of a large file
        # takes seconds. It is kept for these uploads, this mapping and this store version.
        upload_key = (
            tuple(f.file_id for f in files),
            tuple(sorted(mapping.items())),
            day0_treatment,
            str(real_path(store_path())),
        )
        kept = st.session_state.get("checked")
        if kept is None or kept[0] != upload_key:
            if kept is not None:
                shutil.rmtree(kept[1][0].parent, ignore_errors=True)
            paths = save_uploads(files)
            with st.spinner("Checking every row…"):
                report = import_files(paths, dry_run=True, mapping=mapping,
                                      day0_treatment=day0_treatment)  # fmt: skip
            for file_report in report.files:
                file_report.rows = None  # the report is what is shown; the rows are read again
            kept = st.session_state["checked"] = (upload_key, paths, report)
        _, paths, checked = kept
        st.subheader("Check")
        show_report(checked)
        importable = sum(r.accepted for r in checked.files if r.status == "checked")
        if all(r.status == "already imported" for r in checked.files):
            st.info("These files are in the store already (see Import history).")
        elif importable == 0:
            st.info("Nothing to import from these files.")
        elif st.button(
            f"Import {importable:,} row{'s' if importable != 1 else ''}", type="primary",
            key="confirm",
        ):  # fmt: skip
            bar = st.progress(0.0, text="importing")
            result = import_files(
                paths, mapping=mapping, progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
                day0_treatment=day0_treatment,
            )  # fmt: skip
            bar.empty()
            # Rerun, so that the sidebar, the check and every cached query show the new version.
            for file_report in result.files:
                file_report.rows = None
            st.session_state["last_import"] = result
            st.rerun()
    last = st.session_state.pop("last_import", None)
    if last is not None:
        if last.version is None:
            st.warning("Nothing was imported; the store is unchanged.")
        else:
            rows = f"{last.accepted:,} row{'s' if last.accepted != 1 else ''}"
            st.success(
                f"Imported {rows}: store version {last.version} is published. Its patients are "
                "in the patient list; Import history undoes an import."
            )
        for report in last.files:
            if report.quarantine:
                st.download_button(
                    f"Refused rows of {report.file.name}, with reasons",
                    report.quarantine.read_bytes(),
                    file_name=report.quarantine.name,
                    mime="text/csv",
                    key=f"quarantine-{report.file.name}-{report.table}",
                )

with templates:
    st.markdown(
        "Empty files with the columns of each table; docs/data-dictionary.md explains them."
    )
    for table in DATA_TABLES:
        st.download_button(
            f"{table}.csv",
            ",".join(columns(table)) + "\n",
            file_name=f"{table}.csv",
            mime="text/csv",
            key=f"template-{table}",
        )

with history:
    imports = ui.query("import_history")
    if imports.empty:
        st.info("No file has been imported into this store.")
    else:
        st.dataframe(imports, hide_index=True, key="history")
    st.subheader("Store versions")
    st.caption(
        "Each import publishes a new version and keeps the earlier ones; publishing an earlier "
        "version again undoes the imports after it (they can be redone the same way)."
    )
    versions = kept_versions(store_path())
    st.dataframe(versions, hide_index=True, key="versions")
    earlier = versions.loc[~versions["published"], "version"].tolist()
    if earlier:
        chosen = st.selectbox("Version", earlier, key="undo-version")
        if st.button(f"Publish version {chosen} again", key="undo"):
            use_version(store_path(), int(chosen))
            st.session_state["republished"] = int(chosen)
            st.rerun()
    if (again := st.session_state.pop("republished", None)) is not None:
        st.success(f"Version {again} is published again.")
    quarantine = versions_dir(store_path()).parent / "quarantine"
    for path in sorted(quarantine.glob("*.csv"), reverse=True)[:20]:
        st.download_button(
            f"Refused rows: {path.name}",
            path.read_bytes(),
            file_name=path.name,
            mime="text/csv",
            key=f"history-{path.name}",
        )

with reference:
    st.dataframe(dictionary.parameters(), hide_index=True, key="dictionary")
