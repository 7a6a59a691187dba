from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy
from django.utils.text import format_lazy

from accounts import views
from accounts.decorators import before_second_factor

urlpatterns = [
    path("login/", before_second_factor(views.SignInView.as_view()), name="login"),
    path(
        "logout/",
        # The sign-in page then says the sign-out worked (a session is gone, so no message).
        before_second_factor(
            auth_views.LogoutView.as_view(
                next_page=format_lazy("{}?signed_out=1", reverse_lazy("login"))
            )
        ),
        name="logout",
    ),
    path(
        "password/",
        auth_views.PasswordChangeView.as_view(template_name="accounts/password_change.html"),
        name="password_change",
    ),
    path(
        "password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="accounts/password_change_done.html"
        ),
        name="password_change_done",
    ),
    # Two-step sign-in (accounts/mfa.py).
    path("two-step/", views.two_step, name="mfa"),
    path("two-step/verify/", views.second_factor, name="mfa-verify"),
    path("two-step/set-up/", views.enrol, name="mfa-enrol"),
    path("two-step/recovery-codes/", views.recovery_codes, name="mfa-recovery-codes"),
    path("passkeys/", include("django_otp_webauthn.urls", namespace="otp_webauthn")),
    # Single sign-on (accounts/backends.py); the names are mozilla-django-oidc's.
    path("sso/start/", views.sso_start, name="oidc_authentication_init"),
    path("sso/callback/", views.sso_callback, name="oidc_authentication_callback"),
]
