"""The two ways to prove who you are: a password, or the firm's OpenID Connect provider."""

import logging

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import SuspiciousOperation
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from accounts.roles import Role

log = logging.getLogger(__name__)

ADMINISTRATOR = "administrator"
# When the groups give several roles, the widest wins.
ROLE_RANK = [Role.CSR.value, Role.RESOLVER.value, Role.MANAGER.value, ADMINISTRATOR]


class PasswordBackend(ModelBackend):
    """Django's passwords, refused everywhere (the admin's sign-in too) when OIDC_ONLY."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if settings.OIDC_ONLY:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def role_for_groups(groups):
    """The role the identity provider's groups give (settings.OIDC_ROLE_GROUPS), or None."""
    if isinstance(groups, str):
        groups = [groups]
    roles = {settings.OIDC_ROLE_GROUPS[g] for g in groups or () if g in settings.OIDC_ROLE_GROUPS}
    ranked = [role for role in ROLE_RANK if role in roles]
    return ranked[-1] if ranked else None


class IdentityProviderBackend(OIDCAuthenticationBackend):
    """Single sign-on (mozilla-django-oidc): the user is found by the provider's subject, or
    linked once by a verified email address, else created; the role follows the groups
    claim at every sign-in, and someone in no mapped group is refused."""

    def authenticate(self, request, **kwargs):
        # Only the callback view passes a nonce; a password sign-in never reaches the provider.
        if not settings.OIDC_RP_CLIENT_ID or "nonce" not in kwargs:
            return None
        return super().authenticate(request, **kwargs)

    def get_userinfo(self, access_token, id_token, payload):
        # mozilla-django-oidc leaves the audience unchecked; a token minted for another
        # client of the same provider must not sign anyone in here.
        audience = payload.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if settings.OIDC_RP_CLIENT_ID not in audiences:
            raise SuspiciousOperation("The ID token was issued for another client.")
        if settings.OIDC_OP_ISSUER and payload.get("iss") != settings.OIDC_OP_ISSUER:
            raise SuspiciousOperation("The ID token comes from another issuer.")
        userinfo = super().get_userinfo(access_token, id_token, payload)
        if userinfo.get("sub") != payload.get("sub"):
            raise SuspiciousOperation("The user info is about someone else than the ID token.")
        # Some providers put the groups in the ID token only, others in the user info only.
        return {**payload, **userinfo}

    def verify_claims(self, claims):
        if role_for_groups(claims.get(settings.OIDC_GROUPS_CLAIM)) is None:
            log.warning(
                "Single sign-on refused for subject %s: no group in OIDC_ROLE_GROUPS",
                claims.get("sub"),
            )
            return False
        return bool(claims.get("sub"))

    def filter_users_by_claims(self, claims):
        users = self.UserModel.objects.filter(sso_subject=claims["sub"])
        if users or not claims.get("email") or claims.get("email_verified") is False:
            return users
        # An account that signed in with a password before the firm turned single sign-on
        # on is linked once, by its verified address, and keeps its history.
        return self.UserModel.objects.filter(email__iexact=claims["email"], sso_subject=None)

    def create_user(self, claims):
        username = (
            claims.get(settings.OIDC_USERNAME_CLAIM) or claims.get("email") or claims["sub"]
        )[:150]
        if self.UserModel.objects.filter(username=username).exists():
            raise SuspiciousOperation(
                f"An account named {username!r} exists and is not linked to the provider."
            )
        user = self.UserModel(username=username)
        user.set_unusable_password()
        log.info("Single sign-on created user %s for subject %s", username, claims["sub"])
        return self.update_user(user, claims)

    def update_user(self, user, claims):
        user.sso_subject = claims["sub"]
        user.email = claims.get("email", user.email) or ""
        user.first_name = claims.get("given_name", user.first_name)[:150]
        user.last_name = claims.get("family_name", user.last_name)[:150]
        role = role_for_groups(claims.get(settings.OIDC_GROUPS_CLAIM))
        before = (user.role, user.is_superuser)
        user.is_superuser = role == ADMINISTRATOR
        user.role = "" if role == ADMINISTRATOR else role
        if user.pk and before != (user.role, user.is_superuser):
            log.warning(
                "Single sign-on changed the role of user %s (id %s) from %s to %s",
                user.username,
                user.pk,
                before,
                (user.role, user.is_superuser),
            )
        user.save()
        return user
