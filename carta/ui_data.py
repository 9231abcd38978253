"""The Data page's widgets (pages/data.py): the import (check, then publish), the templates, the
import history with undo, and the parameter dictionary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from carta import dictionary, display, ui, ui_access, ui_quality, uploads
from carta.ingest.importer import import_files, read_mapping
from carta.schema import DATA_TABLES, columns
from carta.store import (
    StoreError,
    kept_versions,
    store_path,
    use_version,
    versions_dir,
)


def uploaded_mapping(file) -> dict[str, str] | None:
    """The names a mapping file adds, or None (with the reason shown) when it cannot be used."""
    if file is None:
        return {}
    try:
        with uploads.saved([file]) as [path]:
            return read_mapping(path)
    except (StoreError, ValueError, UnicodeDecodeError) as error:  # pandas' parse errors too
        st.error(f"The mapping file {display.escape_markdown(file.name)} cannot be used: "
                 f"{display.escape_markdown(str(error).splitlines()[0] if str(error) else '')}. "
                 "The other files are not checked until it is fixed or removed.")  # fmt: skip
        return None


def source_choice() -> str | None:
    """The source of files without a source_id column, among those this person may write."""
    known = ui.query("source_ids")["source_id"].tolist()
    writable = ui.access().writable_sources
    choices = [s for s in known if writable is None or s in writable]
    own = "(each file names its source)"
    chosen = st.selectbox(
        "Source of files without a source_id column", [own, *choices], key="import-source",
        help="A clinic's sheet need not repeat its source on every line: name it once here. "
        "Only the sources you may import into are listed.",
    )  # fmt: skip
    return None if chosen == own else chosen


def show_report(result) -> None:
    for note in result.notes:  # how day 0 was found in a package, which forms were read …
        st.caption(display.escape_markdown(note))
    summary = pd.DataFrame(
        {
            "File": [r.file.name for r in result.files],
            "Table": [(r.table or "—").replace("_", " ") for r in result.files],
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


def import_section() -> None:
    st.markdown(
        "Upload files in Carta's import format (one per table, named after it: `patients.csv`, "
        "`observations.csv`, …; templates in the next tab), wide lab sheets (one column per "
        "test), the datasets of an SDTM or ADaM package (`.xpt`, Dataset-JSON `.json`/`.ndjson`, "
        "or CSV: DM, EX, AE, LB … together, read as one package), or a REDCap records export "
        "(docs/import-format.md). Every row is checked first; nothing changes until you confirm. "
        "Uploaded files are deleted as soon as they have been read."
    )
    files = st.file_uploader(
        "Files to import", type=["csv", "xlsx", "xpt", "json", "ndjson", "dsjc"],
        accept_multiple_files=True, key="uploads",
    )  # fmt: skip
    source = source_choice()
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
    options = {"mapping": mapping, "day0_treatment": day0_treatment, "source": source,
               "writable": ui.access().writable_sources}  # fmt: skip
    if files and mapping is not None:
        # A rerun (any click) must not check the same files again: the check of a large file
        # takes seconds. It is kept for these uploads, these options and this store version.
        upload_key = (
            tuple(f.file_id for f in files),
            tuple(sorted(mapping.items())),
            day0_treatment,
            source,
            ui.require_store(),
        )
        kept = st.session_state.get("checked")
        if kept is None or kept[0] != upload_key:
            with st.spinner("Checking every row…"), uploads.saved(files) as paths:
                report = import_files(paths, dry_run=True, **options)
            for file_report in report.files:
                file_report.rows = None  # the report is what is shown; the rows are read again
            kept = st.session_state["checked"] = (upload_key, report)
        _, checked = kept
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
            with uploads.saved(files) as paths:
                result = import_files(
                    paths, progress=lambda f, m: bar.progress(min(f, 1.0), text=m), **options
                )
            bar.empty()
            if result.version is not None:
                ui_access.record("import", ", ".join(f.name for f in files),
                                 f"store version {result.version}")  # fmt: skip
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
            ui_quality.after_import(last.version)
        for report in last.files:
            if report.quarantine:
                label = f"Refused rows of {report.file.name}, with reasons"
                key = f"quarantine-{report.file.name}-{report.table}"
                quarantine_download(report.quarantine, label, key)


def quarantine_download(path: Path, label: str, key: str) -> None:
    st.download_button(label, ui.audited(path.read_bytes, path.name), file_name=path.name,
                       mime="text/csv", key=key, on_click="ignore")  # fmt: skip


def templates_section() -> None:
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
            on_click="ignore",  # no rerun: a click on the next one finds its file still there
        )


# The import history in words; a file's fingerprint (its SHA-256) cut to what tells files apart.
HISTORY_COLUMNS = {
    "import_id": "Import",
    "imported_at": "Imported at",
    "file_name": "File",
    "rows_accepted": "Rows accepted",
    "rows_rejected": "Rows refused",
    "store_version": "Store version",
    "fingerprint": "Fingerprint (SHA-256, first 12)",
}
VERSION_COLUMNS = {
    "version": "Version",
    "built_at": "Built at",
    "imported": "Files it added",
    "published": "Published now",
}


def readable_history(imports: pd.DataFrame) -> pd.DataFrame:
    return imports.assign(fingerprint=imports["sha256"].str[:12])[list(HISTORY_COLUMNS)].rename(
        columns=HISTORY_COLUMNS
    )


def history_section() -> None:
    reader = ui.access()
    if not reader.can_import:
        st.info("The import history is for data managers.")
    else:
        imports = ui.query("import_history")
        if imports.empty:
            st.info("No file has been imported into this store.")
        else:
            st.dataframe(readable_history(imports), hide_index=True, key="history")
    if reader.is_admin:
        versions_section()
    elif reader.can_import:
        st.caption("Undoing an import republishes the whole store, for every source: an admin "
                   "does it.")  # fmt: skip


def _ask_undo(version: int) -> None:
    st.session_state["undo-pending"] = version


def _undo(version: int) -> None:
    """Confirmed: publish `version` again (callbacks run before the page, which then shows it)."""
    use_version(store_path(), version)
    ui_access.record("undo", f"store version {version}", "published again")
    st.session_state.pop("undo-pending", None)
    st.session_state["republished"] = version


def versions_section() -> None:
    """The kept store versions; publishing an earlier one again, after a confirmation."""
    st.subheader("Store versions")
    st.caption(
        "Each import publishes a new version and keeps the earlier ones; publishing an "
        "earlier version again undoes the imports after it (they can be redone the same way)."
    )
    versions = kept_versions(store_path())
    shown = versions.assign(published=versions["published"].map({True: "yes", False: ""}))
    st.dataframe(shown.rename(columns=VERSION_COLUMNS), hide_index=True, key="versions")
    earlier = versions.loc[~versions["published"], "version"].tolist()
    pending = st.session_state.get("undo-pending")
    if earlier and pending not in earlier:
        chosen = st.selectbox("Version", earlier, key="undo-version")
        st.button(f"Publish version {chosen} again", key="undo", on_click=_ask_undo,
                  args=(int(chosen),))  # fmt: skip
    elif pending in earlier:
        live = int(versions.loc[versions["published"], "version"].iloc[0])
        after = versions.loc[versions["version"] > pending, "imported"]
        files = ", ".join(f for f in after if f) or "none"
        st.warning(
            f"**Publish version {pending} again?** Every reader, of every source, then sees "
            f"the store as it was at version {pending}, instead of version {live}. Files "
            f"imported after it leave the view: {display.escape_markdown(files)}. Nothing is "
            "deleted: publishing a later version again brings them back."
        )
        confirm, cancel = st.columns(2)
        confirm.button(f"Yes, publish version {pending}", type="primary", key="undo-confirm",
                       on_click=_undo, args=(pending,))  # fmt: skip
        cancel.button("Cancel", key="undo-cancel", on_click=st.session_state.pop,
                      args=("undo-pending", None))  # fmt: skip
    if (again := st.session_state.pop("republished", None)) is not None:
        st.success(f"Version {again} is published again.")
    quarantine = versions_dir(store_path()).parent / "quarantine"
    for path in sorted(quarantine.glob("*.csv"), reverse=True)[:20]:
        quarantine_download(path, f"Refused rows: {path.name}", f"history-{path.name}")


def dictionary_section() -> None:
    st.dataframe(display.table_style(dictionary.parameters()), hide_index=True, key="dictionary")
