"""Proof of identity at the hand-over of a result: one-time codes and citizen ID digits.

A ``delivered`` scan of a result counts only with valid proof, one of:

- a **one-time code** the citizen received (:func:`issue_delivery_code`): 6 digits, single use,
  valid for :data:`CODE_TTL` after issue, at most :data:`CODE_MAX_TRIES` wrong tries, and only
  its salted hash stored; issuing a new code cancels the earlier ones;
- the **last 4 digits of the applicant's citizen ID**, checked against the salted hash stored
  with the citizen's contact data (the ID number itself is never stored). After
  :data:`ID_MAX_TRIES` wrong tries (counted in the database, whichever request or process sent
  them) the digits no longer count as proof, even right ones: the dossier then needs a one-time
  code, or a staff decision (:func:`clear_id_digit_block`) to let the digits be tried again.

If someone other than the applicant receives the result (``"recipient_is_applicant": false``),
their name is required (``"recipient_name"``). Without valid proof the scan is recorded but
flagged, and the dossier stays out for delivery. What is kept of the proof is the method, the
recipient's name when it is not the applicant, and whether it checked out, never the code or
the digits.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from tracking.db import session_engine, write_lock
from tracking.errors import InvalidInput, NotFound
from tracking.hashing import digits_of, new_salt, secret_hash, secret_matches
from tracking.lifecycle import Direction, Status
from tracking.models import CitizenContact, DeliveryCode, Dossier, utcnow

CODE_TTL = timedelta(hours=48)
"""How long a one-time code stays valid after it is issued."""

CODE_MAX_TRIES = 5
"""Wrong tries after which a one-time code is dead."""

CODE_DIGITS = 6

ID_MAX_TRIES = 5
"""Wrong ID-digit tries on one dossier after which the digits no longer count as proof."""


@dataclass(frozen=True, slots=True)
class ProofCheck:
    """The outcome of checking a delivery's proof.

    Attributes
    ----------
    reason
        ``None`` if the proof is valid, else why not (no secret in it).
    code
        ``None`` if the proof is valid, else a short code of why not, for the courier's phone
        (``id_digits_wrong``, ``id_digits_blocked``, ``code_wrong`` ...).
    stored
        What is kept on the scan event: method, validity, recipient (never the secret).
    """

    reason: str | None
    stored: dict[str, Any]
    code: str | None = None


def issue_delivery_code(
    *,
    session: Session,
    code: str,
    now: datetime | None = None,
    ttl: timedelta = CODE_TTL,
) -> str:
    """Issue a new one-time delivery code for a result and return it (shown only this once).

    Earlier unused codes of the dossier stop working. The code is committed before returning.

    Parameters
    ----------
    session
        The database session.
    code
        The dossier code (a ``return`` dossier, not yet delivered).
    now
        The server's clock; defaults to the current time.
    ttl
        How long the code stays valid.

    Returns
    -------
    str
        Six digits to give to the citizen (by SMS, Zalo, or on paper at the counter).

    Raises
    ------
    NotFound
        If there is no such dossier.
    InvalidInput
        If the dossier is a pickup or already delivered or returned.
    """
    now = utcnow() if now is None else now
    session.commit()
    with write_lock(session_engine(session)):
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
        if dossier is None:
            msg = "code: no dossier with this code"
            raise NotFound(msg)
        if dossier.direction != Direction.RETURN.value:
            msg = "code: this dossier is a pickup; delivery codes are for results"
            raise InvalidInput(msg)
        if dossier.status in (Status.DELIVERED.value, Status.RETURNED.value):
            msg = f"code: this dossier is already {dossier.status}"
            raise InvalidInput(msg)
        earlier = session.exec(
            select(DeliveryCode).where(
                DeliveryCode.dossier_id == dossier.id, col(DeliveryCode.used_at).is_(None)
            )
        )
        for old in earlier:
            old.expires_at = min(old.expires_at, now)
            session.add(old)
        value = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
        salt = new_salt()
        assert dossier.id is not None
        session.add(
            DeliveryCode(
                dossier_id=dossier.id,
                salt=salt,
                code_hash=secret_hash(value, salt, purpose="code"),
                created_at=now,
                expires_at=now + ttl,
                max_tries=CODE_MAX_TRIES,
            )
        )
        session.commit()
    return value


def check_delivery_proof(
    *,
    session: Session,
    dossier: Dossier,
    proof: Mapping[str, Any] | None,
    now: datetime,
) -> ProofCheck:
    """Check the proof of a ``delivered`` scan, consuming a valid one-time code.

    Runs inside the ingestion transaction: a used code and a wrong try are recorded with it.

    Parameters
    ----------
    session
        The session of the ingestion transaction.
    dossier
        The dossier delivered.
    proof
        The scan's ``proof`` object (see the module docstring).
    now
        The server's clock.

    Returns
    -------
    ProofCheck
        Validity, and what to keep of the proof.
    """
    proof = proof or {}
    stored: dict[str, Any] = {}
    is_applicant = proof.get("recipient_is_applicant", True) is not False
    recipient = proof.get("recipient_name")
    if isinstance(recipient, str) and recipient.strip():
        stored["recipient_name"] = recipient.strip()[:200]
    stored["recipient_is_applicant"] = is_applicant
    raw_code = proof.get("code")
    raw_id = proof.get("id_last4")
    failure: tuple[str, str] | None
    if raw_code is not None:
        stored["method"] = "code"
        failure = _check_code(session, dossier, str(raw_code), now)
    elif raw_id is not None:
        stored["method"] = "id_last4"
        failure = _check_id_digits(session, dossier, str(raw_id))
    else:
        stored["method"] = None
        failure = (
            "proof_missing",
            "a 'delivered' scan needs proof of identity: proof.code (the one-time code) or "
            "proof.id_last4 (last 4 digits of the citizen ID)",
        )
    if failure is None and not is_applicant and "recipient_name" not in stored:
        failure = (
            "recipient_name_missing",
            "proof.recipient_name is needed when the recipient is not the applicant",
        )
    stored["valid"] = failure is None
    if failure is None:
        return ProofCheck(reason=None, stored=stored)
    return ProofCheck(reason=failure[1], stored=stored, code=failure[0])


def _check_code(
    session: Session, dossier: Dossier, value: str, now: datetime
) -> tuple[str, str] | None:
    entry = session.exec(
        select(DeliveryCode)
        .where(DeliveryCode.dossier_id == dossier.id)
        .order_by(col(DeliveryCode.id).desc())
        .with_for_update()
    ).first()
    if entry is None:
        return "code_none", "no one-time code was issued for this dossier"
    if entry.used_at is not None:
        return "code_used", "the one-time code was already used"
    if entry.expires_at <= now:
        return "code_expired", "the one-time code has expired; issue a new one"
    if entry.tries >= entry.max_tries:
        return (
            "code_blocked",
            "the one-time code is blocked after too many wrong tries; issue a new one",
        )
    if secret_matches(digits_of(value), entry.salt, entry.code_hash, purpose="code"):
        entry.used_at = now
        session.add(entry)
        return None
    entry.tries += 1
    session.add(entry)
    left = entry.max_tries - entry.tries
    return "code_wrong", f"wrong one-time code ({left} tries left)"


ID_BLOCKED = (
    "id_digits_blocked",
    f"the citizen ID digits were wrong {ID_MAX_TRIES} times for this dossier, so they no longer "
    "count: ask the citizen for the one-time code (staff issue one), or ask staff to allow the "
    "ID digits again after checking the citizen's identity",
)


def _contact_for_update(session: Session, dossier: Dossier) -> CitizenContact | None:
    # Locked (on PostgreSQL) so that concurrent batches count wrong tries one after the other.
    return session.exec(
        select(CitizenContact).where(CitizenContact.dossier_id == dossier.id).with_for_update()
    ).first()


def _check_id_digits(session: Session, dossier: Dossier, value: str) -> tuple[str, str] | None:
    contact = _contact_for_update(session, dossier)
    if contact is None or contact.id_last4_hash is None:
        return (
            "id_not_on_record",
            "no citizen ID is on record for this dossier; use a one-time code",
        )
    if contact.id_wrong_tries >= ID_MAX_TRIES:
        return ID_BLOCKED
    digits = digits_of(value)
    if len(digits) != 4:
        return "id_digits_malformed", "proof.id_last4 must be exactly 4 digits"
    if secret_matches(digits, contact.salt, contact.id_last4_hash, purpose="id_last4"):
        return None
    contact.id_wrong_tries += 1
    session.add(contact)
    session.flush()
    if contact.id_wrong_tries >= ID_MAX_TRIES:
        return ID_BLOCKED
    left = ID_MAX_TRIES - contact.id_wrong_tries
    return (
        "id_digits_wrong",
        f"the citizen ID digits do not match the applicant's ({left} tries left)",
    )


def clear_id_digit_block(
    *, session: Session, code: str, by: str, now: datetime | None = None
) -> dict[str, Any]:
    """Let the citizen ID digits of a dossier be tried again: a staff decision, recorded.

    Staff decide this after checking the citizen's identity another way (at the counter, by a
    call back); who decided and when are kept on the dossier's contact record.

    Parameters
    ----------
    session
        The database session.
    code
        The dossier code.
    by
        The name of the staff user who decided.
    now
        The server's clock; defaults to the current time.

    Returns
    -------
    dict
        ``{"dossier", "id_wrong_tries_cleared", "cleared_by", "cleared_at"}``.

    Raises
    ------
    NotFound
        If there is no such dossier.
    InvalidInput
        If the dossier has no citizen ID on record.
    """
    now = utcnow() if now is None else now
    session.commit()
    with write_lock(session_engine(session)):
        dossier = session.exec(select(Dossier).where(Dossier.code == code)).first()
        if dossier is None:
            msg = "code: no dossier with this code"
            raise NotFound(msg)
        contact = _contact_for_update(session, dossier)
        if contact is None or contact.id_last4_hash is None:
            msg = "code: no citizen ID is on record for this dossier; use a one-time code"
            raise InvalidInput(msg)
        cleared = contact.id_wrong_tries
        contact.id_wrong_tries = 0
        contact.id_cleared_by = by
        contact.id_cleared_at = now
        session.add(contact)
        session.commit()
    return {
        "dossier": code,
        "id_wrong_tries_cleared": cleared,
        "cleared_by": by,
        "cleared_at": now.isoformat(),
    }
