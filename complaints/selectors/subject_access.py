"""Subject access: the cases of one person, found by email, phone or name in the case as it
stands, in its history (a detail changed since) and in the emails sent to them; and every
fact those cases hold about the person, as plain data for the export."""

from dataclasses import dataclass

from django.db.models import Q

from complaints.models import Complaint, OutboundMessage, phone_digits
from complaints.selectors.search import MIN_PHONE_DIGITS

# The complaint's fields about the person, as the export names them.
PERSON_FIELDS = (
    "customer_name",
    "customer_email",
    "customer_phone",
    "customer_region",
    "customer_postcode",
    "customer_address",
    "representative_name",
    "complainant_gender",
    "complainant_age_band",
    "business_unit",
    "transaction_reference",
    "description",
    "interaction_details",
    "proposed_resolution",
    "follow_up_actions",
)


@dataclass(frozen=True)
class Subject:
    """Who is asked about: any of an email, a phone number and a name."""

    email: str = ""
    phone: str = ""
    name: str = ""

    @property
    def digits(self):
        return phone_digits(self.phone)

    def __str__(self):
        return ", ".join(part for part in (self.name, self.email, self.phone) if part)

    def problem(self):
        if not (self.email or self.phone or self.name):
            return "Give an email address, a phone number or a name to search for."
        if self.phone and len(self.digits) < MIN_PHONE_DIGITS:
            return f"A phone number needs at least {MIN_PHONE_DIGITS} digits."
        return ""


def _matching(subject, prefix=""):
    rule = Q(pk__in=[])
    if subject.email:
        rule |= Q(**{f"{prefix}customer_email__iexact": subject.email})
    if subject.phone:
        rule |= Q(**{f"{prefix}customer_phone_digits": subject.digits})
    if subject.name:
        rule |= Q(**{f"{prefix}customer_name__iexact": " ".join(subject.name.split())})
    return rule


def subject_complaints(subject):
    """The cases that name this person now, named them once, or emailed them."""
    past = Complaint.history.filter(_matching(subject)).values("id")
    ids = Q(pk__in=past)
    if subject.email:
        emailed = OutboundMessage.objects.filter(
            to_customer=True, recipient__iexact=subject.email, complaint__isnull=False
        ).values("complaint_id")
        ids |= Q(pk__in=emailed)
    return (
        Complaint.objects.filter(_matching(subject) | ids)
        .select_related("category", "product", "root_cause")
        .order_by("received_at", "pk")
    )


def _moment(value):
    return value.isoformat() if value else None


def subject_case_data(complaint):
    """Every fact one case holds about the person: the record, notes, emails, documents,
    resolutions, feedback, stage changes and each earlier version of the person's details."""
    history = []
    previous = None
    for row in complaint.history.order_by("history_date", "history_id"):
        values = {name: getattr(row, name) for name in PERSON_FIELDS}
        changed = {
            name: value
            for name, value in values.items()
            if previous is None or previous.get(name) != value
        }
        if changed:
            history.append(
                {
                    "at": _moment(row.history_date),
                    "reason": row.history_change_reason or "",
                    "values": changed,
                }
            )
        previous = values
    return {
        "reference": complaint.reference,
        "received_at": _moment(complaint.received_at),
        "date_of_complaint": complaint.date_of_complaint.isoformat(),
        "channel": complaint.get_channel_display(),
        "stage": complaint.stage_label,
        "category": str(complaint.category),
        "product": str(complaint.product) if complaint.product else None,
        "closed_at": _moment(complaint.closed_at),
        **{name: getattr(complaint, name) for name in PERSON_FIELDS},
        "notes": [
            {
                "at": _moment(note.created_at),
                "from_customer": note.from_customer,
                "text": note.text,
            }
            for note in complaint.notes.order_by("created_at", "pk")
        ],
        "emails": [
            {
                "at": _moment(message.created_at),
                "sent_at": _moment(message.sent_at),
                "kind": message.get_kind_display(),
                "to": message.recipient,
                "subject": message.subject,
                "body": message.body_text,
            }
            for message in complaint.messages.filter(to_customer=True).order_by("created_at", "pk")
        ],
        "documents": [
            {
                "id": attachment.pk,
                "name": attachment.original_name,
                "kind": attachment.kind,
                "size": attachment.size,
                "sha256": attachment.sha256,
                "uploaded_at": _moment(attachment.uploaded_at),
                "from_customer": attachment.uploaded_by_customer,
            }
            for attachment in complaint.attachments.order_by("uploaded_at", "pk")
        ],
        "resolutions": [
            {
                "proposed_at": _moment(resolution.proposed_at),
                "type": resolution.get_type_display(),
                "amount": str(resolution.amount) if resolution.amount is not None else None,
                "currency": resolution.currency,
                "description": resolution.description,
                "status": resolution.get_status_display(),
                "customer_comment": resolution.customer_comment,
            }
            for resolution in complaint.resolutions.order_by("proposed_at", "pk")
        ],
        "feedback": [
            {
                "submitted_at": _moment(feedback.submitted_at),
                "score": feedback.score,
                "resolved": feedback.resolved,
                "comment": feedback.comment,
            }
            for feedback in complaint.feedback.order_by("submitted_at", "pk")
        ],
        "stages": [
            {"at": _moment(change.at), "from": change.from_stage, "to": change.to_stage}
            for change in complaint.stage_changes.order_by("at", "pk")
        ],
        "history": history,
    }
