from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.passwords import MAX_LENGTH
from app.schemas import InputModel

Code = Annotated[str, StringConstraints(min_length=1, max_length=64)]
CurrentPassword = Annotated[str, StringConstraints(min_length=1, max_length=MAX_LENGTH, strip_whitespace=False)]


class TotpEnrolment(BaseModel):
    """A TOTP secret to put in an authenticator app: shown once, at the start
    of enrolment.  The client draws the QR code of `otpauth_uri` itself."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "secret": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
                    "otpauth_uri": "otpauth://totp/Sexto:demo-staff-a?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
                    "&issuer=Sexto",
                    "algorithm": "SHA1",
                    "digits": 6,
                    "period": 30,
                }
            ]
        }
    )

    secret: str = Field(description="The shared secret, base32 (160 bits), for typing into the app by hand.")
    otpauth_uri: str = Field(description="The `otpauth://totp/...` URI (Key Uri Format), for a QR code.")
    algorithm: Literal["SHA1"] = "SHA1"
    digits: Literal[6] = 6
    period: Literal[30] = Field(default=30, description="Seconds per code.")


class PasswordIn(InputModel):
    """The current password, proved again before a second factor is enrolled
    (OWASP ASVS 5.0 V7.5.1)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "sexto-demo-2026"}]})

    password: CurrentPassword


class ReauthenticationIn(InputModel):
    """The current password and a one-time code (from the app, or a
    recovery code), both proved again before the factor is changed (OWASP
    ASVS 5.0 V7.5.1)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"password": "sexto-demo-2026", "code": "492039"}]})

    password: CurrentPassword
    code: Code


class CodeIn(InputModel):
    """A one-time code: from the authenticator app (6 digits) or, where said,
    a recovery code."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"code": "492039"}]})

    code: Code


class RecoveryCodes(BaseModel):
    """One-time recovery codes, shown once: each signs in once in place of
    the app's code (`otp`). Keep them apart from the phone."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"recovery_codes": ["k3lq-7xam-2pzc-wq4n-s6df-ht5e"]}]})

    recovery_codes: list[str] = Field(description="Ten codes of 24 characters (dashes and case do not matter).")
