from functools import wraps

from django.core.exceptions import PermissionDenied

from accounts.roles import can


def capability_required(capability):
    """Refuse the view (403) unless the signed-in user holds the capability."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not can(request.user, capability):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
