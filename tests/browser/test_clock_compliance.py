"""The manager's dashboard with compliance per clock, at a laptop's and a phone's width.

Screenshots land in test-artifacts/screenshots/<journey>/; axe-core checks every page.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from complaints.models import ComplaintClock
from tests import factories
from tests.browser.conftest import DESKTOP, PHONE, no_horizontal_scroll, sign_in

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_dashboard_shows_compliance_per_clock(new_page, journey, csr, manager, settings):
    settings.DASHBOARD_CACHE_SECONDS = 0
    for hours in (3, 30):
        clock = ComplaintClock.objects.get(
            complaint=factories.complaint(csr), stopped_at=None, definition__code="acknowledgment"
        )
        clock.stopped_at = clock.started_at + timedelta(hours=hours)
        clock.started_at -= timedelta(days=2)
        clock.stopped_at -= timedelta(days=2)
        clock.met = hours <= 24
        clock.stop_event = "acknowledged"
        clock.save()
    assert (
        timezone.now()
        > ComplaintClock.objects.exclude(stopped_at=None).latest("stopped_at").stopped_at
    )
    steps = journey("clock-compliance-dashboard")

    for viewport in (DESKTOP, PHONE):
        width = viewport["width"]
        page = new_page(viewport)
        sign_in(page, steps, manager)
        expect(page.get_by_text("Compliance per clock (stopped in 30 days)")).to_be_visible()
        steps.step(page, f"dashboard-{width}")
        no_horizontal_scroll(page, width)
