from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from complaints.models import Complaint, StageChange
from reports.models import TrendReport

CFPB_SAMPLE = Path(__file__).parent / "data" / "cfpb_sample.csv"


@pytest.mark.django_db
def test_seed_demo_twice_changes_nothing(settings):
    call_command("seed_demo", cfpb=str(CFPB_SAMPLE))
    users = {u.username: (u.password, u.role) for u in get_user_model().objects.all()}
    complaints, changes = Complaint.objects.count(), StageChange.objects.count()
    call_command("seed_demo", cfpb=str(CFPB_SAMPLE))
    assert {u.username: (u.password, u.role) for u in get_user_model().objects.all()} == users
    assert Complaint.objects.count() == complaints > 0
    assert StageChange.objects.count() == changes
    assert set(users) >= {"csr", "csr2", "resolver", "manager", "admin"}
    assert Complaint.objects.filter(external_reference__startswith="CFPB-").count() == 20
    # The busiest year of the real data has its twelve monthly reports, built once.
    assert TrendReport.objects.filter(period="monthly").count() == 12
    assert get_user_model().objects.get(username="manager").check_password(settings.DEMO_PASSWORD)
