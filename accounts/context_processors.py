from accounts.roles import capabilities


def navigation(request):
    """The user's capabilities, so templates show only the links the user may follow."""
    user = getattr(request, "user", None)
    return {"caps": {c.value for c in capabilities(user)} if user else set()}
