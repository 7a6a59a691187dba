"""With DEBUG off, the deployment check refuses a system where a demo account can still sign
in with the published demo password."""

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from accounts.roles import Role
from tests.conftest import make_user

pytestmark = pytest.mark.django_db


def deploy_check():
    call_command("check", "--deploy", "--database", "default", "--fail-level", "ERROR")


def test_a_demo_account_with_the_demo_password_stops_the_deploy_check(settings, django_user_model):
    settings.DEBUG = False
    admin = django_user_model.objects.create_superuser("admin", password=settings.DEMO_PASSWORD)

    with pytest.raises(SystemCheckError, match="redress.E001.*admin"):
        deploy_check()

    admin.set_password("a new and long passphrase")
    admin.save()
    try:
        deploy_check()
    except SystemCheckError as error:
        assert "redress.E001" not in str(error)


def test_other_accounts_and_a_development_system_pass(settings, django_user_model):
    make_user(django_user_model, "priya", Role.CSR)
    settings.DEBUG = True
    django_user_model.objects.create_superuser("admin", password=settings.DEMO_PASSWORD)
    try:
        deploy_check()
    except SystemCheckError as error:
        assert "redress.E001" not in str(error)
