"""Each role's queues, the managers' workload view and the complaint page's read."""

from django.contrib.auth import get_user_model
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Prefetch,
    Q,
)
from django.utils import timezone

from complaints.models import (
    CaseFlag,
    Complaint,
    ComplaintClock,
    Consultation,
    EscalationLevel,
    InboundMessage,
    MessageKind,
    MessageStatus,
    OutboundMessage,
    Resolution,
    ResolutionStatus,
    StageChange,
)
from complaints.permissions import visible_complaints
from complaints.workflow import OPEN_STAGE_VALUES, Stage

# A vulnerable customer or financial hardship: such cases lead every queue.
FLAGGED = Q(vulnerable=True) | Q(hardship=True)


def queue_first_rows(queryset, limit, new=()):
    """The first `limit` complaints of a queue: the flagged ones first, then those with
    something `new` for the person looking, then the rest, each part in the queue's order.

    Two reads, the second only when the first leaves room: the few cases to lift (flagged or
    new), found through complaint_flagged_queue and the primary key and sorted, then the
    others, read from the queue's own index in order until the page is full. One read
    ordered by "is flagged" would make the database sort the whole queue instead; one
    statement of both (UNION ALL) costs Django more to build than the round trip it saves."""
    order = queryset.query.order_by
    lifted = (
        queryset.filter(FLAGGED | Q(pk__in=new))
        .annotate(flagged=ExpressionWrapper(FLAGGED, output_field=BooleanField()))
        .order_by("-flagged", *order)
    )
    complaints = list(lifted[:limit])
    if len(complaints) < limit:
        rest = queryset.exclude(FLAGGED).exclude(pk__in=new)
        complaints += rest[: limit - len(complaints)]
    return complaints


def open_complaints(user):
    return visible_complaints(user).filter(stage__in=OPEN_STAGE_VALUES)


def complaints_intake_queue(user):
    return open_complaints(user).filter(assignee__isnull=True)


def complaints_assigned_to(user):
    return open_complaints(user).filter(assignee=user)


def complaints_escalated_to_team(user):
    """Escalated cases the team has yet to pick up; the user's own are in "My complaints"."""
    return (
        open_complaints(user).filter(escalation_level=EscalationLevel.TEAM).exclude(assignee=user)
    )


def complaints_escalation_queue(user):
    return in_escalation_queue(visible_complaints(user))


def in_escalation_queue(queryset):
    """What managers must look at: missed deadlines, escalations, approvals waiting.

    A missed resolution target shows here through its escalation to managers, which the
    clock job makes; imported history carries the mark without the escalation.
    """
    awaiting = Resolution.objects.filter(
        complaint=OuterRef("pk"), status=ResolutionStatus.AWAITING_APPROVAL
    )
    return (
        queryset.filter(stage__in=OPEN_STAGE_VALUES)
        .filter(
            Q(escalation_level=EscalationLevel.MANAGER)
            | Q(acknowledgment_breached_at__isnull=False, stage=Stage.RECEIVED)
            | Exists(awaiting)
        )
        .annotate(awaiting_approval=Exists(awaiting))
    )


# Oldest first: the longer a documented case waits, the longer the customer's file stays open.
SIGN_OFF_ORDER = ("documented_at", "id")


def complaints_awaiting_sign_off(user):
    return awaiting_sign_off(visible_complaints(user))


def awaiting_sign_off(queryset):
    """Documented cases a manager has yet to review. They have left the open stages, so no
    other queue shows them; the partial index complaint_awaiting_sign_off holds only these."""
    return queryset.filter(stage=Stage.DOCUMENTED)


def consultations_waiting_for(user):
    return Consultation.objects.filter(consultee=user, answered_at__isnull=True).select_related(
        "complaint"
    )


def team_workload(user, now=None):
    """Open and overdue complaints per person, for managers. Counting rows and deadlines,
    which complaint_queue holds, not ids, which it does not: the counts then read the index
    alone, not 30,000 rows of the table."""
    now = now or timezone.now()
    rows = (
        open_complaints(user)
        .values("assignee")
        .annotate(
            open=Count("*"),
            overdue=Count("next_deadline_at", filter=Q(next_deadline_at__lt=now)),
        )
        .order_by("-overdue", "-open")
    )
    people = {
        u.pk: u for u in get_user_model().objects.filter(pk__in=[r["assignee"] for r in rows])
    }
    return [(people.get(r["assignee"]), r["open"], r["overdue"]) for r in rows]


def complaint_detail_queryset():
    """The complaint with everything its page and timeline show, each relation read once."""
    return Complaint.objects.select_related(
        "category", "product", "root_cause", "assignee", "review__reviewer", "profile"
    ).prefetch_related(
        Prefetch(
            "clocks",
            queryset=ComplaintClock.objects.select_related("definition").order_by(
                "started_at", "due_at", "pk"
            ),
        ),
        "stage_changes",
        "notes",
        Prefetch("consultations", queryset=Consultation.objects.select_related("consultee")),
        "resolutions",
        "feedback",
        "attachments",
        Prefetch("flags", queryset=CaseFlag.objects.select_related("set_by", "cleared_by")),
        # The timeline shows each message's subject and status, and the text of replies and
        # of emails from the customer; the HTML only on the message's own page.
        Prefetch(
            "messages",
            queryset=OutboundMessage.objects.defer("body_html").select_related("posted_by"),
        ),
        Prefetch("inbound_messages", queryset=InboundMessage.objects.defer("body_html")),
        # The cases merged into this one, named on the page, and their merges, which the
        # timeline tells: one query when there are none.
        Prefetch(
            "duplicates",
            queryset=Complaint.objects.only("reference", "duplicate_of_id").prefetch_related(
                Prefetch(
                    "stage_changes", queryset=StageChange.objects.filter(to_stage=Stage.DUPLICATE)
                )
            ),
        ),
    )


def complaint_detail_of_logged(complaint):
    """The complaint complaint_create has just returned, with what complaint_detail_queryset
    reads taken from the rows the intake wrote (`complaint.logged`) rather than read back:
    its history, clocks, stage change, flags, documents and acknowledgment, and nothing of
    the rest. For an answer built at once from that same object, which nothing else changes
    meanwhile."""
    logged = complaint.logged
    complaint._prefetched_objects_cache = {
        # Not a relation: as the timeline reads it (selectors/timeline.py _history).
        "history": logged.history,
        # In the order of complaint_detail_queryset's prefetches and the models' ordering.
        "clocks": sorted(logged.clocks, key=lambda c: (c.started_at, c.due_at, c.pk)),
        "stage_changes": logged.stage_changes,
        "flags": logged.flags,
        "attachments": logged.attachments,
        "messages": logged.messages,
        **dict.fromkeys(
            ["notes", "consultations", "resolutions", "feedback", "inbound_messages", "duplicates"],
            [],
        ),
    }
    return complaint


def acknowledgment_email_on_its_way(complaint):
    """The acknowledgment email, if it is queued or sent and not failing (from the page's
    prefetched messages). While it goes, an acknowledgment recorded by hand is refused the
    moment the delivery acknowledges the complaint; a failing email leaves it to people."""
    return next(
        (
            message
            for message in complaint.messages.all()
            if message.kind == MessageKind.ACKNOWLEDGMENT
            and (
                message.status == MessageStatus.SENT
                or (message.status != MessageStatus.CANCELLED and not message.last_error)
            )
        ),
        None,
    )


def complaint_by_token(token):
    """The complaint a customer's link names, or None."""
    return Complaint.objects.filter(customer_token=token).first()
