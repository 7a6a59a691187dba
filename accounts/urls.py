from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy
from django.utils.text import format_lazy

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="accounts/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path(
        "logout/",
        # The sign-in page then says the sign-out worked (a session is gone, so no message).
        auth_views.LogoutView.as_view(
            next_page=format_lazy("{}?signed_out=1", reverse_lazy("login"))
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
]
