"""What an import reports back: counts a person can check against their CRM, and the rows it
could not read, by the row number they see in Excel.

`Parsed` is a file's outcome before any database work, `Plan` splits it into what to write,
and `build_report` turns both into the `ImportReport` Slack and the CLI print.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["ImportReport", "Parsed", "Plan", "RejectedRow", "build_report"]


@dataclass(frozen=True)
class RejectedRow:
    """A row that was not imported, by the row number the person sees in Excel (header
    included), so they can go straight to it."""

    row: int
    reason: str


_TITLES: Final = {
    "opportunities": ("Opportunities", "opportunities"),
    "quotas": ("Quotas", "quotas"),
    "leads": ("Weekly lead counts", "weeks"),
}


@dataclass(frozen=True)
class ImportReport:
    """What an import did, in counts a person can check against their CRM.

    `imported`, `updated` and `unchanged` count distinct records after de-duplication
    (opportunities, quota lines, or weeks for leads), so they add up to what is now stored
    from this file. `duplicates` are earlier rows replaced by a later row with the same key.
    """

    kind: str
    imported: int
    updated: int
    unchanged: int
    rejected: tuple[RejectedRow, ...]
    columns: dict[str, str]
    duplicates: tuple[RejectedRow, ...] = ()
    notes: tuple[str, ...] = ()

    def summary(self, limit: int = 20) -> str:
        """Plain text for Slack or a terminal: counts, then the first `limit` problems."""
        title, noun = _TITLES.get(self.kind, (self.kind.title(), "records"))
        lines = [
            f"{title}: {self.imported:,} new, {self.updated:,} updated, "
            f"{self.unchanged:,} unchanged; {len(self.rejected):,} "
            f"{'row' if len(self.rejected) == 1 else 'rows'} rejected."
        ]
        if not (self.imported or self.updated or self.unchanged or self.rejected):
            lines.append(f"The file had no {noun} to import.")
        if self.rejected:
            lines.append("Rejected rows (every other row was saved; fix these and import again):")
            lines.extend(_problem_lines(self.rejected, limit, "rejected rows"))
        if self.duplicates:
            lines.append("Rows replaced by a later row with the same key:")
            lines.extend(_problem_lines(self.duplicates, limit, "replaced rows"))
        lines.extend(self.notes)
        return "\n".join(lines)


def _problem_lines(problems: Sequence[RejectedRow], limit: int, what: str) -> list[str]:
    shown = [f"Row {problem.row}: {problem.reason}" for problem in problems[: max(limit, 0)]]
    if len(problems) > len(shown):
        shown.append(f"…and {len(problems) - len(shown):,} more {what}.")
    return shown


@dataclass
class Plan:
    """Parsed rows split into what to write, with the counts for the report."""

    write: list[dict[str, object]] = field(default_factory=list)
    imported: int = 0
    updated: int = 0
    unchanged: int = 0

    def add(self, values: dict[str, object], compared: tuple[object, ...], old: object) -> None:
        if old is None:
            self.imported += 1
            self.write.append(values)
        elif old != compared:
            self.updated += 1
            self.write.append(values)
        else:
            self.unchanged += 1


@dataclass
class Parsed:
    """The outcome of reading a file, before any database work."""

    columns: dict[str, str]
    records: dict[Any, tuple[int, dict[str, object]]] = field(default_factory=dict)
    rejected: list[RejectedRow] = field(default_factory=list)
    duplicates: list[RejectedRow] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def keep(self, key: Any, number: int, values: dict[str, object], label: str) -> None:
        """Last row wins for a repeated key; the earlier one is reported."""
        earlier = self.records.get(key)
        if earlier is not None:
            self.duplicates.append(
                RejectedRow(
                    earlier[0], f"{label} appears again in row {number}; row {number} was used"
                )
            )
        self.records[key] = (number, values)


def build_report(kind: str, parsed: Parsed, plan: Plan) -> ImportReport:
    return ImportReport(
        kind=kind,
        imported=plan.imported,
        updated=plan.updated,
        unchanged=plan.unchanged,
        rejected=tuple(sorted(parsed.rejected, key=lambda problem: problem.row)),
        columns=parsed.columns,
        duplicates=tuple(sorted(parsed.duplicates, key=lambda problem: problem.row)),
        notes=tuple(parsed.notes),
    )
