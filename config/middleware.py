from django.conf import settings


class SecurityHeadersMiddleware:
    """A Content Security Policy that allows no inline script, on every response.

    Views that need a stricter policy (attachment downloads) set their own header first.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        response.headers.setdefault(
            "Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()"
        )
        return response
