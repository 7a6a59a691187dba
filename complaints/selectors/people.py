"""Who to tell and who can be given work."""

from django.contrib.auth import get_user_model

from accounts.roles import Role


def managers_to_notify():
    """Active managers and administrators with an email address."""
    return [
        user
        for user in get_user_model().objects.filter(is_active=True).exclude(email="")
        if user.is_superuser or user.role == Role.MANAGER
    ]


def csrs_to_notify():
    return list(get_user_model().objects.filter(is_active=True, role=Role.CSR).exclude(email=""))


def team_members():
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .exclude(role="")
        .order_by("first_name", "username")
    )


def people_in_role(role):
    """Everyone active in one role, signed-in or not, with an email address or not: a case
    marked for them shows in their queue either way."""
    return list(get_user_model().objects.filter(is_active=True, role=role))
