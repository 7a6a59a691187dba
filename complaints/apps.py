from django.apps import AppConfig


class ComplaintsConfig(AppConfig):
    name = "complaints"

    def ready(self):
        from anymail.signals import inbound

        from complaints.api.mail_webhook import inbound_email_received

        inbound.connect(inbound_email_received, dispatch_uid="complaints.inbound_email")
