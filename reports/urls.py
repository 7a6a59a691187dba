from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("rebuild/", views.report_rebuild, name="rebuild"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/<slug:table>.csv", views.report_csv, name="csv"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/actions/<int:pk>/", views.action_status, name="action-status"),
]
