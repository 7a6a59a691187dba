"""Trend reports: period arithmetic, every figure of reports.metrics on a hand-made set, the
daylight-saving edges, rebuilds, the beat job and its emails, and the procedure-review reminder.

Complaints are made through complaints.services; their clocks are then moved to known moments
with queryset updates (test setup only), so every figure below is known in advance.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db.models import F
from django.urls import reverse

from accounts.roles import Role
from complaints import jobs, services
from complaints.models import (
    Category,
    Complaint,
    Feedback,
    JobRun,
    MessageKind,
    OutboundMessage,
    Resolution,
    StageChange,
    new_customer_token,
)
from reports import selectors as report_selectors
from reports import services as reports
from reports.metrics import local_bounds
from reports.models import Period, ProcedureReview, TrendReport
from tests import factories

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
H = timedelta(hours=1)
DAY = timedelta(days=1)


def local(year, month, day, hour=12, minute=0):
    """A moment on the team's wall clock (Europe/London)."""
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def make(actor, received, category="Billing", product="Credit card", channel="phone", **fields):
    """A complaint logged through the service at `received`, its acknowledgment due exactly
    24 real hours later; `fields` are then set as they are."""
    if not isinstance(category, Category):
        category = factories.category(category)
    if isinstance(product, str):
        product = factories.product(product)
    complaint = services.complaint_create(
        actor=actor,
        data=factories.complaint_data(
            customer_email="",
            date_of_complaint=received.astimezone(LONDON).date(),
            category=category,
            product=product,
            channel=channel,
        ),
        received_at=received,
    )
    Complaint.objects.filter(pk=complaint.pk).update(
        acknowledgment_due_at=received.astimezone(UTC) + 24 * H, **fields
    )
    complaint.refresh_from_db()
    return complaint


def made_alike(actor, category, moments):
    """Complaints received at `moments`: the first made through the service, the others
    copied from it (only the category and the moment of receipt matter for these)."""
    first = make(actor, moments[0], category)
    copies = []
    for n, moment in enumerate(moments[1:], start=1):
        copy = Complaint.objects.get(pk=first.pk)
        copy.pk = None
        copy.reference = f"{first.reference}-{n}"
        copy.customer_token = new_customer_token()
        copy.received_at = moment
        copy.acknowledgment_due_at = moment.astimezone(UTC) + 24 * H
        copy.date_of_complaint = moment.date()
        copies.append(copy)
    Complaint.objects.bulk_create(copies)
    return [first.pk, *(c.pk for c in copies)]


def history(complaint, *moments):
    """Put the complaint's stage changes, in the order they were made, at these moments."""
    changes = list(complaint.stage_changes.order_by("id").values_list("pk", flat=True))
    assert len(changes) == len(moments), "one moment per stage change"
    for pk, moment in zip(changes, moments, strict=True):
        StageChange.objects.filter(pk=pk).update(at=moment)


def investigate(complaint, actor):
    services.complaint_transition(complaint, "investigating", actor=actor)
    services.note_add(complaint, actor=actor, text="Looked at the statement.")


def propose(complaint, actor, type, amount=None, currency=""):
    services.resolution_propose(
        complaint,
        actor=actor,
        type=type,
        description="What we will do.",
        amount=amount,
        currency=currency,
    )


def accept_and_implement(complaint, actor):
    services.resolution_record_customer_response(complaint, actor=actor, accepted=True)
    services.resolution_implement(complaint, actor=actor, notes="Done.")


def stored(report):
    """The report as the database holds it (aware moments come back in UTC)."""
    return TrendReport.objects.get(pk=report.pk)


def with_email(user, email):
    user.email = email
    user.save(update_fields=["email"])
    return user


# Period arithmetic -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "day", "bounds"),
    [
        (Period.DAILY, date(2026, 3, 29), (date(2026, 3, 29), date(2026, 3, 30))),
        (Period.DAILY, date(2026, 12, 31), (date(2026, 12, 31), date(2027, 1, 1))),
        # Weeks start on Monday, whatever day is asked about.
        (Period.WEEKLY, date(2026, 3, 2), (date(2026, 3, 2), date(2026, 3, 9))),
        (Period.WEEKLY, date(2026, 3, 4), (date(2026, 3, 2), date(2026, 3, 9))),
        (Period.WEEKLY, date(2026, 3, 8), (date(2026, 3, 2), date(2026, 3, 9))),
        (Period.WEEKLY, date(2026, 1, 1), (date(2025, 12, 29), date(2026, 1, 5))),
        (Period.MONTHLY, date(2026, 1, 31), (date(2026, 1, 1), date(2026, 2, 1))),
        (Period.MONTHLY, date(2026, 2, 14), (date(2026, 2, 1), date(2026, 3, 1))),
        (Period.MONTHLY, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 3, 1))),
        (Period.MONTHLY, date(2026, 4, 30), (date(2026, 4, 1), date(2026, 5, 1))),
        (Period.MONTHLY, date(2026, 12, 1), (date(2026, 12, 1), date(2027, 1, 1))),
    ],
)
def test_period_containing(period, day, bounds):
    assert reports.period_containing(period, day) == bounds


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [(2026, 1, 31), (2026, 2, 28), (2028, 2, 29), (2024, 2, 29), (2100, 2, 28), (2026, 4, 30)],
)
def test_month_lengths_including_leap_februaries(year, month, days):
    start, end = reports.period_containing(Period.MONTHLY, date(year, month, 10))
    assert start == date(year, month, 1)
    assert (end - start).days == days


@pytest.mark.parametrize(
    ("period", "today", "bounds"),
    [
        (Period.DAILY, date(2026, 3, 1), (date(2026, 2, 28), date(2026, 3, 1))),
        (Period.DAILY, date(2028, 3, 1), (date(2028, 2, 29), date(2028, 3, 1))),
        # On a Monday the week that just ended is the last closed one.
        (Period.WEEKLY, date(2026, 3, 2), (date(2026, 2, 23), date(2026, 3, 2))),
        # On a Sunday the current week is still open.
        (Period.WEEKLY, date(2026, 3, 1), (date(2026, 2, 16), date(2026, 2, 23))),
        (Period.MONTHLY, date(2026, 3, 1), (date(2026, 2, 1), date(2026, 3, 1))),
        (Period.MONTHLY, date(2026, 3, 31), (date(2026, 2, 1), date(2026, 3, 1))),
        (Period.MONTHLY, date(2026, 1, 15), (date(2025, 12, 1), date(2026, 1, 1))),
        (Period.MONTHLY, date(2028, 3, 10), (date(2028, 2, 1), date(2028, 3, 1))),
    ],
)
def test_last_closed(period, today, bounds):
    assert reports.last_closed(period, today) == bounds


def test_period_before():
    assert reports.period_before(Period.MONTHLY, date(2026, 3, 1)) == (
        date(2026, 2, 1),
        date(2026, 3, 1),
    )
    assert reports.period_before(Period.WEEKLY, date(2026, 3, 2)) == (
        date(2026, 2, 23),
        date(2026, 3, 2),
    )
    assert reports.period_before(Period.DAILY, date(2026, 1, 1)) == (
        date(2025, 12, 31),
        date(2026, 1, 1),
    )


def test_local_bounds_are_local_midnights():
    starts_at, ends_at = local_bounds(date(2026, 3, 29), date(2026, 3, 30))
    assert starts_at.astimezone(UTC) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert ends_at.astimezone(UTC) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)
    # Python subtracts two moments of the same tzinfo on the wall clock (24 h here), so the
    # length of a day is measured on the absolute timeline.
    assert ends_at.timestamp() - starts_at.timestamp() == 23 * 3600


# A month where every figure is known ------------------------------------------------------


@pytest.fixture
def march(manager):
    """March 2026 (clocks spring forward on the 29th) with its eight trailing months.

    Fifteen complaints are received in March: Billing 6 (one under the sub-issue "Double
    charge"), Delivery 5, Fees 4. February holds 6 (Billing 2, Delivery 4); the eight months
    July 2025 - February 2026 hold Billing 16, Delivery 28, Fees 1; June 2025 (outside the
    trailing window) holds 3 more Billing complaints.
    """
    m = manager
    billing = factories.category("Billing")
    double_charge = Category.objects.get_or_create(name="Double charge", parent=billing)[0]
    system_error = factories.root_cause("System error")
    courier = factories.root_cause("Courier delay")
    human = factories.root_cause("Human error")
    conduct = factories.root_cause("Staff conduct")

    # Trailing months, closed long before the end of March.
    trailing = {  # (year, month): (billing, delivery, fees)
        (2026, 2): (0, 2, 0),  # and 4 more below, still at work in March
        (2026, 1): (2, 4, 0),
        (2025, 12): (2, 3, 0),
        (2025, 11): (2, 3, 0),
        (2025, 10): (2, 4, 1),
        (2025, 9): (2, 3, 0),
        (2025, 8): (2, 4, 0),
        (2025, 7): (2, 3, 0),
        (2025, 6): (3, 0, 0),  # outside the eight trailing months
    }
    moments = {"Billing": [], "Delivery": [], "Fees": []}
    for (year, month), counts in trailing.items():
        for name, count in zip(moments, counts, strict=True):
            moments[name] += [local(year, month, 15)] * count
    moments["Delivery"][1] = local(2026, 2, 28, 23, 30)  # the last half hour of February
    fillers = [pk for name, times in moments.items() for pk in made_alike(m, name, times)]
    Complaint.objects.filter(pk__in=fillers).update(
        stage="reviewed",
        acknowledged_at=F("received_at") + H,
        acknowledgment_method="phone",
        closed_at=F("received_at") + 2 * DAY,
        reviewed_at=F("received_at") + 2 * DAY,
    )

    # February complaints still at work in March.
    k = make(m, local(2026, 2, 10), "Billing")  # acknowledged, closed only in April
    services.complaint_acknowledge(k, actor=m, method="phone", at=local(2026, 2, 10, 15))
    Complaint.objects.filter(pk=k.pk).update(
        stage="reviewed", closed_at=local(2026, 4, 5), reviewed_at=local(2026, 4, 5)
    )

    p1 = make(m, local(2026, 2, 26), "Delivery")  # resolved 2 Mar after 96 h; follow-up
    services.complaint_acknowledge(p1, actor=m, method="phone", at=local(2026, 2, 26, 13))
    investigate(p1, m)
    propose(p1, m, "compensation", Decimal("25.50"))
    accept_and_implement(p1, m)
    services.feedback_record(p1, actor=m, score=4, resolved=True)
    history(p1, local(2026, 2, 26), local(2026, 2, 26, 13), local(2026, 2, 27),
            local(2026, 3, 2), local(2026, 3, 3))  # fmt: skip
    Complaint.objects.filter(pk=p1.pk).update(
        investigation_started_at=local(2026, 2, 27),
        resolved_at=local(2026, 3, 2),
        follow_up_started_at=local(2026, 3, 3),
        root_cause=courier,
    )
    Resolution.objects.filter(complaint=p1).update(implemented_at=local(2026, 3, 3))
    Feedback.objects.filter(complaint=p1).update(submitted_at=local(2026, 4, 2))  # April

    p2 = make(m, local(2026, 2, 27), "Billing")  # resolved 28 Mar after 696 h; still resolved
    services.complaint_acknowledge(p2, actor=m, method="phone", at=local(2026, 2, 27, 13))
    investigate(p2, m)
    propose(p2, m, "apology")  # proposed, never implemented
    history(p2, local(2026, 2, 27), local(2026, 2, 27, 13), local(2026, 2, 28),
            local(2026, 3, 28))  # fmt: skip
    Complaint.objects.filter(pk=p2.pk).update(
        resolved_at=local(2026, 3, 28),
        root_cause=human,
        escalation_level="manager",
        escalated_at=local(2026, 2, 28),
    )

    p3 = make(m, local(2026, 2, 20), "Delivery")  # resolved in February, paid in EUR in March
    services.complaint_acknowledge(p3, actor=m, method="phone", at=local(2026, 2, 20, 13))
    investigate(p3, m)
    propose(p3, m, "compensation", Decimal("10.00"), "EUR")
    accept_and_implement(p3, m)
    history(p3, local(2026, 2, 20), local(2026, 2, 20, 13), local(2026, 2, 21),
            local(2026, 2, 25), local(2026, 3, 21))  # fmt: skip
    Complaint.objects.filter(pk=p3.pk).update(
        resolved_at=local(2026, 2, 25), follow_up_started_at=local(2026, 3, 21), root_cause=conduct
    )
    Resolution.objects.filter(complaint=p3).update(implemented_at=local(2026, 3, 21))
    # An imported answer: resolved, without a score.
    Feedback.objects.create(
        complaint=p3, score=None, resolved=True, submitted_at=local(2026, 3, 22)
    )

    # March.
    b1 = make(m, local(2026, 3, 2), "Billing", "Credit card", "phone")
    services.complaint_acknowledge(b1, actor=m, method="phone", at=local(2026, 3, 2, 13))  # 1 h
    investigate(b1, m)
    propose(b1, m, "refund", Decimal("40.00"))
    accept_and_implement(b1, m)
    services.complaint_update(b1, actor=m, changes={"root_cause": system_error})
    services.feedback_record(b1, actor=m, score=5, resolved=True)
    services.complaint_outcome_record(b1, actor=m, outcome="upheld")
    services.complaint_transition(b1, "documented", actor=m)
    services.review_sign_off(b1, actor=m, quality_notes="Handled well.")
    history(b1, local(2026, 3, 2), local(2026, 3, 2, 13), local(2026, 3, 3), local(2026, 3, 5),
            local(2026, 3, 6), local(2026, 3, 12), local(2026, 3, 14))  # fmt: skip
    Complaint.objects.filter(pk=b1.pk).update(
        investigation_started_at=local(2026, 3, 3),
        resolved_at=local(2026, 3, 5),  # 72 h
        follow_up_started_at=local(2026, 3, 6),
        documented_at=local(2026, 3, 12),
        reviewed_at=local(2026, 3, 14),
        closed_at=local(2026, 3, 14),
        escalation_level="manager",
        escalated_at=local(2026, 3, 3),
    )
    Resolution.objects.filter(complaint=b1).update(implemented_at=local(2026, 3, 6))
    Feedback.objects.filter(complaint=b1).update(submitted_at=local(2026, 3, 10))

    b2 = make(m, local(2026, 3, 2), double_charge, "Credit card", "email")
    services.complaint_acknowledge(b2, actor=m, method="email", at=local(2026, 3, 2, 14))  # 2 h
    investigate(b2, m)
    propose(b2, m, "apology")
    accept_and_implement(b2, m)
    # The customer says it is not resolved: reopened, back to investigation.
    services.feedback_record(b2, actor=m, score=2, resolved=False)
    history(b2, local(2026, 3, 2), local(2026, 3, 2, 14), local(2026, 3, 3), local(2026, 3, 12),
            local(2026, 3, 13), local(2026, 3, 15))  # fmt: skip
    Complaint.objects.filter(pk=b2.pk).update(
        resolved_at=local(2026, 3, 12),  # 240 h, past its target
        resolution_overdue_at=local(2026, 3, 9),
        follow_up_started_at=local(2026, 3, 13),
        root_cause=system_error,
    )
    Resolution.objects.filter(complaint=b2).update(implemented_at=local(2026, 3, 13))
    Feedback.objects.filter(complaint=b2).update(submitted_at=local(2026, 3, 15))

    make(m, local(2026, 3, 3), "Billing", "Mortgage", "phone")
    make(m, local(2026, 3, 9), "Billing", "Credit card", "web")
    make(m, local(2026, 3, 16), "Billing", "Credit card", "phone")
    # 00:30 BST on 30 March is 23:30 UTC on the 29th: by_day says the 30th.
    make(m, local(2026, 3, 30, 0, 30), "Billing", "Credit card", "phone")

    make(m, local(2026, 3, 3), "Delivery", "Mortgage", "email")
    d2 = make(m, local(2026, 3, 10), "Delivery", "Mortgage", "email")
    services.complaint_acknowledge(d2, actor=m, method="email", at=local(2026, 3, 11, 18))  # 30 h
    investigate(d2, m)
    propose(d2, m, "refund", Decimal("100.00"))
    accept_and_implement(d2, m)
    history(d2, local(2026, 3, 10), local(2026, 3, 11, 18), local(2026, 3, 12),
            local(2026, 4, 2), local(2026, 4, 3))  # fmt: skip
    Complaint.objects.filter(pk=d2.pk).update(
        resolved_at=local(2026, 4, 2),
        follow_up_started_at=local(2026, 4, 3),
        root_cause=courier,
    )
    Resolution.objects.filter(complaint=d2).update(implemented_at=local(2026, 4, 3))
    make(m, local(2026, 3, 10), "Delivery", "Credit card", "letter",
         escalation_level="team", escalated_at=local(2026, 3, 11))  # fmt: skip
    make(m, local(2026, 3, 17), "Delivery", None, "phone", reopen_count=1)
    make(m, local(2026, 3, 31, 23, 30), "Delivery", "Mortgage", "phone")  # last half hour

    make(m, local(2026, 3, 1, 0, 30), "Fees", "Credit card", "phone")  # first half hour
    make(m, local(2026, 3, 20), "Fees", None, "web", reopen_count=2)
    make(m, local(2026, 3, 20), "Fees", "Mortgage", "social_media")
    make(m, local(2026, 3, 25), "Fees", "Credit card", "in_person")

    # 00:30 BST on 1 April is 23:30 UTC on 31 March: April's, not March's. Were it counted,
    # Fees would reach the minimum count and be reported rising.
    make(m, local(2026, 4, 1, 0, 30), "Fees")


MARCH_METRICS = {
    "received": {
        "total": 15,
        "by_category": [["Billing", 6], ["Delivery", 5], ["Fees", 4]],
        "by_product": [["Credit card", 8], ["Mortgage", 5], ["—", 2]],
        "by_channel": [
            ["Phone", 7],
            ["Email", 3],
            ["Web", 2],
            ["In person", 1],
            ["Letter", 1],
            ["Social media", 1],
        ],
        "by_day": [
            ["2026-03-01", 1],
            ["2026-03-02", 2],
            ["2026-03-03", 2],
            ["2026-03-09", 1],
            ["2026-03-10", 2],
            ["2026-03-16", 1],
            ["2026-03-17", 1],
            ["2026-03-20", 2],
            ["2026-03-25", 1],
            ["2026-03-30", 1],
            ["2026-03-31", 1],
        ],
    },
    # At 00:00 BST on 1 April: twelve March complaints never acknowledged; the February one
    # acknowledged and closed only in April; B2 (reopened) and D2 (resolved in April)
    # investigating; P2 resolved; P1 and P3 in follow-up. B1 was closed on 14 March.
    "open_at_end": {
        "total": 18,
        "by_stage": [
            ["Received", 12],
            ["Acknowledged", 1],
            ["Investigating", 2],
            ["Resolved", 1],
            ["Follow-up", 2],
        ],
    },
    "exits": {
        "total": 0,
        "by_stage": [["Withdrawn", 0], ["Duplicate", 0], ["Not a complaint", 0]],
    },
    # 1 h, 2 h, 30 h: median 2 h; 90th percentile 2 + 0.8 x 28 = 24.4 h; 2 of 3 within 24 h.
    "acknowledgment": {
        "count": 3,
        "median_hours": 2.0,
        "p90_hours": 24.4,
        "within_deadline": 2,
        "within_deadline_share": 0.6667,
    },
    # 72, 96, 240 (overdue), 696 h: median 168 h; 90th percentile 240 + 0.7 x 456 = 559.2 h.
    "resolution": {
        "count": 4,
        "median_hours": 168.0,
        "p90_hours": 559.2,
        "within_target": 3,
        "within_target_share": 0.75,
    },
    "escalation": {"escalated": 2, "rate": 0.1333},
    "reopen": {"reopened": 3, "rate": 0.2},
    "resolutions": {
        "by_type": [["Compensation", 2], ["Apology or explanation", 1], ["Refund", 1]],
        "money_paid": [["EUR", "10.00"], ["GBP", "65.50"]],
    },
    # Answers 5/yes (B1), 2/no (B2), none/yes (P3); P1's answer came in April. Follow-up began
    # in March for P1, B1, B2 and P3.
    "satisfaction": {
        "answers": 3,
        "scored": 2,
        "average_score": 3.5,
        "resolved_yes": 2,
        "asked": 4,
        "response_rate": 0.75,
    },
    "root_causes": [["System error", 2], ["Courier delay", 1], ["Human error", 1]],
    # Billing 6 against 16 / 8 = 2.0; Delivery 5 against 3.5 (1.43, under 1.5); Fees 4
    # against 0.125 (a ratio of 32, but under the minimum count of 5).
    "rising_categories": [
        {"category": "Billing", "count": 6, "trailing_average": 2.0, "ratio": 3.0}
    ],
    "previous": {"received": 6, "change": 9, "change_share": 1.5},
    # The house profile's acknowledgment clock: the same three acknowledgments as above, now
    # read from the clock rows. (The resolution clocks stop when the services move the
    # cases, after March.)
    "clocks": [
        {
            "profile": "House rules",
            "clock": "acknowledgment",
            "name": "Acknowledgment deadline",
            "unit": "hours",
            "stopped": 3,
            "within": 2,
            "within_share": 0.6667,
            "median": 2.0,
            "p90": 24.4,
        }
    ],
}


def test_every_figure_of_a_known_month(march, settings):
    assert settings.RISING_THRESHOLD == 1.5
    assert settings.RISING_MIN_COUNT == 5

    report = stored(reports.report_build(Period.MONTHLY, date(2026, 3, 17)))

    assert (report.period, report.start, report.end) == (
        Period.MONTHLY,
        date(2026, 3, 1),
        date(2026, 4, 1),
    )
    assert report.starts_at == datetime(2026, 3, 1, 0, 0, tzinfo=UTC)
    assert report.ends_at == datetime(2026, 3, 31, 23, 0, tzinfo=UTC)  # 00:00 BST
    assert report.time_zone == "Europe/London"
    assert report.schema_version == 1
    for key, expected in MARCH_METRICS.items():
        assert report.metrics[key] == expected, key
    assert report.metrics == MARCH_METRICS

    # Fees, with four complaints against one in eight months (a ratio of 32), is held back
    # only by the minimum count: lowered to 4, it is rising, ahead of Billing.
    settings.RISING_MIN_COUNT = 4
    rebuilt = reports.report_build(Period.MONTHLY, date(2026, 3, 1))
    assert rebuilt.metrics["rising_categories"] == [
        {"category": "Fees", "count": 4, "trailing_average": 0.12, "ratio": 32.0},
        {"category": "Billing", "count": 6, "trailing_average": 2.0, "ratio": 3.0},
    ]


def test_a_category_never_seen_before_is_rising_without_a_ratio(manager):
    for day in range(1, 6):
        make(manager, local(2026, 5, day), "New scam")
    make(manager, local(2026, 4, 3), "Billing")
    report = reports.report_build(Period.MONTHLY, date(2026, 5, 1))
    assert report.metrics["rising_categories"] == [
        {"category": "New scam", "count": 5, "trailing_average": 0.0, "ratio": None}
    ]


def test_an_empty_period():
    report = stored(reports.report_build(Period.MONTHLY, date(2026, 3, 1)))
    assert report.metrics == {
        "received": {
            "total": 0,
            "by_category": [],
            "by_product": [],
            "by_channel": [],
            "by_day": [],
        },
        "open_at_end": {
            "total": 0,
            "by_stage": [
                ["Received", 0],
                ["Acknowledged", 0],
                ["Investigating", 0],
                ["Resolved", 0],
                ["Follow-up", 0],
            ],
        },
        "exits": {
            "total": 0,
            "by_stage": [["Withdrawn", 0], ["Duplicate", 0], ["Not a complaint", 0]],
        },
        "acknowledgment": {
            "count": 0,
            "median_hours": None,
            "p90_hours": None,
            "within_deadline": 0,
            "within_deadline_share": None,
        },
        "resolution": {
            "count": 0,
            "median_hours": None,
            "p90_hours": None,
            "within_target": 0,
            "within_target_share": None,
        },
        "escalation": {"escalated": 0, "rate": None},
        "reopen": {"reopened": 0, "rate": None},
        "resolutions": {"by_type": [], "money_paid": []},
        "satisfaction": {
            "answers": 0,
            "scored": 0,
            "average_score": None,
            "resolved_yes": 0,
            "asked": 0,
            "response_rate": None,
        },
        "root_causes": [],
        "rising_categories": [],
        "previous": {"received": 0, "change": 0, "change_share": None},
        "clocks": [],
    }


# Daylight saving ------------------------------------------------------------------------


def test_the_day_the_clocks_spring_forward_lasts_23_hours(manager):
    make(manager, local(2026, 3, 29, 0, 30))  # 00:30 GMT
    make(manager, local(2026, 3, 29, 23, 30))  # 23:30 BST, 22:30 UTC
    make(manager, local(2026, 3, 30, 0, 30))  # 00:30 BST, 23:30 UTC on the 29th

    built = reports.report_build(Period.DAILY, date(2026, 3, 29))
    report = stored(built)

    assert (report.start, report.end) == (date(2026, 3, 29), date(2026, 3, 30))
    assert report.ends_at - report.starts_at == 23 * H
    assert built.ends_at.timestamp() - built.starts_at.timestamp() == 23 * 3600
    assert report.metrics["received"]["total"] == 2
    assert report.metrics["received"]["by_day"] == [["2026-03-29", 2]]

    next_day = stored(reports.report_build(Period.DAILY, date(2026, 3, 30)))
    assert next_day.ends_at - next_day.starts_at == 24 * H
    assert next_day.metrics["received"]["by_day"] == [["2026-03-30", 1]]


def test_the_week_the_clocks_fall_back_lasts_169_hours(manager):
    make(manager, local(2026, 10, 18, 23, 30))  # Sunday before: the week before
    make(manager, local(2026, 10, 19, 0, 30))  # 00:30 BST on Monday = 23:30 UTC on Sunday
    make(manager, local(2026, 10, 25, 12, 0))  # the Sunday of the change, GMT
    make(manager, local(2026, 10, 26, 0, 30))  # the Monday after: next week

    report = stored(reports.report_build(Period.WEEKLY, date(2026, 10, 25)))

    assert (report.start, report.end) == (date(2026, 10, 19), date(2026, 10, 26))
    assert report.ends_at - report.starts_at == 169 * H
    assert report.metrics["received"]["total"] == 2
    assert report.metrics["received"]["by_day"] == [["2026-10-19", 1], ["2026-10-25", 1]]


# Reopenings -----------------------------------------------------------------------------


def test_reopened_complaints_count_and_rate(manager):
    m = manager
    day = local(2026, 5, 12, 10)
    not_resolved = make(m, day)
    services.complaint_acknowledge(not_resolved, actor=m, method="phone", at=day + H)
    investigate(not_resolved, m)
    for _ in range(2):  # the customer twice says it is not resolved
        propose(not_resolved, m, "apology")
        accept_and_implement(not_resolved, m)
        services.feedback_record(not_resolved, actor=m, score=1, resolved=False)
        Feedback.objects.filter(complaint=not_resolved).update(submitted_at=day)

    rejected = make(m, day)
    services.complaint_acknowledge(rejected, actor=m, method="phone", at=day + H)
    investigate(rejected, m)
    propose(rejected, m, "apology")
    services.resolution_record_customer_response(rejected, actor=m, accepted=False)

    rework = make(m, day)  # a manager's rework is not a reopening
    services.complaint_acknowledge(rework, actor=m, method="phone", at=day + H)
    investigate(rework, m)
    propose(rework, m, "apology")
    services.complaint_transition(rework, "investigating", actor=m)

    make(m, day)
    make(m, day - DAY, reopen_count=3)  # the day before: not in the period

    counts = dict(Complaint.objects.values_list("pk", "reopen_count"))
    assert (counts[not_resolved.pk], counts[rejected.pk], counts[rework.pk]) == (2, 1, 0)
    report = reports.report_build(Period.DAILY, day.date())
    assert report.metrics["received"]["total"] == 4
    assert report.metrics["reopen"] == {"reopened": 2, "rate": 0.5}


# Rebuilds -------------------------------------------------------------------------------


def test_a_rebuild_replaces_the_report(manager):
    make(manager, local(2026, 3, 10))
    first = reports.report_build(Period.MONTHLY, date(2026, 3, 10))
    first_built_at = stored(first).built_at
    assert first.metrics["received"]["total"] == 1

    make(manager, local(2026, 3, 20), "Delivery")
    second = reports.report_build(Period.MONTHLY, date(2026, 3, 1))

    assert TrendReport.objects.count() == 1
    assert second.pk == first.pk
    report = stored(second)
    assert report.metrics["received"]["total"] == 2
    assert report.metrics["received"]["by_category"] == [["Billing", 1], ["Delivery", 1]]
    assert report.built_at > first_built_at


# The beat job and its emails --------------------------------------------------------------


@pytest.fixture
def managers(manager, administrator, django_user_model):
    """Two managers with an address (a manager and a superuser); others get nothing."""
    with_email(manager, "manager@staff.example.com")
    with_email(administrator, "admin@staff.example.com")
    django_user_model.objects.create_user(username="quiet", role=Role.MANAGER)  # no address
    django_user_model.objects.create_user(
        username="gone", role=Role.MANAGER, email="gone@staff.example.com", is_active=False
    )
    django_user_model.objects.create_user(
        username="agent", role=Role.CSR, email="agent@staff.example.com"
    )
    return [manager, administrator]


NOW = local(2026, 4, 15, 10)  # a Wednesday


@pytest.fixture
def april(manager):
    make(manager, local(2026, 3, 5))
    make(manager, local(2026, 3, 25))
    make(manager, local(2026, 4, 6, 9))  # week of 6 April: 3 complaints
    make(manager, local(2026, 4, 8))
    make(manager, local(2026, 4, 12, 23, 30))
    make(manager, local(2026, 4, 13))  # this week: not built yet
    make(manager, local(2026, 4, 14, 8))  # yesterday


def report_messages():
    return OutboundMessage.objects.filter(idempotency_key__startswith="report:")


def test_the_job_builds_each_last_closed_report_once_and_emails_managers(managers, april):
    summary = reports.build_trend_reports(now=NOW)

    assert summary["built"] == ["daily 2026-04-14", "weekly 2026-04-06", "monthly 2026-03-01"]
    built = {(r.period, r.start): r for r in TrendReport.objects.all()}
    assert set(built) == {
        ("daily", date(2026, 4, 14)),
        ("weekly", date(2026, 4, 6)),
        ("monthly", date(2026, 3, 1)),
    }
    weekly, monthly = built["weekly", date(2026, 4, 6)], built["monthly", date(2026, 3, 1)]
    assert weekly.metrics["received"]["total"] == 3
    assert monthly.metrics["received"]["total"] == 2
    assert built["daily", date(2026, 4, 14)].metrics["received"]["total"] == 1

    messages = list(report_messages())
    assert len(messages) == 4  # two reports, two managers with an address
    assert {(m.idempotency_key, m.recipient) for m in messages} == {
        (f"report:{r.period}:{r.start.isoformat()}:{u.pk}", u.email)
        for r in (weekly, monthly)
        for u in managers
    }
    for report, received in ((weekly, 3), (monthly, 2)):
        link = settings.SITE_URL + reverse("reports:detail", args=[report.pk])
        for message in report_messages().filter(idempotency_key__contains=report.period):
            assert message.kind == MessageKind.STAFF_NOTIFICATION
            assert message.to_customer is False
            assert message.complaint is None
            assert str(report) in message.subject
            assert f"{received} complaints received" in message.subject
            assert link in message.body_text
            assert f'href="{link}"' in message.body_html
    assert not OutboundMessage.objects.filter(idempotency_key__startswith="report:daily")

    # Again: everything is built already; nothing is built or sent.
    total_messages = OutboundMessage.objects.count()
    assert reports.build_trend_reports(now=NOW)["built"] == []
    assert TrendReport.objects.count() == 3
    assert OutboundMessage.objects.count() == total_messages

    # A report built again by the job (say, after it was removed) is not sent twice.
    weekly.delete()
    assert reports.build_trend_reports(now=NOW)["built"] == ["weekly 2026-04-06"]
    assert TrendReport.objects.filter(period="weekly", start=date(2026, 4, 6)).count() == 1
    assert OutboundMessage.objects.count() == total_messages


def test_a_daily_report_sends_nothing(managers, april):
    # Weekly and monthly reports exist already: only the daily one is built.
    reports.report_build(Period.WEEKLY, date(2026, 4, 6))
    reports.report_build(Period.MONTHLY, date(2026, 3, 1))
    ProcedureReview.objects.create(
        held_on=date(2026, 4, 1), participants="A", findings="B", recorded_by=managers[0]
    )

    summary = reports.build_trend_reports(now=NOW)

    assert summary == {"built": ["daily 2026-04-14"], "review_due": False}
    assert not OutboundMessage.objects.exists()


def test_jobs_run_records_a_job_run(managers, django_user_model):
    install_began(django_user_model, days_before=REVIEW_INTERVAL)
    summary = jobs.run(jobs.JOBS["build_trend_reports"])

    [record] = JobRun.objects.filter(name="build_trend_reports")
    assert record.summary == summary
    assert record.error == ""
    assert record.finished_at is not None
    assert record.duration_ms is not None
    today = record.started_at.astimezone(LONDON).date()
    assert summary["built"] == [
        f"{period} {reports.last_closed(period, today)[0].isoformat()}"
        for period in ("daily", "weekly", "monthly")
    ]
    assert TrendReport.objects.count() == 3
    assert summary["review_due"] is True


# Procedure reviews ----------------------------------------------------------------------


REVIEW_INTERVAL = timedelta(days=settings.PROCEDURE_REVIEW_INTERVAL_DAYS)


def install_began(user_model, *, days_before, today=None):
    """Backdate every account: with no review held, one is due an interval after the first."""
    today = today or datetime.now(LONDON).date()
    began = datetime.combine(today - days_before, datetime.min.time(), tzinfo=LONDON)
    user_model.objects.update(date_joined=began)


def review_messages():
    return OutboundMessage.objects.filter(idempotency_key__startswith="review-due:")


def test_with_no_review_ever_held_managers_are_reminded_once(managers, django_user_model):
    today = date(2026, 4, 15)
    install_began(django_user_model, days_before=REVIEW_INTERVAL, today=today)
    assert report_selectors.review_due_date(today) == today

    assert reports.review_reminder(today) is True
    messages = list(review_messages())
    assert sorted(m.recipient for m in messages) == sorted(u.email for u in managers)
    for message in messages:
        assert message.kind == MessageKind.STAFF_NOTIFICATION
        assert message.to_customer is False
        assert settings.SITE_URL + reverse("reports:reviews") in message.body_text

    assert reports.review_reminder(today) is True
    assert review_messages().count() == len(managers)


def test_with_no_review_ever_held_the_reminder_is_not_repeated_the_next_day(
    managers, django_user_model
):
    today = date(2026, 4, 15)
    install_began(django_user_model, days_before=REVIEW_INTERVAL, today=today)
    reports.review_reminder(today)
    reports.review_reminder(today + DAY)
    assert review_messages().count() == len(managers)


def test_a_fresh_install_owes_no_review_until_an_interval_after_its_first_account(
    managers, django_user_model
):
    today = date(2026, 4, 15)
    install_began(django_user_model, days_before=DAY, today=today)
    assert report_selectors.review_due_date(today) == today - DAY + REVIEW_INTERVAL
    assert reports.review_reminder(today) is False
    assert not review_messages().exists()


def test_a_review_held_yesterday_is_not_due(managers):
    today = date(2026, 4, 15)
    ProcedureReview.objects.create(
        held_on=today - DAY, participants="A", findings="B", recorded_by=managers[0]
    )
    interval = timedelta(days=settings.PROCEDURE_REVIEW_INTERVAL_DAYS)
    assert report_selectors.review_due_date(today) == today - DAY + interval
    assert reports.review_reminder(today) is False
    assert not review_messages().exists()


def test_an_overdue_review_is_reminded_once(managers):
    today = date(2026, 4, 15)
    interval = timedelta(days=settings.PROCEDURE_REVIEW_INTERVAL_DAYS)
    held = today - interval - 3 * DAY
    ProcedureReview.objects.create(
        held_on=held, participants="A", findings="B", recorded_by=managers[0]
    )
    assert reports.review_reminder(today) is True
    assert reports.review_reminder(today + DAY) is True
    assert {m.idempotency_key for m in review_messages()} == {
        f"review-due:{held.isoformat()}:{u.pk}" for u in managers
    }
