"""Domain errors of buuta's records, mapped to HTTP in one place (``api/errors.py``).

Every error is a :class:`ValueError` whose message is a plain sentence that names the field or
value at fault (``events[2].site: unknown site 'po-xyz'``) and never contains personal data.
"""

from __future__ import annotations


class TrackingError(ValueError):
    """Base class of the errors raised by :mod:`tracking`."""


class InvalidInput(TrackingError):  # noqa: N818 (names agreed with api/errors.py)
    """The input is malformed or refers to something that does not exist in it (HTTP 422)."""


class NotFound(TrackingError):  # noqa: N818
    """The object named does not exist (HTTP 404)."""


class Forbidden(TrackingError):  # noqa: N818
    """The user may not see or change the object named (HTTP 403)."""


class Conflict(TrackingError):  # noqa: N818
    """The object is not in a state that allows the change asked for (HTTP 409)."""
