import pytest
from django.contrib.auth.models import AnonymousUser

from accounts.roles import Capability, Role, can, capabilities, workflow_role


@pytest.mark.django_db
def test_csr_logs_and_works_the_intake_queue_but_cannot_approve(csr):
    assert can(csr, Capability.LOG_COMPLAINT)
    assert can(csr, Capability.WORK_INTAKE_QUEUE)
    assert not can(csr, Capability.APPROVE_RESOLUTION)
    assert not can(csr, Capability.SEE_ALL_COMPLAINTS)
    assert not can(csr, Capability.CONSULT)


@pytest.mark.django_db
def test_resolver_consults_and_works_escalations(resolver):
    assert can(resolver, Capability.CONSULT)
    assert can(resolver, Capability.WORK_ESCALATED_TO_TEAM)
    assert not can(resolver, Capability.WORK_INTAKE_QUEUE)
    assert not can(resolver, Capability.REVIEW_CASE)


@pytest.mark.django_db
def test_manager_may_do_everything_but_administer(manager):
    assert capabilities(manager) == frozenset(set(Capability) - {Capability.ADMINISTER})
    assert manager.is_staff  # managers keep the settings lists in the admin site


@pytest.mark.django_db
def test_superuser_administers_and_acts_as_manager(administrator):
    assert can(administrator, Capability.ADMINISTER)
    assert workflow_role(administrator) == Role.MANAGER


@pytest.mark.django_db
def test_anonymous_inactive_and_roleless_users_may_do_nothing(csr, outsider):
    assert capabilities(AnonymousUser()) == frozenset()
    assert capabilities(outsider) == frozenset()
    csr.is_active = False
    assert capabilities(csr) == frozenset()
