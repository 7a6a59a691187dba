from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # Imported once the apps are loaded: jobs and services read models.
        from complaints import jobs
        from reports import checks  # noqa: F401  (registers the deployment check)
        from reports.services import build_trend_reports

        jobs.register("build_trend_reports", build_trend_reports)
