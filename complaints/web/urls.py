from django.urls import path

from complaints.web import case, correspondence, lists, operations, privacy

app_name = "complaints"

urlpatterns = [
    path("", lists.complaint_list, name="list"),
    path("new/", case.complaint_create, name="create"),
    path("export.csv", lists.complaint_export, name="export"),
    path("<int:pk>/", case.complaint_detail, name="detail"),
    path("<int:pk>/edit/", case.complaint_edit, name="edit"),
    path("<int:pk>/reply/", correspondence.reply_compose, name="reply"),
    path("messages/<int:pk>/posted/", correspondence.letter_posted, name="letter-posted"),
    path("emails/", correspondence.inbound_list, name="inbound"),
    path("emails/<int:pk>/", correspondence.inbound_message, name="inbound-message"),
    path("emails/<int:pk>/attach/", correspondence.inbound_attach, name="inbound-attach"),
    path("emails/<int:pk>/dismiss/", correspondence.inbound_dismiss, name="inbound-dismiss"),
    path("<int:pk>/<slug:action>/", case.complaint_action, name="action"),
    path("consultations/<int:pk>/", case.consultation_detail, name="consultation"),
    path("consultations/<int:pk>/answer/", case.consultation_answer, name="consultation-answer"),
    path("jobs/", operations.jobs_status, name="jobs"),
    path("import/", operations.import_upload, name="import"),
    path("attachments/<int:pk>/", case.attachment_download, name="attachment"),
    path("privacy/", privacy.privacy_home, name="privacy"),
    path("privacy/export/", privacy.privacy_export, name="privacy-export"),
    path("privacy/erasure/", privacy.privacy_erasure_request, name="privacy-erasure"),
    path(
        "privacy/erasure/<int:pk>/<slug:decision>/",
        privacy.privacy_erasure_decide,
        name="privacy-erasure-decide",
    ),
    path("privacy/hold/<slug:action>/", privacy.privacy_hold, name="privacy-hold"),
    path("privacy/record/", privacy.privacy_record, name="privacy-record"),
    path("messages/<int:pk>/", case.message_detail, name="message"),
]
