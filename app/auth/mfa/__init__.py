"""A second factor for local accounts: TOTP (RFC 6238) with one-time
recovery codes.  ``factor`` checks a code (sign-in, and the routes that ask
for one), ``service`` enrols, removes, regenerates and resets, ``router``
serves them."""
