from django.contrib.auth.decorators import login_not_required, login_required
from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from complaints.api import mail_webhook, views

# Mounted under the `api` namespace with reports' endpoints by config/urls.py.
urlpatterns = [
    path("complaints/", views.ComplaintListCreate.as_view(), name="complaints"),
    path("complaints/<int:pk>/", views.ComplaintRetrieve.as_view(), name="complaint"),
    path("complaints/<int:pk>/notes/", views.ComplaintNotes.as_view(), name="notes"),
    path(
        "complaints/<int:pk>/attachments/",
        views.ComplaintAttachments.as_view(),
        name="attachments",
    ),
    path("complaints/<int:pk>/messages/", views.ComplaintMessages.as_view(), name="messages"),
    path("complaints/<int:pk>/transition/", views.ComplaintTransition.as_view(), name="transition"),
    path(
        "complaints/<int:pk>/acknowledge/",
        views.ComplaintAcknowledge.as_view(),
        name="acknowledge",
    ),
    path("complaints/<int:pk>/assign/", views.ComplaintAssign.as_view(), name="assign"),
    path("complaints/<int:pk>/escalate/", views.ComplaintEscalate.as_view(), name="escalate"),
    path("complaints/<int:pk>/outcome/", views.ComplaintOutcome.as_view(), name="outcome"),
    path("complaints/<int:pk>/resolution/", views.ComplaintResolution.as_view(), name="resolution"),
    path("complaints/<int:pk>/withdraw/", views.ComplaintWithdraw.as_view(), name="withdraw"),
    path("complaints/<int:pk>/merge/", views.ComplaintMerge.as_view(), name="merge"),
    path(
        "complaints/<int:pk>/not-a-complaint/",
        views.ComplaintNotAComplaint.as_view(),
        name="not-a-complaint",
    ),
    # A hosted mail service's inbound route (docs/correspondence.md); 404 unless configured.
    path("inbound/mailgun/", mail_webhook.mailgun_inbound, name="inbound-mailgun"),
    # The schema answers token callers (401 without one). The documentation pages are for
    # signed-in people: DRF exempts its views from LoginRequiredMiddleware, so login_required
    # sends a visitor to the sign-in page as everywhere else on the site. The split view
    # serves Swagger UI's start-up script from a URL, as the Content-Security-Policy
    # (script-src 'self') requires. (No Redoc page: its template loads Google web fonts.)
    path("schema/", login_not_required(SpectacularAPIView.as_view()), name="schema"),
    path(
        "docs/",
        login_required(views.ApiDocs.as_view(url_name="api:schema")),
        name="docs",
    ),
]
