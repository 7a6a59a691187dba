from django.apps import AppConfig
from django.apps import apps as global_apps
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save


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
        self.connect_regulatory_catalogue()

    def connect_regulatory_catalogue(self):
        """Every change to the rows the intake's cached catalogue holds replaces its version;
        a migration's (and the seed above, after a flush) too, whose models send no signal
        of their own."""
        from complaints.selectors import regulatory

        changed = regulatory.regulatory_catalogue_changed
        for model in regulatory.MODELS:
            uid = f"regulatory-catalogue-{model._meta.label_lower}"
            post_save.connect(changed, sender=model, dispatch_uid=f"{uid}-save")
            post_delete.connect(changed, sender=model, dispatch_uid=f"{uid}-delete")
        for through in regulatory.PRODUCT_CONDITIONS:
            uid = f"regulatory-catalogue-{through._meta.label_lower}"
            m2m_changed.connect(changed, sender=through, dispatch_uid=uid)
        post_migrate.connect(changed, sender=self, dispatch_uid="regulatory-catalogue-migrate")
