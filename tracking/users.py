"""Users of the API and their tokens.

A token is shown once, when the user is created; only its SHA-256 hash is stored. A courier's
user name is its courier id in plan requests, which ties the user to its routes.
"""

from __future__ import annotations

import re

from sqlmodel import Session, select

from tracking.errors import InvalidInput
from tracking.hashing import new_token, token_hash
from tracking.lifecycle import Role
from tracking.models import User, utcnow

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


def parse_role(value: object) -> Role:
    """Return the :class:`Role` named by ``value``.

    Raises
    ------
    InvalidInput
        If ``value`` is not one of ``admin``, ``dispatcher``, ``courier``, ``staff``.
    """
    try:
        return Role(str(value))
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        msg = f"role: unknown role {value!r} (one of {allowed})"
        raise InvalidInput(msg) from None


def create_user(*, session: Session, name: str, role: str | Role) -> tuple[User, str]:
    """Create a user and return it with its new API token (shown only this once).

    Parameters
    ----------
    session
        The database session; the user is committed before returning.
    name
        A unique name: letters, digits, ``.``, ``_``, ``@``, ``-`` (up to 100). For a courier,
        its courier id in plan requests.
    role
        ``admin``, ``dispatcher``, ``courier`` or ``staff``.

    Returns
    -------
    tuple of (User, str)
        The stored user (holding only the token's hash) and the token itself.

    Raises
    ------
    InvalidInput
        If the name is malformed or taken, or the role unknown.
    """
    parsed_role = parse_role(role)
    if not isinstance(name, str) or not _NAME.match(name):
        msg = (
            f"name: {name!r} is not a valid user name (letters, digits, '.', '_', '@', '-'; "
            "at most 100, starting with a letter or digit)"
        )
        raise InvalidInput(msg)
    if session.exec(select(User).where(User.name == name)).first() is not None:
        msg = f"name: a user named {name!r} already exists"
        raise InvalidInput(msg)
    token = new_token()
    user = User(
        name=name, role=parsed_role.value, token_hash=token_hash(token), created_at=utcnow()
    )
    session.add(user)
    session.commit()
    session.refresh(user)
    return user, token


def user_for_token(*, session: Session, token: str) -> User | None:
    """Return the active user whose token this is, or ``None``.

    Parameters
    ----------
    session
        The database session.
    token
        The token as sent by the client (``Authorization: Bearer <token>``).
    """
    if not token or len(token) > 200:
        return None
    user = session.exec(select(User).where(User.token_hash == token_hash(token))).first()
    if user is None or not user.active:
        return None
    return user


def user_role(user: User) -> Role:
    """Return the user's role as a :class:`Role`."""
    return Role(user.role)
