"""What each role may do: the one answer every view and template asks for.

Object-level rules (which complaint a user may see or act on) live in
complaints/permissions.py and build on these capabilities.
"""

import enum

from django.db import models


class Role(models.TextChoices):
    CSR = "csr", "Customer service representative"
    RESOLVER = "resolver", "Resolution team"
    MANAGER = "manager", "Manager"


class Capability(enum.StrEnum):
    LOG_COMPLAINT = "log_complaint"
    WORK_INTAKE_QUEUE = "work_intake_queue"
    WORK_ESCALATED_TO_TEAM = "work_escalated_to_team"
    CONSULT = "consult"
    SEE_ALL_COMPLAINTS = "see_all_complaints"
    ASSIGN_ANYONE = "assign_anyone"
    APPROVE_RESOLUTION = "approve_resolution"
    REVIEW_CASE = "review_case"
    VIEW_REPORTS = "view_reports"
    MANAGE_SETTINGS = "manage_settings"
    READ_SECURITY_LOG = "read_security_log"
    # Retention, legal holds, subject access, erasure and the record's verification.
    PROTECT_PERSONAL_DATA = "protect_personal_data"
    ADMINISTER = "administer"


_STAFF = {Capability.LOG_COMPLAINT}
ROLE_CAPABILITIES = {
    Role.CSR: frozenset(_STAFF | {Capability.WORK_INTAKE_QUEUE}),
    Role.RESOLVER: frozenset(_STAFF | {Capability.WORK_ESCALATED_TO_TEAM, Capability.CONSULT}),
    Role.MANAGER: frozenset(set(Capability) - {Capability.ADMINISTER}),
}


def capabilities(user):
    """Every capability the user holds; empty for anonymous or inactive users."""
    if not user or not user.is_authenticated or not user.is_active:
        return frozenset()
    if user.is_superuser:
        return frozenset(Capability)
    return ROLE_CAPABILITIES.get(user.role, frozenset())


def can(user, capability):
    return Capability(capability) in capabilities(user)


def workflow_role(user):
    """The role name the transition table in complaints/workflow.py speaks of."""
    if user.is_superuser:
        return Role.MANAGER.value
    return user.role or None
