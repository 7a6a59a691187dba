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


def before_second_factor(view):
    """Reachable by a signed-in user who has not passed the second step yet: the step itself
    and signing out (accounts/middleware.py)."""
    view.second_factor_stage = "step"
    return view


def before_enrolment(view):
    """Reachable by a signed-in user who must enrol a second factor and has none yet."""
    view.second_factor_stage = "enrolment"
    return view
