"""``/v1/scans``: batches of scan events from couriers' phones and counters (DESIGN §7)."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from api.batch import list_body_openapi, read_list_body
from api.deps import ScanUser, SessionDep, SettingsDep
from api.schemas import ScanEventIn, ScanResultsOut
from tracking.errors import InvalidInput
from tracking.models import User
from tracking.scans import ScanInput, ingest_scans

router = APIRouter(prefix="/v1/scans", tags=["scans"])


def _scan_input(index: int, event: ScanEventIn) -> ScanInput:
    try:
        return ScanInput(
            event_id=event.event_id,
            dossier=event.dossier,
            type=event.type,  # type: ignore[arg-type]  # checked and converted by ScanInput
            at=event.at,
            site=event.site,
            lat=event.lat,
            lon=event.lon,
            job=event.job,
            proof=event.proof,
            reason=event.reason,
        )
    except InvalidInput as exc:
        msg = f"events[{index}].{exc}"
        raise InvalidInput(msg) from None


@router.post(
    "",
    response_model=None,
    responses={
        200: {"model": ScanResultsOut, "description": "One result per event, in order."},
        413: {"description": "More events than the batch limit, or a body too large."},
        422: {"description": "Malformed JSON or an invalid event; the message names the field."},
    },
    openapi_extra=list_body_openapi(ScanEventIn, "Scan events (at most BUUTA_MAX_BATCH)."),
)
async def post_scans(
    request: Request, session: SessionDep, user: ScanUser, settings: SettingsDep
) -> JSONResponse:
    """Record a batch of scan events and answer one result per event, in order.

    ``stored``: recorded and applied; ``duplicate``: this ``event_id`` was recorded before with
    the same content (the first answer is repeated); ``conflict``: this ``event_id`` was recorded
    with other content (nothing stored); ``flagged``: recorded for audit but it breaks the life
    cycle, so the status did not change (``reason`` says why). The answer comes only after the
    batch is durably committed, so an acknowledged event is never lost. A courier may scan only
    dossiers on its route or in its custody.
    """
    # Counted and validated item by item (api/batch.py): a huge batch is refused at once and
    # no batch holds the event loop while others wait.
    events = await read_list_body(request, ScanEventIn, max_items=settings.max_batch, what="events")
    inputs = [_scan_input(i, e) for i, e in enumerate(events)]
    # A detached copy: ingestion commits first, which would make the session reload the user.
    actor = User(id=user.id, name=user.name, role=user.role, token_hash=user.token_hash)
    # One hop to the thread pool for the whole database work; the answer is built from plain
    # dicts (the phone's hot path: no second validation of what ingestion returned).
    results = await run_in_threadpool(
        ingest_scans, session=session, events=inputs, actor=actor, now=datetime.now(UTC)
    )
    return JSONResponse({"results": [r.as_json() for r in results]})
