from rest_framework.authentication import TokenAuthentication
from rest_framework.exceptions import AuthenticationFailed, PermissionDenied
from rest_framework.permissions import SAFE_METHODS

from accounts.models import ApiToken, ApiTokenScope, SecurityEventKind, api_token_hash
from accounts.services import api_token_use, security_event_record


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>` against the hashed, expiring, revocable ApiToken.

    DRF's TokenAuthentication reads the header and answers `WWW-Authenticate: Token`; only
    the look-up is ours. The scope is enforced here, not in a permission class, because
    every token request passes here while views choose their own permission classes.
    """

    def authenticate_credentials(self, key):
        token = ApiToken.objects.select_related("user").filter(key_hash=api_token_hash(key)).first()
        if token is None:
            raise AuthenticationFailed("Invalid token.")
        if not token.usable():
            self._refuse(token, "expired" if not token.revoked else "revoked")
            raise AuthenticationFailed(
                "This token has been revoked." if token.revoked else "This token has expired."
            )
        if not token.user.is_active:
            raise AuthenticationFailed("User inactive or deleted.")
        return token.user, token

    def authenticate(self, request):
        authenticated = super().authenticate(request)
        if authenticated is None:
            return None
        user, token = authenticated
        if request.method not in SAFE_METHODS and token.scope != ApiTokenScope.WRITE:
            self._refuse(token, f"read-only, asked to {request.method} {request.path}")
            raise PermissionDenied("This token may only read: it has the read-only scope.")
        api_token_use(token, request)
        return user, token

    def _refuse(self, token, why):
        security_event_record(
            SecurityEventKind.API_TOKEN_REFUSED, actor=token.user, detail=f"{token}: {why}"
        )
