"""The admin site Redress serves: Django's own, with the header set here and one guard that
Django leaves out."""

from django.contrib import admin, messages
from django.contrib.admin.apps import AdminConfig
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponseRedirect

# simple-history filters its rows by the id as the URL gives it; anything that cannot be a
# primary key would be a 500 where the rest of the admin says there is no such object.
HISTORY_VIEWS = {"history_view", "history_form_view"}


def _selection_valid(model, values):
    """Whether every selected value can be a primary key of `model`. Django hands the list
    to `pk__in` as it came, and a value that is not one (a word, an id past bigint) raises
    from the query, a server error for a hand-made request."""
    pk = model._meta.pk
    try:
        for value in values:
            pk.run_validators(pk.to_python(value))
    except ValidationError:
        return False
    return True


class RedressAdminSite(admin.AdminSite):
    site_header = "Redress administration"
    site_title = "Redress"

    def admin_view(self, view, cacheable=False):
        model_admin = getattr(view, "__self__", None)
        name = getattr(view, "__name__", "")
        if model_admin is not None and name in HISTORY_VIEWS:

            def history(request, object_id, *args, **kwargs):
                if not _selection_valid(model_admin.model, [object_id]):
                    raise Http404("No such item")
                return view(request, object_id, *args, **kwargs)

            return super().admin_view(history, cacheable)
        if name != "changelist_view" or model_admin is None:
            return super().admin_view(view, cacheable)

        def changelist(request, *args, **kwargs):
            selected = request.POST.getlist(ACTION_CHECKBOX_NAME)
            if request.method == "POST" and not _selection_valid(model_admin.model, selected):
                model_admin.message_user(
                    request,
                    "Nothing was done: the selection names an item that does not exist. "
                    "Select the items on the list and try again.",
                    messages.WARNING,
                )
                return HttpResponseRedirect(request.get_full_path())
            return view(request, *args, **kwargs)

        return super().admin_view(changelist, cacheable)


class RedressAdminConfig(AdminConfig):
    default_site = "config.admin.RedressAdminSite"
