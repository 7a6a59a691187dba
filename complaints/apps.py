from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import post_migrate


def seed_clock_catalogue(sender, using, apps=global_apps, **kwargs):
    """The regulatory profiles every complaint needs one of, and their responses' required
    elements and templates: put back after a flush (the tests that empty the database),
    which runs no data migration again."""
    from complaints.clocks import catalogue
    from complaints.outcomes import profile_schemes_seed
    from complaints.responses import catalogue as responses

    RegulatoryProfile = apps.get_model("complaints", "RegulatoryProfile")
    if not RegulatoryProfile.objects.using(using).exists():
        catalogue.seed(apps)
        profile_schemes_seed(apps)
        responses.seed(apps)


class ComplaintsConfig(AppConfig):
    name = "complaints"

    def ready(self):
        from anymail.signals import inbound

        from complaints.api.mail_webhook import inbound_email_received

        inbound.connect(inbound_email_received, dispatch_uid="complaints.inbound_email")
        post_migrate.connect(seed_clock_catalogue, sender=self)
