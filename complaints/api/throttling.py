from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class TokenRateThrottle(UserRateThrottle):
    """Requests per caller (one token per user), at REST_FRAMEWORK's "api" rate.

    The rate is read at each request rather than once at import, so a deployment's setting
    (API_THROTTLE_RATE) and a test's override_settings both take effect.
    """

    scope = "api"

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
