"""A deployment check: the demo's accounts share a published password, so a system with DEBUG
off refuses to go on while one of them can still sign in with it. Run by `manage.py check
--deploy --database default`, which docker-compose runs before the web, worker and beat start.

It lives in reports/ because the demo (seed_demo) does: complaints/ knows nothing of reports/.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Error, Tags, register

from complaints import demo

DEMO_USERNAMES = [username for username, *_ in demo.USERS] + [demo.SUPERUSER[0]]


@register(Tags.security, deploy=True)
def demo_accounts_absent(app_configs=None, databases=None, **kwargs):
    if settings.DEBUG or not databases:
        return []
    known = [
        user.username
        for user in get_user_model().objects.filter(username__in=DEMO_USERNAMES, is_active=True)
        if user.check_password(settings.DEMO_PASSWORD)
    ]
    if not known:
        return []
    return [
        Error(
            f"Demo accounts can sign in with the published demo password: {', '.join(known)}.",
            hint="Deactivate them or set new passwords (admin site, or `manage.py "
            "changepassword`) before this system holds real complaints.",
            id="redress.E001",
        )
    ]
