"""Every write of case data. Each function locks the complaint, checks the rules, changes it
and records what happened, in one transaction.

`actor` is a User, or None when the system or the customer's own link acts (the StageChange
note then says which).
"""

import os
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.roles import Capability, can, workflow_role
from complaints import clocks, emails, outbox, workflow
from complaints.models import (
    MONEY_RESOLUTION_TYPES,
    AcknowledgmentMethod,
    Attachment,
    Complaint,
    Consultation,
    EscalationLevel,
    Feedback,
    Holiday,
    Note,
    ReferenceCounter,
    Resolution,
    ResolutionStatus,
    Review,
    StageChange,
)
from complaints.permissions import Action, require
from complaints.uploads import check_upload
from complaints.workflow import Refused, Stage

STAGE_TIMESTAMP = {
    Stage.INVESTIGATING: "investigation_started_at",
    Stage.RESOLVED: "resolved_at",
    Stage.FOLLOW_UP: "follow_up_started_at",
    Stage.DOCUMENTED: "documented_at",
    Stage.REVIEWED: "reviewed_at",
}
LIVE_RESOLUTION = (
    ResolutionStatus.AWAITING_APPROVAL,
    ResolutionStatus.PROPOSED,
    ResolutionStatus.ACCEPTED,
)
EDITABLE_FIELDS = (
    "customer_name",
    "customer_email",
    "customer_phone",
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
)


# Clocks ---------------------------------------------------------------------------------


def holidays():
    return frozenset(Holiday.objects.values_list("date", flat=True))


def acknowledgment_due(received_at):
    return clocks.due_at(clocks.ClockSpec(settings.ACKNOWLEDGMENT_HOURS, clocks.HOURS), received_at)


def resolution_target(received_at, complexity):
    amount, unit = settings.RESOLUTION_TARGETS[complexity]
    return clocks.due_date(
        clocks.ClockSpec(amount, unit), received_at, settings.TIME_ZONE, holidays()
    )


def _retarget(complaint, target_date, fields, *, today):
    """Give the complaint a new resolution target. The overdue mark belongs to the target it
    was set for: a new target not yet past lifts it, so the clock job enforces the new one
    once (a new target date is a new delay notice, never the same one twice); a target still
    past keeps it, so nothing is escalated or sent again."""
    if target_date == complaint.resolution_target_date:
        return
    complaint.resolution_target_date = target_date
    fields.append("resolution_target_date")
    if complaint.resolution_overdue_at is not None and target_date >= today:
        complaint.resolution_overdue_at = None
        fields.append("resolution_overdue_at")


# Helpers --------------------------------------------------------------------------------


def _locked(complaint):
    """Re-read the complaint under a row lock, so two people cannot change it at once."""
    return Complaint.objects.select_for_update().get(pk=complaint.pk)


def _attribute(instance, actor, reason):
    """Tell django-simple-history who made the change and why, also outside a request."""
    instance._history_user = actor
    instance._change_reason = reason


def _role(actor):
    return workflow_role(actor) if actor is not None else workflow.SYSTEM


def _next_reference(year):
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"CMP-{year}-{counter.last_number:06d}"


def references_reserve(year, count):
    """Take `count` consecutive references for `year` at once (bulk imports)."""
    counter, _ = ReferenceCounter.objects.select_for_update().get_or_create(year=year)
    first = counter.last_number + 1
    counter.last_number += count
    counter.save(update_fields=["last_number"])
    return (f"CMP-{year}-{number:06d}" for number in range(first, first + count))


def case_facts(complaint):
    resolutions = list(complaint.resolutions.all())
    live = [r for r in resolutions if r.status in LIVE_RESOLUTION]
    missing_fields = [
        label
        for label, value in (
            ("the description", complaint.description),
            ("a category", complaint.category_id),
        )
        if not value
    ]
    return workflow.CaseFacts(
        acknowledged=complaint.acknowledged_at is not None,
        has_resolution_proposal=bool(live),
        resolution_pending_approval=any(
            r.status == ResolutionStatus.AWAITING_APPROVAL for r in live
        ),
        resolution_implemented=any(r.status == ResolutionStatus.IMPLEMENTED for r in resolutions),
        has_root_cause=complaint.root_cause_id is not None,
        has_feedback=complaint.feedback.exists(),
        feedback_waived=bool(complaint.feedback_waived_reason),
        has_investigation_record=complaint.notes.exists() or complaint.consultations.exists(),
        has_review=hasattr(complaint, "review") and complaint.review is not None,
        missing_fields=tuple(missing_fields),
    )


def _move(complaint, target, *, actor, note="", at=None, role=None, reopen=False):
    """Change the stage of a complaint already locked by the caller. The one stage writer."""
    at = at or timezone.now()
    source = Stage(complaint.stage)
    workflow.check_transition(source, target, role or _role(actor), case_facts(complaint))
    target = Stage(target)
    complaint.stage = target
    fields = ["stage", "updated_at"]
    if target in STAGE_TIMESTAMP:
        setattr(complaint, STAGE_TIMESTAMP[target], at)
        fields.append(STAGE_TIMESTAMP[target])
    if target == Stage.REVIEWED:
        complaint.closed_at = at
        fields.append("closed_at")
    if target == Stage.FOLLOW_UP:
        # Each follow-up round asks for feedback afresh, also after a reopening.
        complaint.feedback_requested_at = complaint.feedback_reminded_at = None
        complaint.feedback_waived_reason = ""
        fields += ["feedback_requested_at", "feedback_reminded_at", "feedback_waived_reason"]
    # Reports count reopenings: the customer sent the case back, not a manager's rework.
    if reopen or (target == Stage.INVESTIGATING and source == Stage.FOLLOW_UP):
        complaint.reopen_count += 1
        fields.append("reopen_count")
        # A target that has passed would have the clock job send a delay notice and escalate
        # the moment the customer reopens the case: it gets a fresh one, counted from the
        # reopening as from a new complaint. A target still ahead stands: it was promised.
        today = timezone.localdate(at)
        if complaint.resolution_target_date < today:
            _retarget(complaint, resolution_target(at, complaint.complexity), fields, today=today)
    if target == Stage.INVESTIGATING and source == Stage.RESOLVED:
        # A proposal still on the table is void once the case goes back to investigation.
        for resolution in complaint.resolutions.filter(status__in=LIVE_RESOLUTION):
            resolution.status = ResolutionStatus.WITHDRAWN
            resolution.save(update_fields=["status"])
    _attribute(complaint, actor, note[:100] if note else f"Moved to {target.label}")
    complaint.save(update_fields=fields)
    StageChange.objects.create(
        complaint=complaint, from_stage=source, to_stage=target, actor=actor, at=at, note=note
    )
    return complaint


def _expect_stage(complaint, expected_stage):
    """Refuse clearly when someone else moved the complaint since the user loaded the page."""
    if expected_stage and complaint.stage != expected_stage:
        last = complaint.stage_changes.order_by("-at", "-id").select_related("actor").first()
        who = (str(last.actor) if last and last.actor else "the system") if last else "someone"
        raise Refused(
            f"This complaint was moved to {complaint.stage_label} by {who} while you were "
            "looking at it. Nothing was changed; the page now shows its current state."
        )


# Intake ---------------------------------------------------------------------------------


def complaint_create(*, actor, data, received_at=None, uploads=(), assign_to_actor=False):
    """Log a new complaint from any channel. `data` holds the Appendix A fields and the rest.

    `actor` is None when the customer logs it themselves (public form, API on their behalf).
    """
    # Files written here are removed if anything fails, the commit included.
    with _files_removed_on_failure() as written, transaction.atomic():
        if actor is not None and not can(actor, Capability.LOG_COMPLAINT):
            raise Refused("You are not allowed to log complaints.")
        received_at = received_at or timezone.now()
        if data["date_of_complaint"] > timezone.localdate(received_at):
            raise Refused("The date of the complaint cannot be in the future.")
        complaint = Complaint(
            **{key: value for key, value in data.items() if key != "assignee"},
            reference=_next_reference(timezone.localdate(received_at).year),
            received_at=received_at,
            acknowledgment_due_at=acknowledgment_due(received_at),
            resolution_target_date=resolution_target(received_at, data["complexity"]),
            logged_by=actor,
            assignee=actor if assign_to_actor and actor is not None else None,
            stage=Stage.RECEIVED,
        )
        complaint.full_clean(exclude=["reference", "category", "product", "root_cause"])
        _attribute(complaint, actor, "Logged")
        complaint.save()
        StageChange.objects.create(
            complaint=complaint,
            from_stage="",
            to_stage=Stage.RECEIVED,
            actor=actor,
            at=received_at,
            note=f"Logged via {complaint.get_channel_display().lower()}",
        )
        for upload in uploads:
            _store_attachment(complaint, upload, written, actor=actor, by_customer=actor is None)
        if complaint.customer_email and not settings.ACKNOWLEDGMENT_HOLD_FOR_REVIEW:
            outbox.send_after_commit(emails.queue_acknowledgment(complaint))
        return complaint


@transaction.atomic
def acknowledgment_email_send(complaint, *, actor):
    """Send the acknowledgment email a CSR held back for review; it is sent at most once."""
    complaint = _locked(complaint)
    require(actor, complaint, Action.ACKNOWLEDGE)
    if not complaint.customer_email:
        raise Refused("There is no email address to send the acknowledgment to.")
    if complaint.acknowledged_at is not None:
        raise Refused("This complaint has already been acknowledged.")
    if complaint.messages.filter(kind="acknowledgment").exists():
        raise Refused("The acknowledgment email is already on its way.")
    message = emails.queue_acknowledgment(complaint)
    outbox.send_after_commit(message)
    return message


# Assignment and escalation ----------------------------------------------------------------


@transaction.atomic
def complaint_assign(complaint, *, actor, assignee):
    complaint = _locked(complaint)
    action = Action.TAKE if assignee == actor else Action.ASSIGN
    require(actor, complaint, action)
    if assignee is not None and not can(assignee, Capability.LOG_COMPLAINT):
        raise Refused(f"{assignee} is not in the complaints team and cannot be assigned.")
    if complaint.assignee_id == (assignee.pk if assignee else None):
        raise Refused(f"This complaint is already assigned to {assignee or 'nobody'}.")
    complaint.assignee = assignee
    _attribute(complaint, actor, "Assigned")
    complaint.save(update_fields=["assignee", "updated_at"])
    return complaint


@transaction.atomic
def complaint_escalate(complaint, *, actor, level, reason, at=None):
    complaint = _locked(complaint)
    if actor is not None:
        require(actor, complaint, Action.ESCALATE)
    reason = (reason or "").strip()
    if not reason:
        raise Refused("Say why the complaint is escalated.")
    if level not in (EscalationLevel.TEAM, EscalationLevel.MANAGER):
        raise Refused("Escalate to the resolution team or to the managers.")
    if not complaint.is_open:
        raise Refused("A closed complaint cannot be escalated.")
    if complaint.escalation_level == level:
        to_whom = complaint.get_escalation_level_display().lower()
        raise Refused(f"This complaint is already escalated to {to_whom}.")
    complaint.escalation_level = level
    complaint.escalation_reason = reason
    complaint.escalated_at = at or timezone.now()
    complaint.escalated_by = actor
    _attribute(complaint, actor, "Escalated")
    complaint.save(
        update_fields=[
            "escalation_level",
            "escalation_reason",
            "escalated_at",
            "escalated_by",
            "updated_at",
        ]
    )
    return complaint


# Stages ---------------------------------------------------------------------------------


@transaction.atomic
def complaint_acknowledge(complaint, *, actor, method, at=None, note="", expected_stage=None):
    """Record that the customer was acknowledged (by email, phone, in person...)."""
    complaint = _locked(complaint)
    _expect_stage(complaint, expected_stage)
    if actor is not None:
        require(actor, complaint, Action.ACKNOWLEDGE)
    if method not in AcknowledgmentMethod.values:
        raise Refused("Choose how the customer was acknowledged.")
    if complaint.acknowledged_at is not None:
        raise Refused("This complaint has already been acknowledged.")
    at = at or timezone.now()
    if at < complaint.received_at:
        raise Refused("The acknowledgment cannot be earlier than the complaint was received.")
    if at > timezone.now() + timedelta(minutes=5):
        raise Refused("The acknowledgment cannot be in the future.")
    complaint.acknowledged_at = at
    complaint.acknowledgment_method = method
    _attribute(complaint, actor, "Acknowledged")
    complaint.save(update_fields=["acknowledged_at", "acknowledgment_method", "updated_at"])
    method_label = AcknowledgmentMethod(method).label.lower()
    return _move(
        complaint,
        Stage.ACKNOWLEDGED,
        actor=actor,
        at=at,
        note=note or f"Customer acknowledged by {method_label}",
    )


@transaction.atomic
def complaint_transition(complaint, to, *, actor, note="", expected_stage=None, role=None):
    """Move a complaint to another stage, as the transition table allows."""
    complaint = _locked(complaint)
    _expect_stage(complaint, expected_stage)
    if actor is not None:
        require(actor, complaint, Action.TRANSITION)
    return _move(complaint, to, actor=actor, note=note, role=role)


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
    complaint = _locked(complaint)
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
    changed = [name for name, value in changes.items() if getattr(complaint, name) != value]
    if not changed:
        return complaint
    for name in changed:
        setattr(complaint, name, changes[name])
    if "complexity" in changed:
        _retarget(
            complaint,
            resolution_target(complaint.received_at, complaint.complexity),
            changed,
            today=timezone.localdate(),
        )
    complaint.full_clean(exclude=["reference", "category", "product", "root_cause"])
    _attribute(complaint, actor, "Record updated")
    complaint.save(update_fields=[*changed, "updated_at"])
    return complaint


# Investigation --------------------------------------------------------------------------


@transaction.atomic
def note_add(complaint, *, actor, text):
    complaint = _locked(complaint)
    require(actor, complaint, Action.NOTE)
    text = (text or "").strip()
    if not text:
        raise Refused("The note is empty.")
    return Note.objects.create(complaint=complaint, author=actor, text=text)


@transaction.atomic
def consultation_request(complaint, *, actor, department, question, consultee=None):
    complaint = _locked(complaint)
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
    complaint = _locked(consultation.complaint)
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
    return consultation


# Resolution -----------------------------------------------------------------------------


def approval_required(amount):
    return amount is not None and Decimal(amount) > settings.RESOLUTION_APPROVAL_THRESHOLD


@transaction.atomic
def resolution_propose(
    complaint,
    *,
    actor,
    type,
    description,
    amount=None,
    currency="",
    customer_action="",
    expected_stage=None,
):
    complaint = _locked(complaint)
    _expect_stage(complaint, expected_stage)
    require(actor, complaint, Action.PROPOSE_RESOLUTION)
    description = (description or "").strip()
    if not description:
        raise Refused("Describe the resolution in plain words for the customer.")
    if type in MONEY_RESOLUTION_TYPES and amount is None:
        raise Refused("A refund or compensation needs an amount.")
    if amount is not None and amount < 0:
        raise Refused("The amount cannot be negative.")
    if complaint.stage != Stage.INVESTIGATING:
        raise Refused(
            f"A resolution is proposed at the end of the investigation; this complaint is "
            f"{complaint.stage_label}."
        )
    needs_approval = approval_required(amount)
    resolution = Resolution.objects.create(
        complaint=complaint,
        type=type,
        amount=amount,
        currency=(currency or settings.DEFAULT_CURRENCY) if amount is not None else "",
        description=description,
        customer_action=(customer_action or "").strip(),
        status=(
            ResolutionStatus.AWAITING_APPROVAL if needs_approval else ResolutionStatus.PROPOSED
        ),
        proposed_by=actor,
        proposed_at=timezone.now(),
        approval_required=needs_approval,
    )
    complaint.proposed_resolution = description
    _attribute(complaint, actor, "Resolution proposed")
    complaint.save(update_fields=["proposed_resolution", "updated_at"])
    note = f"Resolution proposed: {resolution.get_type_display()}"
    if needs_approval:
        note += f" of {resolution.currency} {amount}, awaiting manager approval"
    _move(complaint, Stage.RESOLVED, actor=actor, note=note)
    if not needs_approval:
        _tell_customer_of_resolution(complaint, resolution)
    return resolution


def _tell_customer_of_resolution(complaint, resolution):
    if complaint.customer_email:
        outbox.send_after_commit(emails.queue_resolution(complaint, resolution))


def _live_resolution(complaint, *statuses):
    resolution = (
        Resolution.objects.select_for_update()
        .filter(complaint=complaint, status__in=statuses or LIVE_RESOLUTION)
        .first()
    )
    if resolution is None:
        raise Refused("There is no resolution waiting for that.")
    return resolution


@transaction.atomic
def resolution_decide_approval(complaint, *, actor, approve, note=""):
    complaint = _locked(complaint)
    require(actor, complaint, Action.APPROVE_RESOLUTION)
    resolution = _live_resolution(complaint, ResolutionStatus.AWAITING_APPROVAL)
    resolution.approved_by = actor
    resolution.approval_note = (note or "").strip()
    if approve:
        resolution.status = ResolutionStatus.PROPOSED
        resolution.approved_at = timezone.now()
        resolution.save(update_fields=["status", "approved_by", "approved_at", "approval_note"])
        _tell_customer_of_resolution(complaint, resolution)
        return resolution
    if not resolution.approval_note:
        raise Refused("Say why the resolution is not approved, so the team can rework it.")
    resolution.status = ResolutionStatus.APPROVAL_REFUSED
    resolution.save(update_fields=["status", "approved_by", "approval_note"])
    _move(
        complaint,
        Stage.INVESTIGATING,
        actor=actor,
        note=f"Resolution not approved: {resolution.approval_note}",
    )
    return resolution


@transaction.atomic
def resolution_record_customer_response(complaint, *, actor, accepted, comment=""):
    """The customer's answer, through their link (actor None) or told to a CSR."""
    complaint = _locked(complaint)
    if actor is not None:
        require(actor, complaint, Action.RECORD_CUSTOMER_RESPONSE)
    resolution = _live_resolution(complaint, ResolutionStatus.PROPOSED)
    resolution.customer_responded_at = timezone.now()
    resolution.customer_comment = (comment or "").strip()
    resolution.status = ResolutionStatus.ACCEPTED if accepted else ResolutionStatus.REJECTED
    resolution.save(update_fields=["status", "customer_responded_at", "customer_comment"])
    if not accepted:
        _move(
            complaint,
            Stage.INVESTIGATING,
            actor=actor,
            role=workflow.CUSTOMER if actor is None else None,
            reopen=True,
            note="The customer rejected the proposed resolution"
            + (f": {resolution.customer_comment}" if resolution.customer_comment else ""),
        )
    return resolution


@transaction.atomic
def resolution_implement(complaint, *, actor, notes, at=None):
    complaint = _locked(complaint)
    require(actor, complaint, Action.IMPLEMENT_RESOLUTION)
    notes = (notes or "").strip()
    if not notes:
        raise Refused("Say what was done to implement the resolution.")
    resolution = _live_resolution(complaint, ResolutionStatus.ACCEPTED)
    resolution.status = ResolutionStatus.IMPLEMENTED
    resolution.implemented_by = actor
    resolution.implemented_at = at or timezone.now()
    resolution.implementation_notes = notes
    resolution.save(
        update_fields=["status", "implemented_by", "implemented_at", "implementation_notes"]
    )
    _move(complaint, Stage.FOLLOW_UP, actor=actor, note=f"Resolution implemented: {notes}")
    return resolution


def customer_information_add(complaint, *, text, uploads=()):
    """What the customer adds through their own link: a note from them, and documents."""
    with _files_removed_on_failure() as written, transaction.atomic():
        complaint = _locked(complaint)
        text = (text or "").strip()
        if not text and not uploads:
            raise Refused("Write a message or choose a document to send.")
        if not complaint.is_open:
            raise Refused("This complaint is closed. Please contact us if you need to reopen it.")
        note = None
        if text:
            note = Note.objects.create(complaint=complaint, from_customer=True, text=text)
        for upload in uploads:
            _store_attachment(complaint, upload, written, actor=None, by_customer=True)
        return note


# Follow-up, documentation, review -------------------------------------------------------


@transaction.atomic
def feedback_record(complaint, *, actor, score, resolved, comment=""):
    complaint = _locked(complaint)
    if actor is not None:
        require(actor, complaint, Action.RECORD_FEEDBACK)
    if complaint.stage != Stage.FOLLOW_UP:
        raise Refused("Feedback is collected during follow-up.")
    if score not in range(1, 6):
        raise Refused("The score must be between 1 and 5.")
    if complaint.feedback.filter(submitted_at__gte=complaint.follow_up_started_at).exists():
        raise Refused("Feedback on this resolution has already been given. Thank you.")
    feedback = Feedback.objects.create(
        complaint=complaint,
        score=score,
        resolved=resolved,
        comment=(comment or "").strip(),
        submitted_at=timezone.now(),
        recorded_by=actor,
    )
    if not resolved:
        _move(
            complaint,
            Stage.INVESTIGATING,
            actor=actor,
            role=workflow.CUSTOMER if actor is None else None,
            note="The customer says the issue is not resolved; the case is reopened",
        )
    return feedback


@transaction.atomic
def review_sign_off(complaint, *, actor, quality_notes, lessons="", improvement_actions=""):
    complaint = _locked(complaint)
    require(actor, complaint, Action.REVIEW)
    quality_notes = (quality_notes or "").strip()
    if not quality_notes:
        raise Refused("Write the quality notes of the review.")
    if complaint.stage != Stage.DOCUMENTED:
        raise Refused("Only a documented complaint can be reviewed and signed off.")
    review = Review.objects.create(
        complaint=complaint,
        reviewer=actor,
        quality_notes=quality_notes,
        lessons=(lessons or "").strip(),
        improvement_actions=(improvement_actions or "").strip(),
        signed_off_at=timezone.now(),
    )
    _move(complaint, Stage.REVIEWED, actor=actor, note="Case reviewed and signed off")
    return review


# Attachments ----------------------------------------------------------------------------


def attachment_path(attachment):
    return Path(settings.ATTACHMENT_ROOT) / attachment.stored_name[:2] / attachment.stored_name


@contextmanager
def _files_removed_on_failure():
    """Files written inside a failing service call are removed with its rolled-back rows."""
    written = []
    try:
        yield written
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def _store_attachment(complaint, upload, written, *, actor, by_customer=False):
    checked = check_upload(upload.name, upload.chunks(), settings.ATTACHMENT_MAX_BYTES)
    attachment = Attachment(
        complaint=complaint,
        original_name=checked.display_name,
        kind=checked.kind,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        uploaded_by=actor,
        uploaded_by_customer=by_customer,
        uploaded_at=timezone.now(),
    )
    path = attachment_path(attachment)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    with open(partial, "wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    os.replace(partial, path)
    written.append(path)
    attachment.save()
    return attachment


def attachment_add(complaint, *, actor, upload, by_customer=False):
    with _files_removed_on_failure() as written, transaction.atomic():
        complaint = _locked(complaint)
        if actor is not None:
            require(actor, complaint, Action.ATTACH)
        return _store_attachment(complaint, upload, written, actor=actor, by_customer=by_customer)
