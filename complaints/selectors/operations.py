"""What the operators' pages and the API's retries read."""

from complaints.models import IdempotencyKey, JobRun


def job_runs_latest(names):
    """The newest run of each job, by name (None for a job that never ran)."""
    return {
        name: JobRun.objects.filter(name=name).order_by("-started_at").first() for name in names
    }


def api_idempotency_record(user, key):
    """The answer kept under this caller's Idempotency-Key, or None."""
    return IdempotencyKey.objects.filter(user=user, key=key).first()
