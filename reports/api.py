"""The reports' part of the JSON API: the managers' dashboard figures and the stored trend
reports. Mounted beside the complaints API under the same `api` namespace (config/urls.py)."""

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from accounts.roles import Capability, can
from complaints.api.views import ApiView, answers
from complaints.workflow import STAGE_CHOICES
from reports import selectors
from reports.models import Period


class StageCount(serializers.Serializer):
    stage = serializers.ChoiceField(choices=STAGE_CHOICES)
    label = serializers.CharField()
    count = serializers.IntegerField()


class WeekCount(serializers.Serializer):
    week_starting = serializers.DateField()
    count = serializers.IntegerField()


class CategoryCount(serializers.Serializer):
    category_id = serializers.IntegerField(allow_null=True)
    category = serializers.CharField()
    count = serializers.IntegerField()


class Satisfaction(serializers.Serializer):
    average_score = serializers.FloatField(allow_null=True)
    answers = serializers.IntegerField()
    resolved = serializers.IntegerField()


class Dashboard(serializers.Serializer):
    window_start = serializers.DateField(help_text="The 30-day window starts on this day.")
    open_total = serializers.IntegerField()
    open_by_stage = StageCount(many=True)
    exited_total = serializers.IntegerField(
        help_text="Closed without a resolution in the 30 days (withdrawn, duplicate, not a "
        "complaint)."
    )
    exited_by_stage = StageCount(many=True)
    acknowledged_due = serializers.IntegerField()
    acknowledged_on_time = serializers.IntegerField()
    acknowledged_on_time_rate = serializers.FloatField(allow_null=True)
    median_seconds_to_acknowledge = serializers.FloatField(allow_null=True)
    median_seconds_to_resolve = serializers.FloatField(allow_null=True)
    resolved_count = serializers.IntegerField()
    weekly_volume = WeekCount(many=True)
    by_category = CategoryCount(many=True)
    satisfaction = Satisfaction()

    @classmethod
    def from_figures(cls, figures):
        """reports.selectors.dashboard() as plain JSON values."""

        def seconds(delta):
            return delta.total_seconds() if delta is not None else None

        satisfaction = figures["satisfaction"]
        return cls(
            {
                "window_start": figures["window_start"],
                "open_total": figures["open_total"],
                "open_by_stage": [
                    {"stage": stage, "label": label, "count": count}
                    for stage, label, count in figures["open_by_stage"]
                ],
                "exited_total": figures["exited_total"],
                "exited_by_stage": [
                    {"stage": stage, "label": label, "count": count}
                    for stage, label, count in figures["exited_by_stage"]
                ],
                "acknowledged_due": figures["acknowledged_due"],
                "acknowledged_on_time": figures["acknowledged_on_time"],
                "acknowledged_on_time_rate": figures["acknowledged_on_time_rate"],
                "median_seconds_to_acknowledge": seconds(figures["median_to_acknowledge"]),
                "median_seconds_to_resolve": seconds(figures["median_to_resolve"]),
                "resolved_count": figures["resolved_count"],
                "weekly_volume": [
                    {"week_starting": week, "count": count}
                    for week, count in figures["weekly_volume"]
                ],
                "by_category": [
                    {"category": name, "category_id": pk, "count": count}
                    for name, pk, count in figures["by_category"]
                ],
                "satisfaction": {
                    "average_score": satisfaction["average"],
                    "answers": satisfaction["answers"],
                    "resolved": satisfaction["resolved"],
                },
            }
        )


class TrendReportSummary(serializers.Serializer):
    id = serializers.IntegerField()
    period = serializers.CharField(help_text="daily, weekly or monthly")
    start = serializers.DateField(help_text="First local day of the period.")
    end = serializers.DateField(help_text="First local day after the period.")
    time_zone = serializers.CharField()
    built_at = serializers.DateTimeField()
    schema_version = serializers.IntegerField()


class TrendReportDetail(TrendReportSummary):
    metrics = serializers.JSONField(
        help_text="The figures; their schema is documented in reports/metrics.py."
    )


class ReportReader(BasePermission):
    message = "Only managers may read the reports."

    def has_permission(self, request, view):
        return can(request.user, Capability.VIEW_REPORTS)


class DashboardView(ApiView):
    permission_classes = [IsAuthenticated, ReportReader]

    @extend_schema(
        operation_id="dashboard",
        summary="The managers' dashboard figures",
        description="Open complaints by stage, acknowledgment on time, median times, weekly "
        "volume, top categories and satisfaction over the last 30 days (managers only).",
        responses=answers({200: Dashboard}),
    )
    def get(self, request):
        return Response(Dashboard.from_figures(selectors.dashboard()).data)


class TrendReportList(ApiView):
    permission_classes = [IsAuthenticated, ReportReader]

    @extend_schema(
        operation_id="reports_list",
        summary="Stored trend reports, newest first",
        parameters=[
            OpenApiParameter("period", str, enum=["daily", "weekly", "monthly"], required=False)
        ],
        responses=answers({200: TrendReportSummary(many=True)}, 400),
    )
    def get(self, request):
        period = request.query_params.get("period")
        if period is not None and period not in Period.values:
            raise ValidationError({"period": "Choose daily, weekly or monthly."})
        reports = selectors.trend_reports(period)
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(TrendReportSummary(page, many=True).data)


class TrendReportRetrieve(ApiView):
    permission_classes = [IsAuthenticated, ReportReader]

    @extend_schema(
        operation_id="reports_retrieve",
        summary="One trend report with all its figures",
        responses=answers({200: TrendReportDetail}, 404),
    )
    def get(self, request, pk):
        report = selectors.trend_report(pk)
        if report is None:
            raise NotFound("No such report.")
        return Response(TrendReportDetail(report).data)


urlpatterns = [
    path("dashboard/", DashboardView.as_view(), name="dashboard"),
    path("reports/", TrendReportList.as_view(), name="reports"),
    path("reports/<int:pk>/", TrendReportRetrieve.as_view(), name="report"),
]
