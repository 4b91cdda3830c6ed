"""Single sign-on with OpenID Connect (``docs/single-sign-on.md``)."""
