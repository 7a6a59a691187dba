"""Objects for tests, made through the same services the application uses."""

from datetime import timedelta

from django.utils import timezone

from complaints import services
from complaints.models import (
    Category,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Product,
    RootCause,
)
from complaints.outcomes import outcomes_for


def category(name="Billing error"):
    return Category.objects.get_or_create(name=name, parent=None)[0]


def product(name="Credit card"):
    return Product.objects.get_or_create(name=name, parent=None)[0]


def root_cause(name="System error"):
    return RootCause.objects.get_or_create(name=name)[0]


def complaint_data(**overrides):
    data = {
        "customer_name": "Priya Shah",
        "customer_email": "priya@example.com",
        "customer_phone": "",
        "date_of_complaint": timezone.localdate(),
        "description": "I was charged twice for one purchase.",
        "interaction_details": "Phoned the helpline.",
        "channel": "phone",
        "category": category(),
        "product": product(),
        "complexity": "standard",
    }
    data.update(overrides)
    return data


def complaint(actor, *, hours_ago=0, **overrides):
    received_at = timezone.now() - timedelta(hours=hours_ago) if hours_ago else None
    if received_at:
        overrides.setdefault("date_of_complaint", timezone.localdate(received_at))
    return services.complaint_create(
        actor=actor, data=complaint_data(**overrides), received_at=received_at
    )


def first_outcome(complaint):
    """An outcome the complaint's profile allows (upheld, for the house)."""
    return outcomes_for(complaint.profile.returns_scheme)[0][0]


def complaint_at_stage(stage, *, csr, resolver, manager, **overrides):
    """Walk a complaint through the real services up to `stage`."""
    order = [
        "received",
        "acknowledged",
        "investigating",
        "resolved",
        "follow_up",
        "documented",
        "reviewed",
    ]
    c = complaint(csr, **overrides)
    steps = order[1 : order.index(stage) + 1]
    for step in steps:
        if step == "acknowledged":
            services.complaint_assign(c, actor=csr, assignee=csr)
            services.complaint_acknowledge(c, actor=csr, method="phone")
        elif step == "investigating":
            services.complaint_transition(c, "investigating", actor=csr)
            services.note_add(c, actor=csr, text="Looked at the statement.")
        elif step == "resolved":
            services.resolution_propose(
                c, actor=csr, type="apology", description="We are sorry; we have fixed it."
            )
        elif step == "follow_up":
            services.resolution_record_customer_response(c, actor=csr, accepted=True)
            services.resolution_implement(c, actor=csr, notes="Apology letter sent.")
        elif step == "documented":
            services.complaint_update(c, actor=csr, changes={"root_cause": root_cause()})
            services.complaint_outcome_record(c, actor=csr, outcome=first_outcome(c))
            services.feedback_record(c, actor=csr, score=4, resolved=True)
            services.complaint_transition(c, "documented", actor=csr)
        elif step == "reviewed":
            services.review_sign_off(c, actor=manager, quality_notes="Handled well.")
    c.refresh_from_db()
    return c


def outbox_message(key, *, status=MessageStatus.PENDING, due_minutes_ago=0):
    """A staff notification in the outbox, due `due_minutes_ago` (negative: not yet due)."""
    now = timezone.now()
    return OutboundMessage.objects.create(
        kind=MessageKind.STAFF_NOTIFICATION,
        to_customer=False,
        recipient="staff@example.com",
        subject="Subject",
        body_text="Body",
        idempotency_key=key,
        status=status,
        next_attempt_at=now - timedelta(minutes=due_minutes_ago),
        sent_at=now if status == MessageStatus.SENT else None,
    )
