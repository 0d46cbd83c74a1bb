"""buuta's records: dossiers, scans, custody, courier positions and stored plans.

A library over sqlmodel with no web imports; ``api/`` serves it over HTTP. Every data function
takes a keyword-only ``session`` and commits its own writes. Errors are the
:class:`~tracking.errors.TrackingError` family (``InvalidInput``, ``NotFound``, ``Forbidden``),
all :class:`ValueError`, with messages that name the field.

Database: ``make_engine(url)``, ``upgrade(engine)``, ``write_lock(engine)``.
Users: ``create_user(session=, name=, role=) -> (User, token)``,
``user_for_token(session=, token=) -> User | None``.
Plans: ``store_plan(session=, request=, plan=, created_by=, state="published") -> StoredPlan``,
``get_plan(session=, plan_id=)``, ``list_plans(session=, date=)``,
``plan_for_courier(session=, courier_id=, date=)``, ``published_plan(session=, date=)``,
``courier_stops(session=, courier_id=, date=, now=None) -> list[dict]``.
Scans: ``ScanInput.from_json(data, where=)``,
``ingest_scans(session=, events=, actor=, now=None) -> list[ScanResult]``.
Views: ``dossier_view(session=, code=, now=None)``,
``public_track(session=, code=, phone_last4=, now=None)``.
Positions: ``PositionInput.from_json(data, where=)``,
``record_positions(session=, courier_id=, positions=, now=None) -> int``,
``courier_track(session=, courier_id=, date=)``.
Delivery: ``issue_delivery_code(session=, code=, now=None, ttl=CODE_TTL) -> str``.
Exports: ``export_upu(session=, code=)``, ``export_epcis(session=, code=, now=None)``.
"""

from tracking.db import make_engine as make_engine
from tracking.db import session_engine as session_engine
from tracking.db import upgrade as upgrade
from tracking.db import write_lock as write_lock
from tracking.delivery import issue_delivery_code as issue_delivery_code
from tracking.errors import Forbidden as Forbidden
from tracking.errors import InvalidInput as InvalidInput
from tracking.errors import NotFound as NotFound
from tracking.errors import TrackingError as TrackingError
from tracking.export import export_epcis as export_epcis
from tracking.export import export_upu as export_upu
from tracking.lifecycle import Direction as Direction
from tracking.lifecycle import EventType as EventType
from tracking.lifecycle import Role as Role
from tracking.lifecycle import Status as Status
from tracking.lifecycle import apply_event as apply_event
from tracking.lifecycle import derive_status as derive_status
from tracking.models import CitizenContact as CitizenContact
from tracking.models import Courier as Courier
from tracking.models import CourierPosition as CourierPosition
from tracking.models import DeliveryCode as DeliveryCode
from tracking.models import Dossier as Dossier
from tracking.models import ScanEvent as ScanEvent
from tracking.models import Site as Site
from tracking.models import StoredPlan as StoredPlan
from tracking.models import User as User
from tracking.plans import courier_stops as courier_stops
from tracking.plans import get_plan as get_plan
from tracking.plans import list_plans as list_plans
from tracking.plans import plan_for_courier as plan_for_courier
from tracking.plans import published_plan as published_plan
from tracking.plans import store_plan as store_plan
from tracking.positions import PositionInput as PositionInput
from tracking.positions import courier_track as courier_track
from tracking.positions import record_positions as record_positions
from tracking.scans import ScanInput as ScanInput
from tracking.scans import ScanResult as ScanResult
from tracking.scans import ingest_scans as ingest_scans
from tracking.users import create_user as create_user
from tracking.users import parse_role as parse_role
from tracking.users import user_for_token as user_for_token
from tracking.views import dossier_view as dossier_view
from tracking.views import public_track as public_track
