from celery import shared_task

from complaints import jobs
from complaints.tasks import RELIABLE


@shared_task(**RELIABLE)
def build_trend_reports():
    return jobs.run("build_trend_reports")
