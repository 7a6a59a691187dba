from celery import shared_task

from complaints import jobs
from complaints.tasks import RELIABLE
from reports.services import build_trend_reports as build


@shared_task(**RELIABLE)
def build_trend_reports():
    return jobs.run(build)
