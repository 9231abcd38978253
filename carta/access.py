"""Who may see and change what: roles per source, read from Carta's access file.

The access file (TOML, named by $CARTA_ACCESS) grants a role over sources to a person (by the
e-mail of their login) or to a group (from the ID token's `groups` claim):

    [users."alice@example.org"]
    role = "clinician"
    sources = ["site-a"]

    [groups."carta-viewers"]
    role = "viewer"
    sources = "*"

Roles, each including the one before: a viewer sees cohort aggregates, with small cells suppressed;
a clinician also sees the patients of the sources granted; a data manager also imports into them;
an admin also undoes imports and reads every quarantine file. A person's role over a source is the
highest of every grant that names the source or "*". Plain Python: the pages ask it, the store
enforces its answer (carta/store.py open_scoped), and the tests check it without a browser.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ACCESS_ENV = "CARTA_ACCESS"
ROLES = ("viewer", "clinician", "data_manager", "admin")
EVERY_SOURCE = "*"
# A table or download cell that counts fewer patients than this is suppressed for viewers.
SMALL_CELL = 5


class AccessFileError(Exception):
    """An access file that cannot be used: the message names the file and the entry."""


def rank(role: str) -> int:
    return ROLES.index(role)


@dataclass(frozen=True)
class Access:
    """What one person may do. `grants` maps a source id (or "*") to the rank of their role."""

    who: str
    grants: Mapping[str, int] = field(default_factory=dict)
    local: bool = False

    def role_over(self, source: str) -> int:
        return max(self.grants.get(source, -1), self.grants.get(EVERY_SOURCE, -1))

    def sources(self, role: str) -> frozenset[str] | None:
        """The sources over which this person has at least `role`; None means every source."""
        needed = rank(role)
        if self.grants.get(EVERY_SOURCE, -1) >= needed:
            return None
        return frozenset(s for s, r in self.grants.items() if s != EVERY_SOURCE and r >= needed)

    @property
    def anyone(self) -> bool:
        """Whether this person may see anything at all."""
        return bool(self.grants)

    @property
    def patient_sources(self) -> frozenset[str] | None:
        return self.sources("clinician")

    @property
    def aggregate_only(self) -> bool:
        """A viewer everywhere: cohort aggregates only, no patient-level view."""
        return self.patient_sources == frozenset()

    @property
    def cohort_sources(self) -> frozenset[str] | None:
        """What the cohort views count: the patients one may see, or for a viewer the sources
        granted (shown as aggregates only). Never a mix, so that no patient-level chart holds a
        patient of a source granted for aggregates only."""
        return self.sources("viewer") if self.aggregate_only else self.patient_sources

    @property
    def writable_sources(self) -> frozenset[str] | None:
        return self.sources("data_manager")

    def can_write(self, source: str) -> bool:
        return self.role_over(source) >= rank("data_manager")

    @property
    def can_import(self) -> bool:
        return self.writable_sources != frozenset()

    @property
    def is_admin(self) -> bool:
        """Admin over every source: undo (which republishes the whole store) and the audit."""
        return self.grants.get(EVERY_SOURCE, -1) >= rank("admin")

    def describe(self) -> str:
        """In words, for the sidebar: the role over each source."""
        if self.local:
            return "local single-user mode: every source, every action"
        parts = []
        for source, level in sorted(self.grants.items(), key=lambda item: (-item[1], item[0])):
            where = "every source" if source == EVERY_SOURCE else source
            parts.append(f"{ROLES[level].replace('_', ' ')} of {where}")
        return "; ".join(parts) or "no access"


LOCAL = Access(who="local user", grants={EVERY_SOURCE: rank("admin")}, local=True)


def access_path() -> Path | None:
    configured = os.environ.get(ACCESS_ENV, "").strip()
    return Path(configured).expanduser() if configured else None


def parse_access(text: str, origin: str = "access file") -> dict[str, dict[str, dict[str, int]]]:
    """{"users"|"groups": {name: {source: rank}}} from the TOML text, or AccessFileError."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AccessFileError(f"{origin} is not valid TOML ({exc}).") from None
    unknown = set(data) - {"users", "groups"}
    if unknown:
        raise AccessFileError(f"{origin}: unknown section {sorted(unknown)[0]!r}; "
                              "expected [users.\"e-mail\"] or [groups.\"name\"].")  # fmt: skip
    parsed: dict[str, dict[str, dict[str, int]]] = {"users": {}, "groups": {}}
    for section in ("users", "groups"):
        for name, entry in data.get(section, {}).items():
            where = f'{origin}, [{section}."{name}"]'
            if not isinstance(entry, dict):
                raise AccessFileError(f"{where}: expected a table with role and sources.")
            role = entry.get("role")
            if role not in ROLES:
                raise AccessFileError(f"{where}: role must be one of {', '.join(ROLES)}.")
            sources = entry.get("sources")
            if sources == EVERY_SOURCE:
                sources = [EVERY_SOURCE]
            if (
                not isinstance(sources, list)
                or not sources
                or not all(isinstance(s, str) and s.strip() for s in sources)
            ):
                raise AccessFileError(f'{where}: sources must be "*" or a list of source ids.')
            key = name.strip().lower() if section == "users" else name.strip()
            parsed[section][key] = {s.strip(): rank(role) for s in sources}
    return parsed


def access_for(email: str | None, groups: Iterable[str], grants_file: Mapping) -> Access:
    """The access of a signed-in person: their own entry and those of their groups, combined."""
    who = (email or "").strip()
    combined: dict[str, int] = {}
    entries = [grants_file["users"].get(who.lower(), {})]
    entries += [grants_file["groups"].get(str(g).strip(), {}) for g in groups or ()]
    for entry in entries:
        for source, level in entry.items():
            combined[source] = max(combined.get(source, -1), level)
    return Access(who=who or "unknown", grants=combined)


def read_access_file(path: Path | None) -> dict[str, dict[str, dict[str, int]]]:
    if path is None:
        raise AccessFileError(
            f"Login is on but no access file is set: name one with {ACCESS_ENV} (docs/security.md)."
        )
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AccessFileError(f"The access file {path} cannot be read ({exc.strerror}).") from None
    return parse_access(text, origin=f"The access file {path.name}")


def suppressed(count: object) -> bool:
    """Whether a count of patients is a small cell: 1 to SMALL_CELL - 1 (0 reveals no one)."""
    try:
        value = int(count)
    except (TypeError, ValueError):
        return False
    return 0 < value < SMALL_CELL
