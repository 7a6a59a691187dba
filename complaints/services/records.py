"""The case record: edits of the Appendix A fields (with the edit-conflict check), notes and
consultations."""

from django.db import transaction
from django.utils import timezone

from complaints.models import Complaint, Consultation, Note, SignalKind
from complaints.permissions import Action, require
from complaints.services.clocks import CLOCK_FACTS, clocks_recompute
from complaints.services.common import attribute, locked, representative_check
from complaints.services.signals import signal_raise
from complaints.workflow import Refused, Stage

EDITABLE_FIELDS = (
    "customer_name",
    "customer_email",
    "customer_phone",
    "preferred_language",
    "date_of_complaint",
    "description",
    "interaction_details",
    "proposed_resolution",
    "follow_up_actions",
    "category",
    "product",
    "transaction_reference",
    "complexity",
    "root_cause",
    "customer_address",
    "represented",
    "representative_name",
    "complainant_gender",
    "complainant_age_band",
)


class EditConflict(Refused):
    """Someone changed what the user is saving after they opened the form. Saving would
    overwrite their change unseen, so nothing is saved."""

    def __init__(self, *, changed_by, changed_at, fields, version):
        self.changed_by = changed_by
        self.changed_at = changed_at
        self.fields = fields
        self.version = version
        super().__init__(
            f"{changed_by} changed this complaint {self.when} while you were editing. "
            "Your changes were not saved."
        )

    @property
    def when(self):
        local = timezone.localtime(self.changed_at)
        if local.date() == timezone.localdate():
            return f"at {local:%H:%M}"
        return f"on {local:%d %b %Y} at {local:%H:%M}"


def complaint_version(complaint):
    """The version an edit starts from: the complaint's latest history row (0 before any).

    Every writer leaves one (services, clock jobs, CSV imports), while not every writer
    touches updated_at: a re-import's bulk update changes the description without it.
    """
    latest = complaint.history.order_by("-history_id").values_list("history_id", flat=True)
    return latest.first() or 0


def _edit_conflict(complaint, expected_version, names):
    """The EditConflict to raise if a field in `names` changed after `expected_version`.

    Changes to other fields (a stage move, an assignment, a clock job's mark) are no
    conflict: the save leaves them as they are.
    """
    history = complaint.history.select_related("history_user")
    records = list(history.filter(history_id__gte=expected_version).order_by("history_id"))
    if records and records[0].history_id == expected_version:
        latest = records[-1]
        attnames = {name: Complaint._meta.get_field(name).attname for name in names}
        changed = [
            name
            for name, attname in attnames.items()
            if getattr(records[0], attname) != getattr(latest, attname)
        ]
        if not changed:
            return None
        culprit = next(
            record
            for previous, record in reversed(list(zip(records, records[1:], strict=False)))
            if any(getattr(previous, attnames[n]) != getattr(record, attnames[n]) for n in changed)
        )
    else:
        # A version this complaint never had (typed by hand): assume the worst.
        latest = culprit = history.order_by("-history_id").first()
        changed = []
        if latest is None:
            return None
    return EditConflict(
        changed_by=str(culprit.history_user) if culprit.history_user else "The system",
        changed_at=culprit.history_date,
        fields=[str(Complaint._meta.get_field(name).verbose_name) for name in changed],
        version=latest.history_id,
    )


@transaction.atomic
def complaint_update(complaint, *, actor, changes, expected_version=None):
    """Edit the record (Appendix A fields, classification, root cause).

    `expected_version` is complaint_version() when the user opened the form; if someone
    changed any of these fields since, EditConflict is raised and nothing is saved. None
    means no check (scripts and seeding, which edit nothing a person has open).
    """
    complaint = locked(complaint)
    require(actor, complaint, Action.EDIT)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise Refused(f"These fields cannot be edited here: {', '.join(sorted(unknown))}.")
    if not complaint.is_open and complaint.stage != Stage.DOCUMENTED:
        raise Refused("A reviewed complaint is closed and can no longer be edited.")
    if expected_version is not None:
        # Under the row lock: a concurrent save of the same version waits here, then sees
        # the winner's history row and is refused.
        conflict = _edit_conflict(complaint, expected_version, list(changes))
        if conflict is not None:
            raise conflict
    if changes.get("date_of_complaint") and changes["date_of_complaint"] > timezone.localdate():
        raise Refused("The date of the complaint cannot be in the future.")
    representative_check(
        changes.get("represented", complaint.represented),
        changes.get("representative_name", complaint.representative_name),
    )
    changed = [name for name, value in changes.items() if getattr(complaint, name) != value]
    if not changed:
        return complaint
    for name in changed:
        setattr(complaint, name, changes[name])
    if CLOCK_FACTS & set(changed):
        clocks_recompute(complaint, at=timezone.now(), fields=changed)
    complaint.full_clean(exclude=["reference", "category", "product", "root_cause"])
    attribute(complaint, actor, "Record updated")
    complaint.save(update_fields=[*changed, "updated_at"])
    return complaint


@transaction.atomic
def note_add(complaint, *, actor, text):
    complaint = locked(complaint)
    require(actor, complaint, Action.NOTE)
    text = (text or "").strip()
    if not text:
        raise Refused("The note is empty.")
    return Note.objects.create(complaint=complaint, author=actor, text=text)


@transaction.atomic
def consultation_request(complaint, *, actor, department, question, consultee=None):
    complaint = locked(complaint)
    require(actor, complaint, Action.CONSULT)
    department, question = (department or "").strip(), (question or "").strip()
    if not department or not question:
        raise Refused("Name the department or person and write the question.")
    if complaint.stage != Stage.INVESTIGATING:
        raise Refused("Consultations are part of the investigation; start it first.")
    return Consultation.objects.create(
        complaint=complaint,
        asked_by=actor,
        department=department,
        consultee=consultee,
        question=question,
        asked_at=timezone.now(),
    )


@transaction.atomic
def consultation_answer(consultation, *, actor, answer):
    consultation = Consultation.objects.select_for_update().get(pk=consultation.pk)
    complaint = locked(consultation.complaint)
    if consultation.consultee_id != actor.pk:
        require(actor, complaint, Action.CONSULT)
    answer = (answer or "").strip()
    if not answer:
        raise Refused("The answer is empty.")
    if consultation.answered_at is not None:
        raise Refused("This consultation has already been answered.")
    consultation.answer = answer
    consultation.answered_by = actor
    consultation.answered_at = timezone.now()
    consultation.save(update_fields=["answer", "answered_by", "answered_at"])
    signal_raise(
        complaint, SignalKind.CONSULTATION_ANSWERED, for_user=consultation.asked_by, actor=actor
    )
    return consultation
