from django.urls import path

from complaints import views

app_name = "complaints"

urlpatterns = [
    path("", views.complaint_list, name="list"),
    path("new/", views.complaint_create, name="create"),
    path("export.csv", views.complaint_export, name="export"),
    path("<int:pk>/", views.complaint_detail, name="detail"),
    path("<int:pk>/edit/", views.complaint_edit, name="edit"),
    path("<int:pk>/<slug:action>/", views.complaint_action, name="action"),
    path("consultations/<int:pk>/", views.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/answer/", views.consultation_answer, name="consultation-answer"),
    path("jobs/", views.jobs_status, name="jobs"),
    path("import/", views.import_upload, name="import"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
