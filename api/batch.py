"""Read a JSON list body item by item: refuse by count first, and never hold the event loop.

FastAPI would parse a whole list body and validate every item before the route runs: 600,000
empty objects (1.8 MB, under the byte limit) took half a minute of the event loop, during which
no other request (not even ``/healthz``) was answered. :func:`read_list_body` instead

1. decodes one item at a time (the standard library's ``JSONDecoder.raw_decode``), so a body
   with more than ``max_items`` items is refused (413) as soon as the item after the limit
   starts, without reading the rest;
2. validates item by item with the route's pydantic model, keeping at most
   :data:`MAX_ERRORS` errors;
3. gives the event loop back every :data:`ITEMS_PER_SLICE` items, so other requests are served
   between slices (the interpreter lock makes a thread no better for this pure-CPU work).

A small body (:data:`SMALL_BODY_BYTES`) that is valid takes a quicker path: one decode and one
validation of the whole list, bounded in time by its size.

Errors keep FastAPI's shapes: malformed JSON and invalid items raise
:class:`~fastapi.exceptions.RequestValidationError` (422, ``events[3].at``), too many items
:class:`~api.errors.PayloadTooLarge` (413).
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import anyio
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request

from api.errors import PayloadTooLarge

Model = TypeVar("Model", bound=BaseModel)

ITEMS_PER_SLICE = 50
"""Items decoded or validated between two returns to the event loop."""

MAX_ERRORS = 100
"""Validation errors kept for the answer; the message says how many more there were."""

SMALL_BODY_BYTES = 128_000
"""Bodies up to this size (a full batch of 500 usual events is about 80 kB) are decoded and
validated in one call when they are valid: a few milliseconds at most, and the fastest path."""

_SPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()


def _malformed(reason: str, position: int) -> RequestValidationError:
    error = {
        "type": "json_invalid",
        "loc": ("body", position),
        "msg": "JSON decode error",
        "input": {},
        "ctx": {"error": reason},
    }
    return RequestValidationError([error])


def _not_a_list() -> RequestValidationError:
    error = {"type": "list_type", "loc": ("body",), "msg": "Input should be a valid list"}
    return RequestValidationError([error])


def _decode(text: str, pos: int) -> tuple[Any, int]:
    try:
        return _DECODER.raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        raise _malformed(exc.msg, exc.pos) from None
    except (ValueError, RecursionError):  # a number of 5,000 digits, arrays nested too deep
        raise _malformed("a value is too large or nested too deeply", pos) from None


async def decode_list(body: bytes, *, max_items: int, what: str) -> list[Any]:
    """Decode a JSON array from ``body``, refusing it once it has more than ``max_items`` items.

    Parameters
    ----------
    body
        The request body (UTF-8 JSON).
    max_items
        Most items accepted.
    what
        What the items are, for the message (``events``).

    Raises
    ------
    PayloadTooLarge
        As soon as item ``max_items + 1`` begins.
    RequestValidationError
        If the body is not UTF-8 JSON, or not an array.
    """
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _malformed("the body is not UTF-8", exc.start) from None
    pos = _skip(text, 0)
    if pos == len(text):
        raise _malformed("Expecting value", pos)
    if text[pos] != "[":
        _decode(text, pos)  # a malformed body says so before "not a list"
        raise _not_a_list()
    items: list[Any] = []
    pos = _skip(text, pos + 1)
    if text.startswith("]", pos):
        return _end(text, pos + 1, items)
    while True:
        if len(items) == max_items:
            msg = f"a batch may hold at most {max_items} {what}; this one has more"
            raise PayloadTooLarge(msg)
        item, pos = _decode(text, pos)
        items.append(item)
        if len(items) % ITEMS_PER_SLICE == 0:
            await anyio.sleep(0)
        pos = _skip(text, pos)
        if text.startswith("]", pos):
            return _end(text, pos + 1, items)
        if not text.startswith(",", pos):
            raise _malformed("Expecting ',' delimiter", pos)
        pos = _skip(text, pos + 1)


def _skip(text: str, pos: int) -> int:
    """Return the position after the JSON whitespace starting at ``pos``."""
    match = _SPACE.match(text, pos)
    return match.end() if match else pos


def _end(text: str, pos: int, items: list[Any]) -> list[Any]:
    pos = _skip(text, pos)
    if pos != len(text):
        raise _malformed("Extra data", pos)
    return items


async def validate_items(items: list[Any], model: type[Model]) -> list[Model]:
    """Validate each item with ``model``, giving the event loop back between slices.

    Raises
    ------
    RequestValidationError
        Listing the first :data:`MAX_ERRORS` errors (locations ``("body", index, field)``).
    """
    valid: list[Model] = []
    errors: list[dict[str, Any]] = []
    more = 0
    for index, item in enumerate(items):
        if index and index % ITEMS_PER_SLICE == 0:
            await anyio.sleep(0)
        try:
            valid.append(model.model_validate(item))
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                if len(errors) < MAX_ERRORS:
                    errors.append({**error, "loc": ("body", index, *error["loc"])})
                else:
                    more += 1
    if errors:
        if more:
            errors.append({"type": "too_many_errors", "loc": ("body",), "msg": f"{more} more"})
        raise RequestValidationError(errors)
    return valid


async def read_list_body(
    request: Request, model: type[Model], *, max_items: int, what: str
) -> list[Model]:
    """Read, count and validate a JSON list body (the module docstring says how).

    Parameters
    ----------
    request
        The request; its body was already limited in bytes by :class:`api.limits.BodySizeLimit`.
    model
        The pydantic model of one item.
    max_items
        Most items accepted (``BUUTA_MAX_BATCH``).
    what
        What the items are, for the 413 message (``events``, ``positions``).
    """
    body = await request.body()
    if len(body) <= SMALL_BODY_BYTES:  # a phone's usual batch: one decode, one validation
        quick = _quick(body, model, max_items)
        if quick is not None:
            return quick
    items = await decode_list(body, max_items=max_items, what=what)
    return await validate_items(items, model)


def _quick(body: bytes, model: type[Model], max_items: int) -> list[Model] | None:
    """Decode and validate a small valid body in one go; ``None`` sends it the slow way."""
    try:
        items = json.loads(body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(items, list) or len(items) > max_items:
        return None
    try:
        valid: list[Model] = _adapter(model).validate_python(items)
    except ValidationError:
        return None  # validate_items lists the errors, at most MAX_ERRORS of them
    return valid


_ADAPTERS: dict[type[BaseModel], TypeAdapter[Any]] = {}


def _adapter(model: type[BaseModel]) -> TypeAdapter[Any]:
    if model not in _ADAPTERS:
        _ADAPTERS[model] = TypeAdapter(list[model])  # type: ignore[valid-type]
    return _ADAPTERS[model]


LIST_ITEM_SCHEMAS: dict[str, dict[str, Any]] = {}
"""The item schemas of the list bodies, for :func:`document_list_bodies` to publish."""


def list_body_openapi(model: type[BaseModel], description: str) -> dict[str, Any]:
    """Return the ``openapi_extra`` documenting a JSON list body of ``model`` items.

    The items refer to ``#/components/schemas/<model>``, as FastAPI's own bodies do, so that
    clients generated from ``/openapi.json`` resolve them; :func:`document_list_bodies` puts
    those schemas into the document's components.
    """
    schema = TypeAdapter(list[model]).json_schema(  # type: ignore[valid-type]
        ref_template="#/components/schemas/{model}"
    )
    LIST_ITEM_SCHEMAS.update(schema.pop("$defs", {}))
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": schema}},
        }
    }


def document_list_bodies(app: FastAPI) -> None:
    """Make ``app``'s OpenAPI document hold the item schemas of the list bodies."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        spec = generate()
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in LIST_ITEM_SCHEMAS.items():
            schemas.setdefault(name, schema)
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
