from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.report_list, name="list"),
    path("rebuild/", views.report_rebuild, name="rebuild"),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/<slug:table>.csv", views.report_csv, name="csv"),
    path("returns/", views.return_list, name="returns"),
    path("returns/produce/", views.return_produce, name="return-produce"),
    path("returns/<int:pk>/", views.return_detail, name="return"),
    path("returns/<int:pk>.csv", views.return_csv, name="return-csv"),
    path("returns/<int:pk>.xlsx", views.return_xlsx, name="return-xlsx"),
    path("reviews/", views.review_list, name="reviews"),
    path("reviews/actions/<int:pk>/", views.action_status, name="action-status"),
]
