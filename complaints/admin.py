"""Settings that managers keep: the managed lists and the holiday calendar. Case data is
read-only here: every change to a complaint goes through the application's services."""

from datetime import datetime

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path
from simple_history.admin import SimpleHistoryAdmin

from accounts.history import export_history
from accounts.roles import Capability, can
from complaints.models import (
    BusinessCalendar,
    Category,
    Channel,
    ClockDefinition,
    ClockEvent,
    Complaint,
    ComplaintClock,
    Complexity,
    Holiday,
    Product,
    RegulatoryProfile,
    RequiredElement,
    ResponseEnclosure,
    ResponseTemplate,
    RetentionPolicy,
    ReturnGrouping,
    RootCause,
)
from complaints.services import (
    response_enclosure_upload,
    response_template_approve,
    response_template_save,
)
from complaints.uploads import UploadRejected, check_upload
from complaints.workflow import Refused


class ManagerSettingsAdmin(SimpleHistoryAdmin):
    """Managers keep these lists themselves; no per-model permission bookkeeping needed. Each
    keeps its history (who, when, old and new), shown under History and exported as CSV."""

    actions = [export_history]

    def has_module_permission(self, request):
        return can(request.user, Capability.MANAGE_SETTINGS)

    def has_view_permission(self, request, obj=None):
        return can(request.user, Capability.MANAGE_SETTINGS)

    has_add_permission = has_module_permission
    has_change_permission = has_view_permission
    has_delete_permission = has_view_permission


@admin.register(Category, Product)
class TaxonomyAdmin(ManagerSettingsAdmin):
    list_display = ("name", "parent", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(RootCause)
class RootCauseAdmin(ManagerSettingsAdmin):
    list_display = ("name", "active")
    list_filter = ("active",)
    search_fields = ("name",)


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(ManagerSettingsAdmin):
    """The replies staff start from; placeholders are checked when saved (model clean). A
    regulated template's new wording waits for another manager's approval (docs/responses.md):
    the save and the approval go through services/responses.py."""

    list_display = (
        "name",
        "response_type",
        "profile",
        "language",
        "active",
        "awaiting_approval",
        "wording_changed_by",
        "approved_by",
    )
    list_filter = ("awaiting_approval", "response_type", "profile", "active", "language")
    search_fields = ("name", "subject", "body")
    fields = (
        "name",
        "response_type",
        "profile",
        "language",
        "subject",
        "body",
        "active",
        "awaiting_approval",
        "wording_changed_by",
        "wording_changed_at",
        "approved_by",
        "approved_at",
    )
    readonly_fields = (
        "awaiting_approval",
        "wording_changed_by",
        "wording_changed_at",
        "approved_by",
        "approved_at",
    )
    change_form_template = "admin/complaints/responsetemplate/change_form.html"

    def save_model(self, request, obj, form, change):
        response_template_save(obj, actor=request.user, changed=form.changed_data)

    def get_urls(self):
        approve = path(
            "<int:pk>/approve/",
            self.admin_site.admin_view(self.approve_wording),
            name="complaints_responsetemplate_approve",
        )
        return [approve, *super().get_urls()]

    def approve_wording(self, request, pk):
        """The change form's button: approves the wording shown there, named by its
        wording_changed_at (a wording changed since is refused)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        template = self.get_object(request, str(pk))
        if template is None or not self.has_change_permission(request, template):
            raise PermissionDenied
        try:
            version = datetime.fromisoformat(request.POST.get("approved_version", ""))
        except ValueError:
            version = None
        try:
            response_template_approve(template, actor=request.user, version=version)
        except Refused as refusal:
            self.message_user(request, refusal.message, messages.ERROR)
        else:
            self.message_user(request, f"Approved the wording of “{template.name}”.")
        return redirect("admin:complaints_responsetemplate_change", pk)


@admin.register(RequiredElement)
class RequiredElementAdmin(ManagerSettingsAdmin):
    """What each response type must carry under each profile, and how it is checked."""

    list_display = ("label", "profile", "response_type", "kind", "source", "active")
    list_filter = ("profile", "response_type", "kind", "active")
    search_fields = ("label", "code", "source", "patterns")
    fields = (
        "profile",
        "response_type",
        "code",
        "label",
        "source",
        "kind",
        "patterns",
        "enclosure",
        "fact",
        "active",
    )


class ResponseEnclosureForm(forms.ModelForm):
    file = forms.FileField(
        required=False,
        help_text="A PDF or another document; checked like any upload. Choose one to replace "
        "the current version (responses already sent keep theirs).",
    )

    class Meta:
        model = ResponseEnclosure
        fields = ["profile", "code", "name"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None and not data.get("file"):
            self.add_error("file", "Choose the document.")
        upload = data.get("file")
        if upload is not None:
            try:
                check_upload(upload.name, upload.chunks(), settings.ATTACHMENT_MAX_BYTES)
            except UploadRejected as rejected:
                self.add_error("file", rejected.message)
        return data


@admin.register(ResponseEnclosure)
class ResponseEnclosureAdmin(ManagerSettingsAdmin):
    """The documents a profile's responses carry (the ombudsman's leaflet)."""

    form = ResponseEnclosureForm
    list_display = ("name", "profile", "code", "original_name", "uploaded_by", "uploaded_at")
    list_filter = ("profile",)
    readonly_fields = ("original_name", "size", "uploaded_by", "uploaded_at")

    def save_model(self, request, obj, form, change):
        upload = form.cleaned_data.get("file")
        if upload is not None:
            response_enclosure_upload(obj, upload, actor=request.user)
        else:
            obj.save()


@admin.register(Holiday)
class HolidayAdmin(ManagerSettingsAdmin):
    list_display = ("date", "name", "calendar")
    list_filter = ("calendar",)
    search_fields = ("name",)


# Regulatory clocks as data (docs/clocks.md): a manager adds a calendar, a profile or a clock
# here and the next intake and sweep use it; no code change, no deploy.


class ClosureInline(admin.TabularInline):
    model = Holiday
    extra = 1
    verbose_name = "closure"


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(ManagerSettingsAdmin):
    list_display = ("name", "code", "country", "subdivision", "time_zone", "opens", "closes")
    list_filter = ("country",)
    search_fields = ("name", "code")
    inlines = [ClosureInline]


DEFINITION_FIELDSETS = (
    (None, {"fields": ("code", "name", "role", "active")}),
    ("When it runs", {"fields": ("start_event", "stop_events", "amount", "unit", "calendar")}),
    ("Warning", {"fields": ("warning_amount", "warning_unit", "warning_notify")}),
    ("Breach", {"fields": ("breach_notify", "breach_escalates", "breach_message")}),
    (
        "Applies to",
        {"fields": ("products", "channels", "complexities", "vulnerable", "hardship")},
    ),
)


class ClockDefinitionForm(forms.ModelForm):
    """The lists a clock keeps as JSON, offered as ticks."""

    stop_events = forms.MultipleChoiceField(
        choices=ClockEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    channels = forms.MultipleChoiceField(
        choices=Channel.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any channel.",
    )
    complexities = forms.MultipleChoiceField(
        choices=Complexity.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="None ticked: any complexity.",
    )

    class Meta:
        model = ClockDefinition
        fields = [
            "profile",
            *(name for _, options in DEFINITION_FIELDSETS for name in options["fields"]),
        ]


class ClockDefinitionInline(admin.StackedInline):
    model = ClockDefinition
    form = ClockDefinitionForm
    extra = 0
    fieldsets = DEFINITION_FIELDSETS
    filter_horizontal = ("products",)
    show_change_link = True


@admin.register(RegulatoryProfile)
class RegulatoryProfileAdmin(ManagerSettingsAdmin):
    list_display = (
        "name",
        "code",
        "regulator",
        "country",
        "priority",
        "returns_scheme",
        "is_default",
        "active",
    )
    list_filter = ("active", "regulator", "country", "returns_scheme")
    search_fields = ("name", "code", "regulator", "sources")
    filter_horizontal = ("products",)
    inlines = [ClockDefinitionInline]


@admin.register(ReturnGrouping)
class ReturnGroupingAdmin(ManagerSettingsAdmin):
    list_display = ("scheme", "dimension", "product", "category", "root_cause", "code", "label")
    list_filter = ("scheme", "dimension")
    search_fields = ("code", "label", "product__name", "category__name", "root_cause__name")
    autocomplete_fields = ("product", "category", "root_cause")


@admin.register(ClockDefinition)
class ClockDefinitionAdmin(ManagerSettingsAdmin):
    form = ClockDefinitionForm
    list_display = ("name", "profile", "role", "amount", "unit", "breach_escalates", "active")
    list_filter = ("profile", "role", "unit", "active")
    search_fields = ("name", "code", "profile__name")
    fieldsets = ((None, {"fields": ("profile",)}), *DEFINITION_FIELDSETS)
    filter_horizontal = ("products",)


class ReadOnlyAdmin:
    """Rows the application's services write: the admin shows them, never changes them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ComplaintClock)
class ComplaintClockAdmin(ReadOnlyAdmin, admin.ModelAdmin):
    """The running clocks, to read: they change through the clock services only."""

    list_display = ("complaint", "definition", "due_at", "breached_at", "stopped_at", "met")
    list_filter = ("definition__profile", "definition__role", "met")
    search_fields = ("complaint__reference",)
    list_select_related = ("complaint", "definition")
    raw_id_fields = ("complaint",)

    def has_module_permission(self, request):
        return can(request.user, Capability.MANAGE_SETTINGS)

    has_view_permission = ManagerSettingsAdmin.has_view_permission


@admin.register(Complaint)
class ComplaintAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("reference", "customer_name", "stage", "channel", "received_at", "assignee")
    list_filter = ("stage", "channel", "complexity")
    search_fields = ("reference", "customer_name", "customer_email")

    def revert_disabled(self, request, obj=None):
        return True

    def history_view(self, request, object_id, extra_context=None):
        _refuse_an_id_that_is_not_a_number(object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        _refuse_an_id_that_is_not_a_number(object_id)
        # simple-history saves whatever form is posted here, Revert button shown or not; that
        # would rewrite a complaint (stage included) around the services, the workflow and
        # their history rules. An earlier version is there to read only.
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied
        return super().history_form_view(request, object_id, version_id, extra_context)


def _refuse_an_id_that_is_not_a_number(object_id):
    # simple-history filters its rows by the id as the URL gives it, so anything but digits
    # would be a 500 where the rest of the admin says there is no such object.
    if not (object_id.isascii() and object_id.isdigit()):
        raise Http404("No such complaint")


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(ManagerSettingsAdmin):
    """Retention as data (docs/data-protection.md): the retention job reads these daily."""

    list_display = (
        "name",
        "product",
        "regulatory_profile",
        "minimum_days",
        "anonymise_after_days",
        "source",
        "active",
    )
    list_filter = ("active",)
