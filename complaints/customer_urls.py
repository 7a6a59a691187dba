from django.urls import path

from complaints import customer_views

app_name = "customer"

urlpatterns = [
    path("<str:token>/", customer_views.status, name="status"),
    path("<str:token>/add/", customer_views.add_information, name="add"),
    path("<str:token>/respond/", customer_views.respond, name="respond"),
    path("<str:token>/feedback/", customer_views.feedback, name="feedback"),
]
