"""The standards buuta's exports claim to follow, as files kept in the repository, and the
validators the tests check the exports with.

- ``gs1-epcis/EPCIS-JSON-Schema.json``: GS1's EPCIS 2.0 JSON Schema, unchanged (its
  ``PROVENANCE.md`` says where from). :func:`epcis_validator` builds a validator of the JSON
  Schema draft the file declares (draft-07), with a format checker, so ``uri`` and
  ``date-time`` are checked too (``jsonschema[format-nongpl]`` brings the checkers).
- ``upu/event-codes.csv``: the UPU EMSEVT V3 event codes buuta's UPU-style export uses, with
  their names (``upu/PROVENANCE.md``). :func:`upu_validator` checks the export's shape and that
  every event carries one of these codes under its own name.
"""

from __future__ import annotations

import csv
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, validators
from jsonschema.protocols import Validator

from tracking import EventType

STANDARDS = Path(__file__).resolve().parent
EPCIS_SCHEMA = STANDARDS / "gs1-epcis" / "EPCIS-JSON-Schema.json"
EPCIS_SCHEMA_SHA256 = "ed3228d7867198b4a5be9748fe77f473457c6ed98224fab28a950b4ce634a041"
"""The hash of GS1's file at the commit PROVENANCE.md names."""
SHARED_EPCIS_SCHEMA = STANDARDS.parents[1] / ".." / "shared" / "standards" / "gs1-epcis"
UPU_CODES = STANDARDS / "upu" / "event-codes.csv"


@cache
def epcis_validator() -> Validator:
    """Return a validator of GS1's EPCIS 2.0 JSON Schema, for the draft the schema declares.

    Raises
    ------
    jsonschema.exceptions.SchemaError
        If the file is not a valid schema of its own draft.
    """
    schema = json.loads(EPCIS_SCHEMA.read_text(encoding="utf-8"))
    cls = validators.validator_for(schema)  # "$schema": draft-07 → Draft7Validator
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@cache
def upu_codes() -> dict[str, str]:
    """Return ``{code: name}`` of the UPU event codes in ``upu/event-codes.csv``."""
    with UPU_CODES.open(encoding="utf-8", newline="") as handle:
        return {row["code"]: row["name"] for row in csv.DictReader(handle)}


def _upu_schema() -> dict[str, Any]:
    """The shape of buuta's UPU-style export (``tracking.export.export_upu``), with each
    event's code tied to its UPU name and a reason required on EMH."""
    by_code = [
        {
            "if": {"properties": {"code": {"const": code}}},
            "then": {"properties": {"description": {"const": name}}},
        }
        for code, name in upu_codes().items()
    ]
    event = {
        "type": "object",
        "required": ["code", "description", "buuta_event", "at", "office"],
        "additionalProperties": False,
        "properties": {
            "code": {"enum": sorted(upu_codes())},
            "description": {"type": "string"},
            "buuta_event": {"enum": [e.value for e in EventType]},
            "at": {"type": "string", "format": "date-time", "pattern": r"\+07:00$"},
            "office": {"type": ["string", "null"], "minLength": 1},
            "reason": {"type": "string", "minLength": 1},
        },
        "allOf": [
            *by_code,
            {"if": {"properties": {"code": {"const": "EMH"}}}, "then": {"required": ["reason"]}},
        ],
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "required": ["item", "direction", "events"],
        "additionalProperties": False,
        "properties": {
            "item": {"type": "string", "minLength": 1},
            "direction": {"enum": ["pickup", "return"]},
            "events": {"type": "array", "items": event},
        },
    }


@cache
def upu_validator() -> Validator:
    """Return a validator of buuta's UPU-style export against the UPU codes it claims."""
    schema = _upu_schema()
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def problems(validator: Validator, document: Any) -> list[str]:
    """Return every error ``validator`` finds in ``document``, as ``path: message`` lines."""
    return [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(document)'}: {error.message}"
        for error in sorted(
            validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path]
        )
    ]
