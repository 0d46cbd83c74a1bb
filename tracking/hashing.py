"""Hashes of secrets: API tokens, citizen ID digits, phone digits, one-time codes.

Only hashes are stored. API tokens are 32 random bytes, so a plain SHA-256 is enough to make a
stolen table useless. Short secrets (ID numbers, 4 digits, 6-digit codes) get a per-record salt
and PBKDF2, and are compared in constant time. A short secret can still be guessed offline from
a stolen database in little time; that is why the online checks also limit tries.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PBKDF2_ITERATIONS = 2_000
"""Iterations of PBKDF2-SHA256 for short secrets: about a millisecond each on a small server."""


def new_token() -> str:
    """Return a new API token: 32 random bytes, URL-safe base64."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """Return the SHA-256 hex digest of an API token (what the users table stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_salt() -> str:
    """Return a new random salt as 32 hex characters."""
    return secrets.token_hex(16)


def digits_of(value: str) -> str:
    """Return only the decimal digits of ``value`` (``"0912 345 678"`` → ``"0912345678"``)."""
    return "".join(ch for ch in value if ch.isdigit())


def secret_hash(secret: str, salt: str, *, purpose: str) -> str:
    """Return the salted PBKDF2-SHA256 hex digest of a short secret.

    Parameters
    ----------
    secret
        The secret, already normalised by the caller (e.g. digits only).
    salt
        The record's salt (:func:`new_salt`).
    purpose
        A label mixed into the salt (``"id"``, ``"id_last4"``, ``"phone_last4"``, ``"code"``),
        so that the same digits used for two purposes hash differently.
    """
    material = f"{purpose}:{salt}".encode()
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode("utf-8"), material, PBKDF2_ITERATIONS)
    return digest.hex()


def secret_matches(secret: str, salt: str, expected_hash: str | None, *, purpose: str) -> bool:
    """Return whether ``secret`` hashes to ``expected_hash`` (constant-time comparison)."""
    if not expected_hash:
        return False
    return hmac.compare_digest(secret_hash(secret, salt, purpose=purpose), expected_hash)
