"""Passwords (argon2id through pwdlib) and access tokens (EdDSA JWT through PyJWT).

No cryptography is written here: pwdlib, PyJWT and ``cryptography`` do it; this
module only decides parameters, keys and which claims are required.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import secrets
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from pydantic import SecretStr

from app.config import Settings

_T = TypeVar("_T")

TOKEN_ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["iss", "aud", "sub", "exp", "iat", "nbf", "jti", "role", "gen"]
# A token longer than this is refused before any parsing.
MAX_TOKEN_LENGTH = 4096
# Clock skew allowed on ``exp`` and ``nbf``: a token is accepted until
# ``exp`` plus this, so a revocation is kept that long too.
LEEWAY_SECONDS = 5


class HashQueueFull(Exception):
    """Every password-hash slot is taken and the queue in front of them is full."""


class PasswordHasher:
    """argon2id with a bound on concurrent hashes.

    Each hash takes tens of milliseconds and 64 MiB; a login flood must not
    starve the worker of memory and CPU, so at most a few run at once and the
    rest wait their turn.  Unknown accounts are checked against a dummy hash so
    that the time taken says nothing about whether the account exists.

    Sign-in and the password change check and hash secrets from async code
    (``verify_async``, ``hash_async``) on threads of
    the hasher's own (``max_concurrent_password_hashes``), never on the thread
    pool that serves requests, and a bounded number may wait for them
    (``password_hash_queue``): past it, ``HashQueueFull`` at once.
    """

    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.argon2_time_cost,
                    memory_cost=settings.argon2_memory_cost,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        slots = settings.max_concurrent_password_hashes
        self._slots = threading.BoundedSemaphore(slots)
        self._executor = ThreadPoolExecutor(max_workers=slots, thread_name_prefix="password-hash")
        # Checks submitted to the executor and not yet done: running or waiting.
        self._admitted = 0
        self._admission = threading.Lock()
        self._admit_at_most = slots + settings.password_hash_queue
        self._dummy_hash = self.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        with self._slots:
            return self._hash.hash(password)

    def verify(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """Return (valid, new hash when the parameters changed)."""
        with self._slots:
            if hashed is None:
                self._hash.verify(password, self._dummy_hash)
                return False, None
            return self._hash.verify_and_update(password, hashed)

    @property
    def full(self) -> bool:
        """Every slot is taken and the queue is full: a check now would be refused."""
        return self._admitted >= self._admit_at_most

    async def verify_async(self, password: str, hashed: str | None) -> tuple[bool, str | None]:
        """``verify`` on the hasher's own threads, awaited; ``HashQueueFull``
        at once when the slots are taken and the queue is full."""
        return await self._on_own_threads(self.verify, password, hashed)

    async def hash_async(self, password: str) -> str:
        """``hash`` on the hasher's own threads, behind the same bounded queue
        as ``verify_async``."""
        return await self._on_own_threads(self.hash, password)

    async def _on_own_threads(self, work: Callable[..., _T], *args: Any) -> _T:
        with self._admission:
            if self._admitted >= self._admit_at_most:
                raise HashQueueFull()
            self._admitted += 1
        # Released when the work is done (or cancelled before it started),
        # not when its waiter goes away: a client that hangs up does not
        # free a slot its hash still holds.
        done = self._executor.submit(work, *args)
        done.add_done_callback(self._release)
        return await asyncio.wrap_future(done)

    def _release(self, _done: Future[Any]) -> None:
        with self._admission:
            self._admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


# --- signing keys -----------------------------------------------------------


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.urlsafe_b64encode(hashlib.sha256(raw).digest()[:12]).decode().rstrip("=")


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_or_create_private_key(path: Path) -> Ed25519PrivateKey:
    """Development only: a key generated once and kept under ``var/``."""
    if path.exists():
        return _load_private_key(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    # Create with 0600 and never overwrite a key another process just wrote.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _load_private_key(path.read_bytes())
    with os.fdopen(fd, "wb") as handle:
        handle.write(pem)
    return key


def configured_private_key(
    pem: SecretStr | None, pem_file: Path | None, settings: Settings, dev_name: str
) -> Ed25519PrivateKey:
    """A key from settings (PEM text or file); in development, one generated
    once under ``var/``.  Production settings refuse to load without one."""
    if pem is not None:
        return _load_private_key(pem.get_secret_value().encode())
    if pem_file is not None:
        return _load_private_key(pem_file.read_bytes())
    if settings.is_production:
        raise RuntimeError(f"no {dev_name} configured")
    return load_or_create_private_key(settings.var_dir / f"{dev_name}.pem")


def load_public_keys(pems: list[str]) -> dict[str, Ed25519PublicKey]:
    keys = (_load_public_key(pem) for pem in pems)
    return {key_id(key): key for key in keys}


def _load_private_key(pem: bytes) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError("the key is not an Ed25519 private key")
    return key


def _load_public_key(pem: str) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem.encode())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the key is not an Ed25519 public key")
    return key


@dataclass(frozen=True)
class TokenClaims:
    subject: str
    role: str
    scope: dict[str, list[str]]
    token_id: str
    generation: int
    issued_at: datetime
    # The last moment the token is accepted (its ``exp`` plus the leeway).
    accepted_until: datetime


class TokenError(Exception):
    """Any reason a token is refused; the reason is for the audit log only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TokenService:
    def __init__(self, settings: Settings, signing_key: Ed25519PrivateKey) -> None:
        self._settings = settings
        self._signing_key = signing_key
        self.signing_key_id = key_id(signing_key.public_key())
        self._verification_keys: dict[str, Ed25519PublicKey] = {self.signing_key_id: signing_key.public_key()}
        self._verification_keys.update(load_public_keys(settings.token_previous_public_keys))

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenService:
        key = configured_private_key(
            settings.token_signing_key, settings.token_signing_key_file, settings, "token-signing-key"
        )
        return cls(settings, key)

    def issue(
        self,
        *,
        subject: str,
        role: str,
        scope: dict[str, list[str]],
        generation: int,
        now: datetime,
    ) -> tuple[str, int]:
        lifetime = self._settings.token_lifetime_seconds
        claims: dict[str, Any] = {
            "iss": self._settings.token_issuer,
            "aud": self._settings.token_audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=lifetime),
            "jti": uuid.uuid4().hex,
            "role": role,
            "scope": scope,
            "gen": generation,
        }
        token = jwt.encode(claims, self._signing_key, algorithm=TOKEN_ALGORITHM, headers={"kid": self.signing_key_id})
        return token, lifetime

    def decode(self, token: str) -> TokenClaims:  # noqa: C901 (one check per claim, in order)
        if len(token) > MAX_TOKEN_LENGTH:
            raise TokenError("oversized")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise TokenError("malformed") from exc
        if header.get("alg") != TOKEN_ALGORITHM:
            raise TokenError("algorithm")
        key = self._verification_keys.get(header.get("kid"))  # type: ignore[arg-type]
        if key is None:
            raise TokenError("unknown_key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[TOKEN_ALGORITHM],
                audience=self._settings.token_audience,
                issuer=self._settings.token_issuer,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
                leeway=LEEWAY_SECONDS,
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenError("expired") from exc
        except jwt.ImmatureSignatureError as exc:
            raise TokenError("not_yet_valid") from exc
        except jwt.InvalidSignatureError as exc:
            raise TokenError("signature") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise TokenError("missing_claim") from exc
        except (jwt.InvalidAudienceError, jwt.InvalidIssuerError) as exc:
            raise TokenError("issuer_or_audience") from exc
        except jwt.PyJWTError as exc:
            raise TokenError("invalid") from exc
        subject, role, jti = claims.get("sub"), claims.get("role"), claims.get("jti")
        if not all(isinstance(value, str) and value for value in (subject, role, jti)):
            raise TokenError("invalid_claims")
        generation = claims.get("gen")
        if not isinstance(generation, int) or isinstance(generation, bool):
            raise TokenError("invalid_claims")
        scope = claims.get("scope") if isinstance(claims.get("scope"), dict) else {}
        return TokenClaims(
            subject=subject,  # type: ignore[arg-type]
            role=role,  # type: ignore[arg-type]
            scope=scope,  # type: ignore[arg-type]
            token_id=jti,  # type: ignore[arg-type]
            generation=generation,
            issued_at=datetime.fromtimestamp(claims["iat"], UTC),
            accepted_until=datetime.fromtimestamp(claims["exp"], UTC) + timedelta(seconds=LEEWAY_SECONDS),
        )

    def public_keys(self) -> dict[str, str]:
        return {kid: public_key_pem(key) for kid, key in self._verification_keys.items()}
