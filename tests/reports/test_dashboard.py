"""reports.selectors.dashboard on a hand-made set where every figure is known in advance."""

from collections import Counter
from datetime import timedelta

import pytest
from django.utils import timezone

from complaints.models import Complaint, Feedback
from reports.selectors import dashboard
from tests import factories

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def now():
    return timezone.now().replace(microsecond=0)


def case(stage, now, *, received, acknowledged=None, resolved=None, category, people):
    """A complaint walked to `stage` by the services, its clocks then set to exact moments
    (`received`, `acknowledged`, `resolved` are how long before `now`)."""
    complaint = factories.complaint_at_stage(
        stage,
        **people,
        category=factories.category(category),
        date_of_complaint=timezone.localdate(now - received),
    )
    received_at = now - received
    Complaint.objects.filter(pk=complaint.pk).update(
        received_at=received_at,
        acknowledgment_due_at=received_at + 24 * H,
        acknowledged_at=None if acknowledged is None else now - acknowledged,
        resolved_at=None if resolved is None else now - resolved,
    )
    complaint.refresh_from_db()
    return complaint


@pytest.fixture
def known(now, csr, resolver, manager):
    people = {"csr": csr, "resolver": resolver, "manager": manager}
    made = {
        # Acknowledged after 1 h: on time.
        "a": case("acknowledged", now, received=10 * H, acknowledged=9 * H, category="Billing",
                  people=people),
        # Acknowledged after 2 h: on time.
        "b": case("investigating", now, received=50 * H, acknowledged=48 * H,
                  category="Billing", people=people),
        # Acknowledged after 30 h: late; resolved 40 h after it was received.
        "c": case("resolved", now, received=100 * H, acknowledged=70 * H, resolved=60 * H,
                  category="Billing", people=people),
        # Not acknowledged, due 6 h ago: counts as due and not on time.
        "d": case("received", now, received=30 * H, category="Delivery", people=people),
        # Not acknowledged, due in 22 h: not counted yet.
        "e": case("received", now, received=2 * H, category="Delivery", people=people),
        # Received 40 days ago (outside the 30-day window), resolved 5 days ago after 35 days.
        "g": case("follow_up", now, received=40 * DAY, acknowledged=40 * DAY - H,
                  resolved=5 * DAY, category="Fees", people=people),
        # Received 60 days ago, resolved 50 days ago, closed: outside every 30-day figure.
        "h": case("reviewed", now, received=60 * DAY, acknowledged=60 * DAY - H,
                  resolved=50 * DAY, category="Fees", people=people),
    }  # fmt: skip
    # The review walk recorded feedback today; move it out of the window.
    Feedback.objects.filter(complaint=made["h"]).update(submitted_at=now - 55 * DAY)
    Feedback.objects.create(complaint=made["g"], score=5, resolved=True, submitted_at=now - DAY)
    Feedback.objects.create(
        complaint=made["c"], score=2, resolved=False, submitted_at=now - 2 * DAY
    )
    return made


def test_every_figure_on_a_known_set(now, known):
    figures = dashboard(now=now)

    # Open by stage: the reviewed case is closed and not counted.
    assert figures["open_by_stage"] == [
        ("received", "Received", 2),
        ("acknowledged", "Acknowledged", 1),
        ("investigating", "Investigating", 1),
        ("resolved", "Resolved", 1),
        ("follow_up", "Follow-up", 1),
    ]
    assert figures["open_total"] == 6
    # Due: the three acknowledged in the window and the one overdue; not the one still in time.
    assert figures["acknowledged_due"] == 4
    assert figures["acknowledged_on_time"] == 2
    assert figures["acknowledged_on_time_rate"] == 0.5
    # 1 h, 2 h, 30 h (the 40- and 60-day-old cases are outside the window).
    assert figures["median_to_acknowledge"] == 2 * H
    # 40 h and 840 h, interpolated (percentile_cont, not _disc); the case resolved 50 days
    # ago is outside the window.
    assert figures["median_to_resolve"] == 440 * H
    assert figures["resolved_count"] == 2
    # Busiest category first; Fees had nothing in the last 30 days.
    billing, delivery = factories.category("Billing"), factories.category("Delivery")
    assert figures["by_category"] == [("Billing", billing.pk, 3), ("Delivery", delivery.pk, 2)]
    # Feedback in the window: 5 (resolved) and 2 (not); the 55-day-old 4 is outside.
    assert figures["satisfaction"] == {"average": 3.5, "answers": 2, "resolved": 1}
    assert figures["window_start"] == timezone.localdate(now - 30 * DAY)


def test_the_dashboard_computed_afresh_reads_fourteen_queries(
    now, known, django_assert_num_queries
):
    """Issue 24: each figure one read, whatever the number of complaints and clocks: open by
    stage, the received window, exits, categories and the busiest, satisfaction, resolutions
    (median and count together), actions overdue, the review due (two, before any review),
    and compliance per clock (definitions, closures, hours clocks, day-counted clocks)."""
    with django_assert_num_queries(14):
        dashboard(now=now)


def test_weekly_volume_sums_twelve_weeks(now, known):
    figures = dashboard(now=now)

    def monday(complaint):
        day = timezone.localtime(complaint.received_at).date()
        return (day - timedelta(days=day.weekday())).isoformat()

    expected = Counter(monday(c) for c in known.values())
    weeks = figures["weekly_volume"]
    assert len(weeks) == 12  # every week, zero where nothing came in
    assert {week: n for week, n in weeks if n} == dict(expected)
    assert sum(n for _, n in weeks) == 7

    # A later `now` moves every window past the set; open complaints stay open.
    later = dashboard(now=now + 100 * DAY)
    assert later["acknowledged_due"] == 0
    assert later["acknowledged_on_time_rate"] is None
    assert later["median_to_acknowledge"] is None
    assert later["median_to_resolve"] is None
    assert later["resolved_count"] == 0
    assert all(n == 0 for _, n in later["weekly_volume"])
    assert later["by_category"] == []
    assert later["satisfaction"] == {"average": None, "answers": 0, "resolved": 0}
    assert later["open_total"] == 6
    # Without `now`, the current time.
    assert dashboard()["acknowledged_due"] == 4


def test_empty_database(now):
    figures = dashboard(now=now)

    assert figures["open_by_stage"] == [
        ("received", "Received", 0),
        ("acknowledged", "Acknowledged", 0),
        ("investigating", "Investigating", 0),
        ("resolved", "Resolved", 0),
        ("follow_up", "Follow-up", 0),
    ]
    assert figures["open_total"] == 0
    assert figures["acknowledged_due"] == 0
    assert figures["acknowledged_on_time"] == 0
    assert figures["acknowledged_on_time_rate"] is None
    assert figures["median_to_acknowledge"] is None
    assert figures["median_to_resolve"] is None
    assert figures["resolved_count"] == 0
    assert [n for _, n in figures["weekly_volume"]] == [0] * 12
    assert figures["by_category"] == []
    assert figures["satisfaction"] == {"average": None, "answers": 0, "resolved": 0}
