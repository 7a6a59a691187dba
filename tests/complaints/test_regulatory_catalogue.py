"""The regulatory catalogue every intake reads from the cache (complaints/selectors/regulatory.py):
a change to a definition, a closure, a profile's products or the lists is used by the next
intake, and between changes the catalogue is not read again."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints import services
from complaints.models import (
    BusinessCalendar,
    Category,
    ClockDefinition,
    Product,
    RegulatoryProfile,
)
from complaints.selectors import regulatory
from complaints.selectors.regulatory import regulatory_catalogue
from tests import factories

pytestmark = pytest.mark.django_db

# Monday 2 March 2026, 10:00 in London: the house's standard resolution target, ten business
# days on, is Monday 16 March (no bank holiday between).
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
TABLES = [model._meta.db_table for model in (*regulatory.MODELS, *regulatory.PRODUCT_CONDITIONS)]


def logged(actor, data=None, **overrides):
    data = data or intake_data(**overrides)
    return services.complaint_create(actor=actor, data=data, received_at=MONDAY)


def intake_data(**overrides):
    return factories.complaint_data(date_of_complaint=MONDAY.date(), **overrides)


def catalogue_reads(queries):
    return [q["sql"] for q in queries if any(f'FROM "{table}"' in q["sql"] for table in TABLES)]


def house_clock(code):
    return ClockDefinition.objects.get(profile__code="house", code=code)


def test_between_changes_an_intake_reads_nothing_of_the_catalogue(csr):
    data = intake_data()
    logged(csr, data)
    with CaptureQueriesContext(connection) as first:
        logged(csr, data)
    factories.category("Fees")  # a change: the next intake reads the catalogue again
    with CaptureQueriesContext(connection) as after_a_change:
        logged(csr, data)

    assert catalogue_reads(first.captured_queries) == []
    assert catalogue_reads(after_a_change.captured_queries) != []


def test_a_changed_clock_definition_is_used_by_the_next_intake(csr):
    assert logged(csr).acknowledgment_due_at == datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    acknowledgment = house_clock("acknowledgment")
    acknowledgment.amount = 48
    acknowledgment.save()

    assert logged(csr).acknowledgment_due_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_a_closure_added_in_the_admin_is_skipped_by_the_next_intake(client, administrator, csr):
    assert str(logged(csr).resolution_target_date) == "2026-03-16"
    client.force_login(administrator)
    response = client.post(
        reverse("admin:complaints_holiday_add"),
        {"date": "2026-03-05", "name": "Office move", "calendar": ""},
    )
    assert response.status_code == 302

    assert str(logged(csr).resolution_target_date) == "2026-03-17"


def test_a_product_given_to_a_profile_chooses_it_at_the_next_intake(csr):
    transfer = factories.product("Payment transfer")
    payments = RegulatoryProfile.objects.get(code="fca-payments")
    payments.active = True
    payments.save()
    payments.products.add(factories.product("Current account"))
    assert logged(csr, product=transfer).profile.code == "house"

    payments.products.add(transfer)

    assert logged(csr, product=transfer).profile.code == "fca-payments"


def test_a_calendar_moved_to_another_zone_is_used_by_the_next_intake(csr):
    house = BusinessCalendar.objects.get(code="house")
    house.time_zone = "Pacific/Auckland"
    house.save()

    # Ten business days counted on Auckland's days, ending at the end of its Monday 16th.
    target = logged(csr).clocks.get(definition__code="resolution-standard").due_at
    assert target == datetime(2026, 3, 16, 10, 59, 59, 999999, tzinfo=UTC)


def test_the_forms_offer_and_accept_what_the_lists_hold_now(client, csr):
    client.force_login(csr)
    client.get(reverse("complaints:create"))
    retired = factories.category("Retired issue")
    retired.active = False
    retired.save()
    fresh = Category.objects.create(name="New issue")

    page = client.get(reverse("complaints:create")).content.decode()

    assert f'<option value="{fresh.pk}">New issue</option>' in page
    assert "Retired issue" not in page
    assert set(regulatory_catalogue().categories) == set(
        Category.objects.filter(active=True).values_list("pk", flat=True)
    )
    assert set(regulatory_catalogue().products) == set(
        Product.objects.filter(active=True).values_list("pk", flat=True)
    )


def test_a_copy_read_while_a_change_was_uncommitted_is_dropped_when_it_commits(
    csr, django_capture_on_commit_callbacks
):
    data = intake_data()
    before = regulatory_catalogue()
    with django_capture_on_commit_callbacks(execute=True):
        acknowledgment = house_clock("acknowledgment")
        acknowledgment.amount = 48
        acknowledgment.save()
        # Another process reads now, before the commit: the rows as they were, kept under a
        # version of its own.
        cache.set(regulatory.VERSION_KEY, "other-process")
        cache.set(regulatory.COPY_KEY.format(version="other-process"), before)

    assert logged(csr, data).acknowledgment_due_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_without_the_cache_an_intake_reads_the_catalogue_from_the_database(csr, settings):
    # Nothing listens on port 1: every cache call fails at once, as in an outage.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    acknowledgment = house_clock("acknowledgment")
    acknowledgment.amount = 48
    acknowledgment.save()  # the version cannot be replaced: a warning, and the change stands

    assert logged(csr).acknowledgment_due_at == datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


def test_another_process_takes_the_cached_copy_without_reading_the_database(
    monkeypatch, django_assert_num_queries
):
    read_here = regulatory_catalogue()
    monkeypatch.setattr(regulatory, "_copy", (None, None))  # a process that has none yet

    with django_assert_num_queries(0):
        read_there = regulatory_catalogue()

    assert read_there is not read_here
    assert [p.code for p in read_there.profiles] == [p.code for p in read_here.profiles]
    assert read_there.definitions.keys() == read_here.definitions.keys()
