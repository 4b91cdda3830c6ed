"""Personal information encrypted at rest: AES-256-GCM (``cryptography``),
one key per id, the key id stored with each value so that keys can rotate.

A stored value reads ``v1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>``.
The associated data binds it to its row and field (``participant:<id>:name``),
so a value copied into another row does not decrypt.  Values written before
encryption (no ``v1:`` prefix) are read as they are, and ``sexto
reencrypt-data`` rewrites everything under the current key.

One service-wide key set, not a key per case: destruction of a case's
information (the privacy work) erases its rows; a per-case key would only
help if backups had to be made unreadable case by case, at the price of a
key table to protect and to back up with the data.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path
from typing import overload

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from app.config import Settings

PREFIX = "v1"


class DataCipher:
    def __init__(self, keys: dict[str, bytes], current: str) -> None:
        if current not in keys:
            raise ValueError("the current data key is not among the configured keys")
        for key_id, key in keys.items():
            if len(key) != 32 or ":" in key_id:
                raise ValueError(f"data key {key_id!r} must be 32 bytes and its id have no ':'")
        self._aead = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self.current = current
        # A key of its own for digests, derived from each data key: never
        # the encryption key itself.
        self._digest_keys = {
            key_id: HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"sexto keyed digest").derive(key)
            for key_id, key in keys.items()
        }
        self._digest_key = self._digest_keys[current]

    @property
    def key_ids(self) -> list[str]:
        return sorted(self._aead)

    @classmethod
    def from_settings(cls, settings: Settings) -> DataCipher:
        if keys := settings.configured_data_keys():
            return cls(keys, settings.data_key_current or max(keys))
        if settings.is_production:  # the settings validator already refuses this
            raise RuntimeError("no data encryption key configured")
        return cls(*_development_keys(settings.var_dir / "data-keys.json"))

    @overload
    def encrypt(self, plaintext: str, context: str) -> str: ...
    @overload
    def encrypt(self, plaintext: None, context: str) -> None: ...
    def encrypt(self, plaintext: str | None, context: str) -> str | None:
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        sealed = self._aead[self.current].encrypt(nonce, plaintext.encode(), context.encode())
        return f"{PREFIX}:{self.current}:{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def decrypt(self, stored: str | None, context: str) -> str | None:
        if stored is None or not stored.startswith(PREFIX + ":"):
            return stored  # written before encryption: read as it is
        _, key_id, payload = stored.split(":", 2)
        raw = base64.urlsafe_b64decode(payload)
        return self._aead[key_id].decrypt(raw[:12], raw[12:], context.encode()).decode()

    def keyed_digest(self, value: str, purpose: str) -> str:
        """HMAC-SHA256 of ``value`` (hex), for what must be found again but
        never read back (the sign-in throttle's account names).  It changes
        when the current data key does."""
        return self._keyed_digest(self._digest_key, value, purpose)

    def keyed_digests(self, value: str, purpose: str) -> list[str]:
        """``keyed_digest`` under every configured key, the current one
        first: what a digest given out before another key was made current
        may still be (a CSRF token, while instances restart one by one)."""
        others = [key for key_id, key in sorted(self._digest_keys.items()) if key_id != self.current]
        return [self._keyed_digest(key, value, purpose) for key in (self._digest_key, *others)]

    @staticmethod
    def _keyed_digest(key: bytes, value: str, purpose: str) -> str:
        mac = hmac.HMAC(key, hashes.SHA256())
        mac.update(f"{purpose}\x00{value}".encode())
        return mac.finalize().hex()

    def needs_rewrap(self, stored: str | None) -> bool:
        return stored is not None and not stored.startswith(f"{PREFIX}:{self.current}:")


def _development_keys(path: Path) -> tuple[dict[str, bytes], str]:
    """Development only: a key generated once and kept under ``var/``."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"current": "dev1", "keys": {"dev1": base64.b64encode(secrets.token_bytes(32)).decode()}}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                json.dump(document, handle)
        except FileExistsError:
            pass
    document = json.loads(path.read_text())
    return {kid: base64.b64decode(value) for kid, value in document["keys"].items()}, document["current"]
