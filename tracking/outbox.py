"""Messages to citizens: an outbox filled from the scans, sent through a pluggable gateway.

A citizen hears about the steps they care about, in Vietnamese:

``result_ready``
    the result is ready at the agency and will be brought home;
``on_the_way``
    a courier is on the way with the result, in the booked time window;
``delivered``
    the result was handed over;
``delivery_failed``
    the attempt failed, and the post office will call to book a new time.

:func:`collect_messages` turns counted scans (not void, not flagged) of those types into rows of
``outbox_messages``, one per scan event and kind (``key = "<event_id>:<kind>"``, unique), so a
scan resent by a phone, or collected twice, never texts anyone twice. A dossier whose citizen
opted out (:func:`opt_out`), or gave no phone, gets nothing. The text names the dossier by its
code only: never a name, an ID number or an address (the courier's own words of a failure are
not repeated either, since they may hold an address).

:func:`send_due` sends the messages that are due through a :class:`Sender` (the
:class:`HttpGateway` posts JSON to an SMS or Zalo gateway, with the message key as
``Idempotency-Key``), several at a time, and retries a temporary failure (timeout, 429, 5xx)
with exponential back-off, :data:`MAX_ATTEMPTS` times at most; a refusal (other 4xx) is final.
Rows being sent are leased (``next_attempt_at`` moved :data:`LEASE` ahead, rows locked with
``SKIP LOCKED`` on PostgreSQL), so several senders can share one outbox.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, col, select

from routing.clock import LOCAL_TZ
from tracking.models import (
    CitizenContact,
    Dossier,
    MessageOptOut,
    OutboxMessage,
    ScanEvent,
    StoredPlan,
)

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "HttpGateway",
    "SendError",
    "Sender",
    "collect_messages",
    "message_text",
    "opt_out",
    "send_due",
]

MAX_ATTEMPTS = 6
"""A message is tried at most this many times (then it is ``failed``)."""
FIRST_RETRY = timedelta(seconds=30)
"""The first retry waits this long; each later one twice as long as the one before."""
LEASE = timedelta(minutes=2)
"""A message being sent is hidden from other senders this long."""
LOOK_BACK = timedelta(days=2)
"""Scans recorded longer ago than this are not turned into messages (no stale news)."""

KINDS = {
    "result_ready": "result_ready",
    "out_for_delivery": "on_the_way",
    "delivered": "delivered",
    "delivery_failed": "delivery_failed",
}
"""Scan type → message kind."""

TEXTS = {
    "result_ready": (
        "Buu dien Ca Mau: ket qua ho so {code} da san sang. Buu ta se mang den nha quy vi "
        "theo lich hen."
    ),
    "on_the_way": (
        "Buu dien Ca Mau: buu ta dang mang ket qua ho so {code} den nha quy vi, du kien "
        "trong khung gio {window} hom nay."
    ),
    "delivered": "Buu dien Ca Mau: ket qua ho so {code} da duoc trao luc {time}. Cam on quy vi.",
    "delivery_failed": (
        "Buu dien Ca Mau: chua trao duoc ket qua ho so {code}. Buu dien se goi lai de hen "
        "gio phat moi."
    ),
}
"""Each kind's text, in Vietnamese without diacritics (one GSM-7 SMS, readable on any phone).
Only the dossier code, a time window or a time are filled in."""


def message_text(kind: str, *, code: str, at: datetime, window: str | None = None) -> str:
    """The text of a message of ``kind`` about dossier ``code`` (a scan at ``at``)."""
    local = at.astimezone(LOCAL_TZ)
    return TEXTS[kind].format(code=code, time=local.strftime("%H:%M"), window=window or "da hen")


class SendError(Exception):
    """A message could not be sent; ``retry`` says whether trying again may help."""

    def __init__(self, message: str, *, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


class Sender(Protocol):
    """Sends one message (an SMS or Zalo gateway, or a test double)."""

    def send(self, *, to: str, text: str, key: str) -> None:
        """Send ``text`` to phone ``to``; ``key`` is the same on every retry of a message.

        Raises
        ------
        SendError
            If it was not sent (``retry`` true for a temporary failure).
        """
        ...


@dataclass(frozen=True)
class HttpGateway:
    """An HTTP gateway: ``POST url`` with ``{"to", "text", "id"}``, ``Idempotency-Key: id``.

    Parameters
    ----------
    url
        The gateway's endpoint.
    token
        Sent as ``Authorization: Bearer`` when given.
    timeout_s
        How long to wait for the gateway's answer.
    """

    url: str
    token: str | None = None
    timeout_s: float = 10.0

    def send(self, *, to: str, text: str, key: str) -> None:
        """Post one message; 2xx is sent, 429/5xx/network errors retry, other 4xx are final."""
        body = json.dumps({"to": to, "text": text, "id": key}).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            exc.close()  # the error holds the answer's socket
            retry = exc.code == 429 or exc.code >= 500
            raise SendError(f"gateway answered {exc.code}", retry=retry) from None
        except (OSError, urllib.error.URLError) as exc:
            raise SendError(f"gateway unreachable: {exc}", retry=True) from None


def _windows(session: Session, plan_ids: Iterable[str]) -> dict[tuple[str, str], str]:
    """(plan id, job id) → the booked window ``HH:MM–HH:MM`` of each job of those plans."""
    out: dict[tuple[str, str], str] = {}
    for plan_id in set(plan_ids):
        stored = session.get(StoredPlan, plan_id)
        for job in (stored.request_json.get("jobs") or []) if stored else []:
            window = job.get("window") if isinstance(job, dict) else None
            if isinstance(window, list) and len(window) == 2:
                out[(plan_id, str(job.get("id")))] = f"{str(window[0])[-5:]}-{str(window[1])[-5:]}"
    return out


def collect_messages(*, session: Session, now: datetime) -> int:
    """Queue a message for every counted scan a citizen cares about that has none yet.

    Parameters
    ----------
    session
        The database session (committed before returning).
    now
        The current time (scans recorded more than :data:`LOOK_BACK` before it are skipped).

    Returns
    -------
    int
        How many messages were queued.
    """
    stmt = (
        sa.select(
            col(ScanEvent.event_id),
            col(ScanEvent.type),
            col(ScanEvent.device_at),
            col(Dossier.id),
            col(Dossier.code),
            col(Dossier.plan_id),
            col(Dossier.job_id),
            col(CitizenContact.phone),
        )
        .select_from(ScanEvent)
        .join(Dossier, col(Dossier.id) == col(ScanEvent.dossier_id))
        .join(CitizenContact, col(CitizenContact.dossier_id) == col(Dossier.id))
        .outerjoin(MessageOptOut, col(MessageOptOut.dossier_id) == col(Dossier.id))
        .where(
            col(ScanEvent.type).in_(list(KINDS)),
            col(ScanEvent.void_reason).is_(None),
            col(ScanEvent.flagged).is_(False),
            col(ScanEvent.recorded_at) >= now - LOOK_BACK,
            col(CitizenContact.phone).is_not(None),
            col(MessageOptOut.dossier_id).is_(None),
        )
    )
    found = list(session.execute(stmt))
    keys = [f"{event_id}:{KINDS[kind]}" for event_id, kind, *_ in found]
    known = _known_keys(session, keys)
    windows = _windows(session, [r[5] for r in found if r[5] and KINDS[r[1]] == "on_the_way"])
    queued = 0
    for (_event, kind, at, dossier_id, code, plan_id, job_id, phone), key in zip(
        found, keys, strict=True
    ):
        if key in known:
            continue
        known.add(key)
        text = message_text(
            KINDS[kind], code=code, at=at, window=windows.get((plan_id or "", job_id or ""))
        )
        session.add(
            OutboxMessage(key=key, dossier_id=dossier_id, kind=KINDS[kind], phone=phone,
                          text=text, status="pending", next_attempt_at=now, created_at=now)
        )  # fmt: skip
        queued += 1
    session.commit()
    return queued


def _known_keys(session: Session, keys: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for i in range(0, len(keys), 900):
        stmt = select(OutboxMessage.key).where(col(OutboxMessage.key).in_(keys[i : i + 900]))
        known.update(session.exec(stmt))
    return known


def opt_out(*, session: Session, dossier_id: int, now: datetime) -> None:
    """Send no more messages about a dossier; the ones still waiting are cancelled."""
    if session.get(MessageOptOut, dossier_id) is None:
        session.add(MessageOptOut(dossier_id=dossier_id, at=now))
    session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.dossier_id) == dossier_id, col(OutboxMessage.status) == "pending")
        .values(status="cancelled")
    )
    session.commit()


def _claim(session: Session, now: datetime, limit: int) -> list[OutboxMessage]:
    """Lease up to ``limit`` due messages to this sender (committed, so others skip them)."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.status == "pending", col(OutboxMessage.next_attempt_at) <= now)
        .order_by(col(OutboxMessage.next_attempt_at), col(OutboxMessage.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.exec(stmt))
    for row in rows:
        row.next_attempt_at = now + LEASE
        row.attempts += 1
        session.add(row)
    session.commit()
    return rows


def _attempt(sender: Sender, row: Mapping[str, Any]) -> SendError | None:
    try:
        sender.send(to=row["phone"], text=row["text"], key=row["key"])
    except SendError as exc:
        return exc
    return None


def send_due(
    *, session: Session, sender: Sender, now: datetime, limit: int = 200, workers: int = 8
) -> dict[str, int]:
    """Send the messages that are due, ``workers`` at a time, and record each outcome.

    Parameters
    ----------
    session
        The database session.
    sender
        Where messages go (:class:`HttpGateway`).
    now
        The current time.
    limit
        Most messages taken in this call.
    workers
        Messages sent at once (a slow gateway is waited for in parallel).

    Returns
    -------
    dict
        ``{"sent": n, "retry": n, "failed": n}``.
    """
    rows = _claim(session, now, limit)
    plain = [{"id": r.id, "phone": r.phone, "text": r.text, "key": r.key} for r in rows]
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        outcomes = list(pool.map(lambda r: _attempt(sender, r), plain))
    counts = {"sent": 0, "retry": 0, "failed": 0}
    for row, error in zip(rows, outcomes, strict=True):
        if error is None:
            row.status, row.sent_at, row.last_error = "sent", now, None
        elif error.retry and row.attempts < MAX_ATTEMPTS:
            row.next_attempt_at = now + FIRST_RETRY * (2 ** (row.attempts - 1))
            row.status, row.last_error = "pending", str(error)[:300]
        else:
            row.status, row.last_error = "failed", str(error)[:300]
        counts[
            "sent" if row.status == "sent" else "retry" if row.status == "pending" else "failed"
        ] += 1
        session.add(row)
    session.commit()
    return counts
