"""Limits that protect the service: the public lookup rate, error paths, and logs."""

from __future__ import annotations

from pathlib import Path

import httpx

from api.errors import field_path
from tests.support.server import serve, sqlite_url


def test_field_path_spells_locations_as_fields() -> None:
    """pydantic locations become the paths a user reads in the message."""
    assert field_path(("body", "jobs", 3, "window")) == "jobs[3].window"
    assert field_path(("body", 0, "at"), list_name="events") == "events[0].at"
    assert field_path(("query", "date")) == "query.date"
    assert field_path(("body",)) == "body"


def test_public_lookups_are_rate_limited_per_client(tmp_path: Path) -> None:
    """With 3 lookups a minute allowed, the 4th from the same address answers 429 with a
    Retry-After header, whether the earlier lookups found a dossier or not."""
    url = sqlite_url(tmp_path)
    with serve(url, env={"BUUTA_TRACK_LOOKUPS_PER_MINUTE": "3"}) as server:
        for _ in range(3):
            answer = httpx.get(
                f"{server.base_url}/v1/track/H00-0000", params={"phone_last4": "1234"}
            )
            assert answer.status_code == 404
        refused = httpx.get(f"{server.base_url}/v1/track/H00-0000", params={"phone_last4": "1234"})
        assert refused.status_code == 429
        assert refused.json()["error"] == "rate_limited"
        assert int(refused.headers["retry-after"]) > 0
        # other routes are not limited
        assert httpx.get(f"{server.base_url}/healthz").status_code == 200


def test_user_cache_keeps_known_tokens_for_a_while_by_hash() -> None:
    """A user put in the cache is found by its token until the TTL passes; the cache keeps
    a detached copy and never the token itself."""
    from api.deps import UserCache
    from tracking.models import User

    now = [1000.0]  # a clock the test moves: expiry does not depend on how fast it runs
    cache = UserCache(ttl_s=0.2, clock=lambda: now[0])
    user = User(id=7, name="c1", role="courier", token_hash="h", active=True)
    copy = cache.put("secret-token", user)
    assert copy is not user
    assert (copy.id, copy.name, copy.role) == (7, "c1", "courier")
    found = cache.get("secret-token")
    assert found is not None and found.name == "c1"
    assert cache.get("other-token") is None
    assert "secret-token" not in repr(cache.__dict__)
    now[0] += 0.19
    assert cache.get("secret-token") is not None
    now[0] += 0.02
    assert cache.get("secret-token") is None
    off = UserCache(ttl_s=0)  # BUUTA_AUTH_CACHE_S=0: every request asks the database
    off.put("secret-token", user)
    assert off.get("secret-token") is None
