"""Vulnerable customer and financial hardship flags: the one way to set and clear them.

Each flag is a CaseFlag row (who set it, why, when; who cleared it, why, when) and the
complaint's column of its kind, which the queues sort on and the clocks' conditions read; the
column changes with a history row, in the transaction that writes the flag. Staff only: no
customer page, email or customer-facing text reads either.
"""

from django.db import transaction
from django.utils import timezone

from complaints.models import CaseFlag, FlagKind
from complaints.permissions import Action, require
from complaints.services.clocks import clocks_recompute
from complaints.services.common import attribute, locked
from complaints.workflow import Refused

REASON_LIMIT = 2_000


def flag_kind(kind):
    try:
        return FlagKind(kind)
    except ValueError:
        raise Refused(f"There is no {kind!r} flag: say vulnerable or hardship.") from None


def _reason(text, what):
    text = (text or "").strip()
    if not text:
        raise Refused(f"Say {what}.")
    if len(text) > REASON_LIMIT:
        raise Refused(f"Keep the reason within {REASON_LIMIT} characters.")
    return text


def intake_flags(flags):
    """The flags a complaint is logged with ({kind: reason}), checked before anything is
    written: complaint_create sets their columns before the first save, so the "Logged"
    history row already carries them, and records them with intake_flags_record."""
    return {
        flag_kind(kind): _reason(reason, "why the flag is set") for kind, reason in flags.items()
    }


def intake_flags_record(complaint, flags, *, actor, at):
    """The CaseFlag rows of a complaint just logged. `actor` is None for the customer's own
    request for extra support on the public form."""
    return CaseFlag.objects.bulk_create(
        CaseFlag(complaint=complaint, kind=kind, reason=reason, set_by=actor, set_at=at)
        for kind, reason in flags.items()
    )


@transaction.atomic
def flag_set(complaint, kind, *, actor, reason):
    """Flag the case (a vulnerable customer, financial hardship), saying why."""
    complaint, kind, reason = _checked(complaint, kind, actor, reason, "why the flag is set")
    if getattr(complaint, kind):
        raise Refused(f"This complaint is already flagged: {kind.label.lower()}.")
    flag = CaseFlag.objects.create(
        complaint=complaint, kind=kind, reason=reason, set_by=actor, set_at=timezone.now()
    )
    _keep(complaint, kind, True, actor, f"Flagged: {kind.label.lower()}")
    return flag


@transaction.atomic
def flag_clear(complaint, kind, *, actor, reason):
    """Clear the case's live flag of `kind`, saying why; the flag stays on record."""
    complaint, kind, reason = _checked(complaint, kind, actor, reason, "why the flag is cleared")
    cleared = CaseFlag.objects.filter(
        complaint=complaint, kind=kind, cleared_at__isnull=True
    ).update(cleared_by=actor, cleared_at=timezone.now(), clear_reason=reason)
    if not cleared:
        raise Refused(f"This complaint is not flagged: {kind.label.lower()}.")
    _keep(complaint, kind, False, actor, f"Flag cleared: {kind.label.lower()}")
    return complaint


def _checked(complaint, kind, actor, reason, what):
    """The input checked, then the complaint locked and the actor's permission checked."""
    kind, reason = flag_kind(kind), _reason(reason, what)
    complaint = locked(complaint)
    require(actor, complaint, Action.FLAG)
    return complaint, kind, reason


def _keep(complaint, kind, value, actor, history_reason):
    setattr(complaint, kind, value)
    # A flag selects clocks (ASIC's 21 days for hardship): those that apply now replace
    # those that no longer do, counted from the same start, in this transaction.
    fields = [kind, "updated_at"]
    clocks_recompute(complaint, at=timezone.now(), fields=fields)
    attribute(complaint, actor, history_reason)
    complaint.save(update_fields=fields)
