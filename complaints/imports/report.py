"""What an import tells its caller: the tally of rows, or why the file as a whole failed."""

from dataclasses import dataclass, field

from complaints.imports.mapper import NOT_STATED

MAX_REPORTED_ERRORS = 1000


class ImportFailed(Exception):
    """The file as a whole cannot be imported; nothing was written."""


@dataclass
class ImportReport:
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Complaints someone here has worked on since they were imported, whose row in the file
    # differs from them: left as they are.
    kept: int = 0
    rejected: int = 0
    # Complaints filed under NOT_STATED, their row's Product or Issue being blank; not those
    # `kept` as staff left them.
    not_stated: int = 0
    # The first MAX_REPORTED_ERRORS rejected rows, (line, reason); `rejected` counts them all.
    errors: list = field(default_factory=list)
    dry_run: bool = False

    def reject(self, line, reason):
        self.rejected += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append((line, reason))

    def listed(self, limit):
        """The first `limit` rejected rows, and how many more were rejected beyond them."""
        errors = self.errors[:limit]
        return errors, self.rejected - len(errors)

    def kept_text(self):
        if not self.kept:
            return ""
        return (
            f"{self.kept} complaint{'s' if self.kept != 1 else ''} worked on here since "
            "imported kept what staff wrote; the file's version was not applied."
        )

    def summary(self):
        summary = (
            f"read {self.read}, created {self.created}, updated {self.updated}, "
            f"rejected {self.rejected}"
        )
        if self.not_stated:
            summary += f', filed under "{NOT_STATED}": {self.not_stated}'
        return summary
