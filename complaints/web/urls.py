from django.urls import path

from complaints.web import case, lists, operations

app_name = "complaints"

urlpatterns = [
    path("", lists.complaint_list, name="list"),
    path("new/", case.complaint_create, name="create"),
    path("export.csv", lists.complaint_export, name="export"),
    path("<int:pk>/", case.complaint_detail, name="detail"),
    path("<int:pk>/edit/", case.complaint_edit, name="edit"),
    path("<int:pk>/<slug:action>/", case.complaint_action, name="action"),
    path("consultations/<int:pk>/", case.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/answer/", case.consultation_answer, name="consultation-answer"),
    path("jobs/", operations.jobs_status, name="jobs"),
    path("import/", operations.import_upload, name="import"),
    path("attachments/<int:pk>/", case.attachment_download, name="attachment"),
    path("messages/<int:pk>/", case.message_detail, name="message"),
]
