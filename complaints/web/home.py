"""Each role's home page: its queues in deadline order; managers also the dashboard, which
reports/ renders into the page (templates/reports/_dashboard_*.html)."""

from django.shortcuts import render
from django.utils import timezone
from django.utils.html import format_html_join

from accounts.decorators import capability_required
from accounts.roles import Capability, can
from complaints import selectors
from complaints.models import SignalKind
from complaints.web.rows import ROW_FIELDS, rows_of

QUEUE_LENGTH = 25


def queue_section(
    title,
    queryset,
    now,
    *,
    more=None,
    take=False,
    assign=False,
    why=False,
    empty_text="",
    order=("next_deadline_at", "id"),
    counted=False,
    new=(),
):
    """A queue's first rows: flagged cases first, then those with something `new` for the
    user; `counted` adds the whole queue's size to its heading, for the queues an index
    counts cheaply."""
    count = queryset.count() if counted else None
    # The order's columns are read too: the queue's parts are ordered again once combined.
    queryset = (
        queryset.select_related("category", "assignee").only(*ROW_FIELDS, *order).order_by(*order)
    )
    complaints = selectors.queue_first_rows(queryset, QUEUE_LENGTH + 1, new)
    missed = selectors.clocks_missed([c.pk for c in complaints]) if why else None
    rows = rows_of(complaints, now, frozenset(new), missed)
    return {
        "title": title,
        "count": count,
        "rows": rows[:QUEUE_LENGTH],
        "truncated": len(rows) > QUEUE_LENGTH,
        "more": more,
        "take": take,
        "assign": assign,
        "why": why,
        "empty_text": empty_text,
    }


@capability_required(Capability.LOG_COMPLAINT)
def home(request):
    """Each role starts on what it must do next; managers on escalations and the numbers."""
    user, now = request.user, timezone.now()
    new = selectors.complaints_new_for(user)
    context = {
        "queues": [],
        "consultations": selectors.consultations_waiting_for(user),
        "signal_counts": _signal_counts(user),
    }
    queues = context["queues"]
    if can(user, Capability.SEE_ALL_COMPLAINTS):
        queues.append(
            queue_section(
                "Escalation queue",
                selectors.complaints_escalation_queue(user),
                now,
                new=new,
                more="?queue=escalations",
                assign=True,
                why=True,
                empty_text="Nothing overdue, escalated or waiting for approval.",
            )
        )
        if can(user, Capability.REVIEW_CASE):
            queues.append(
                queue_section(
                    "Sign-off queue",
                    selectors.complaints_awaiting_sign_off(user),
                    now,
                    new=new,
                    more="?queue=sign_off",
                    order=selectors.SIGN_OFF_ORDER,
                    counted=True,
                    empty_text="No documented cases waiting for review.",
                )
            )
        context["workload"] = selectors.team_workload(user, now)
        context["show_dashboard"] = True
    else:
        if can(user, Capability.WORK_INTAKE_QUEUE):
            queues.append(
                queue_section(
                    "Intake queue",
                    selectors.complaints_intake_queue(user),
                    now,
                    new=new,
                    more="?assignee=none",
                    take=True,
                    assign=True,
                )
            )
        if can(user, Capability.WORK_ESCALATED_TO_TEAM):
            queues.append(
                queue_section(
                    "Escalated to the resolution team",
                    selectors.complaints_escalated_to_team(user),
                    now,
                    new=new,
                    more="?escalated=team&assignee=not_me",
                    take=True,
                )
            )
    queues.append(
        queue_section(
            "My complaints",
            selectors.complaints_assigned_to(user),
            now,
            new=new,
            more="?assignee=me",
        )
    )
    if any(queue["assign"] and queue["rows"] for queue in queues):
        # Rendered once, not once per row: a select of the whole team in each of 25 rows
        # would cost more than the rest of the page.
        context["assign_options"] = format_html_join(
            "", '<option value="{}">{}</option>', ((p.pk, str(p)) for p in selectors.team_members())
        )
    return render(request, "complaints/home.html", context)


def _signal_counts(user):
    """What is new for the user, in words with its count, for the top of the page."""
    counts = selectors.signal_counts(user)
    labels = dict(SignalKind.choices)
    return [(labels[kind], counts[kind]) for kind in SignalKind.values if kind in counts]
