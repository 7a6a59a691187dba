from django.urls import path

from complaints.customer import views

app_name = "customer"

urlpatterns = [
    path("<str:token>/", views.status, name="status"),
    path("<str:token>/add/", views.add_information, name="add"),
    path("<str:token>/reply/", views.reply, name="reply"),
    path("<str:token>/respond/", views.respond, name="respond"),
    path("<str:token>/feedback/", views.feedback, name="feedback"),
]
