from django.contrib import admin
from django.urls import include, path

from complaints.api.urls import urlpatterns as complaints_api
from complaints.customer import views as customer_views
from complaints.web.home import home
from config.health import health
from config.metrics import metrics
from reports.api import urlpatterns as reports_api

urlpatterns = [
    path("", home, name="home"),
    path("accounts/", include("accounts.urls")),
    path("complaints/", include("complaints.web.urls")),
    path("reports/", include("reports.urls")),
    path("admin/", admin.site.urls),
    # Customers, who have no account.
    path("complain/", customer_views.public_complaint, name="public-complaint"),
    path(
        "complain/thanks/",
        customer_views.public_complaint_thanks,
        name="public-complaint-thanks",
    ),
    path("c/", include("complaints.customer.urls")),
    # The JSON API for other systems: token authentication, OpenAPI schema and docs.
    path("api/v1/", include((complaints_api + reports_api, "api"))),
    # Operations: the load balancer's probe and Prometheus's scrape (docs/operations-health.md).
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
]

# Deny by default: LoginRequiredMiddleware guards every view. These URL names are the only
# ones that answer a visitor who is not signed in; tests/test_public_urls.py keeps it so.
PUBLIC_URL_NAMES = frozenset(
    {
        "login",
        "admin:login",
        # Single sign-on: to the identity provider and back (accounts/backends.py).
        "oidc_authentication_init",
        "oidc_authentication_callback",
        "public-complaint",
        "public-complaint-thanks",
        "customer:status",
        "customer:add",
        "customer:reply",
        "customer:respond",
        "customer:feedback",
        # Mailgun's inbound route: signed (checked by anymail), 404 unless configured.
        "api:inbound-mailgun",
        # Says only which checks pass; /metrics answers loopback or its token, else 404.
        "health",
        "metrics",
    }
)
