"""/metrics: Prometheus text format. django-prometheus's request, response and migration
figures for this process, then Redress's own gauges, counted from the database at each scrape
(so every web process reports the same values, however many there are).

Only loopback or a caller with `Authorization: Bearer <METRICS_TOKEN>` is answered; anyone
else gets 404, as if there were nothing here.
"""

import hmac
import ipaddress

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.utils import timezone
from django.views.decorators.http import require_GET
from django_prometheus import middleware as prometheus_middleware
from django_prometheus.exports import ExportToDjangoView
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from complaints.jobs import JOBS
from complaints.selectors import probes

# Headers a reverse proxy adds: such a request came from elsewhere, even when the proxy
# itself talks to us over loopback.
PROXY_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _bearer_token_matches(request):
    expected = settings.METRICS_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if not expected or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(sent.strip().encode(), expected.encode())


def _from_loopback(request):
    if any(header in request.META for header in PROXY_HEADERS):
        return False
    try:
        return ipaddress.ip_address(request.META.get("REMOTE_ADDR", "")).is_loopback
    except ValueError:
        return False


def scrape_allowed(request):
    return _bearer_token_matches(request) or _from_loopback(request)


def _seconds_since(moment, now):
    """How long ago `moment` was, 0 when it is none or still ahead."""
    if moment is None:
        return 0.0
    return max(0.0, (now - moment).total_seconds())


def _gauge(name, documentation, value):
    return GaugeMetricFamily(name, documentation, value=value)


class RedressCollector(Collector):
    def collect(self):
        now = timezone.now()
        by_stage = probes.complaints_open_by_stage()
        stages = GaugeMetricFamily(
            "redress_complaints_open", "Open complaints by stage.", labels=["stage"]
        )
        for stage, count in by_stage.items():
            stages.add_metric([stage], count)
        yield stages

        # Two counts read a moment apart may disagree by a complaint moving between them;
        # a gauge below zero would only puzzle a reader.
        unmarked = probes.acknowledgments_unmarked()
        yield _gauge(
            "redress_acknowledgments_due",
            "Complaints awaiting acknowledgment whose deadline is not marked missed.",
            unmarked["count"],
        )
        yield _gauge(
            "redress_acknowledgments_breached",
            "Complaints still awaiting acknowledgment whose deadline was marked missed.",
            max(0, by_stage["received"] - unmarked["count"]),
        )
        yield _gauge(
            "redress_clock_lateness_seconds",
            "How long ago the earliest unmarked acknowledgment deadline passed (0 if none "
            "has): the deadline sweep marks one within minutes.",
            _seconds_since(unmarked["earliest_due"], now),
        )
        yield _gauge(
            "redress_resolutions_overdue",
            "Complaints not yet resolved and marked past their resolution target.",
            probes.resolution_targets_overdue_count(),
        )

        backlog = probes.outbox_backlog()
        yield _gauge("redress_outbox_backlog", "Messages still to send.", backlog["count"])
        yield _gauge(
            "redress_outbox_oldest_due_seconds",
            "How long the earliest message due has waited (0 if none is due).",
            _seconds_since(backlog["earliest_due"], now),
        )

        durations = GaugeMetricFamily(
            "redress_job_last_duration_seconds",
            "How long the last finished run of each periodic job took.",
            labels=["job"],
        )
        finished = GaugeMetricFamily(
            "redress_job_last_finished_timestamp_seconds",
            "When the last run of each periodic job finished.",
            labels=["job"],
        )
        failed = GaugeMetricFamily(
            "redress_job_last_failed",
            "1 when the last finished run of each periodic job failed.",
            labels=["job"],
        )
        for name in JOBS:
            run = probes.job_last_finished(name)
            if run is None:
                continue
            durations.add_metric([name], (run.duration_ms or 0) / 1000)
            finished.add_metric([name], run.finished_at.timestamp())
            failed.add_metric([name], 1 if run.error else 0)
        yield from (durations, finished, failed)

        # Redress reads no inbound mail yet; the gauge is here so dashboards and alerts can be
        # built now. When inbound mail arrives, this becomes the age of the oldest unread one.
        yield _gauge(
            "redress_inbound_mail_lag_seconds",
            "How long the oldest inbound email has waited to be read (no inbound mail yet).",
            0,
        )


class PrometheusAfterMiddleware(prometheus_middleware.PrometheusAfterMiddleware):
    """django-prometheus's, minus its server error on a Content-Length that is not a number.

    It reads the header with int(); Django itself takes such a header as 0. The request is
    served as Django would serve it, left out of the per-view figures.
    """

    def process_request(self, request):
        if request.headers.get("Content-Length", "0").isdigit():
            super().process_request(request)


@login_not_required
@require_GET
def metrics(request):
    if not scrape_allowed(request):
        raise Http404
    response = ExportToDjangoView(request)
    ours = CollectorRegistry()
    ours.register(RedressCollector())
    response.content += generate_latest(ours)
    return response
