"""The one configuration object of buuta's service and command line.

Only ``api/`` reads the environment. Every setting can be given as an environment variable with
the prefix ``BUUTA_`` (``BUUTA_DATABASE_URL``, ``BUUTA_MAX_BATCH`` ...); ``geo``, ``routing`` and
``tracking`` receive what they need as explicit arguments.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_WINDOW = r"\s*([01]\d|2[0-3]):[0-5]\d\s*-\s*([01]\d|2[0-4]):[0-5]\d\s*"
_SLOT_WINDOWS = re.compile(rf"{_WINDOW}(,{_WINDOW})*")
DEFAULT_DATA_DIR = Path("var")
"""Where buuta keeps its SQLite file when no database URL is given (relative to the cwd)."""


class Settings(BaseSettings):
    """Settings of the HTTP service and the ``buuta`` command, read from ``BUUTA_*`` variables.

    Parameters
    ----------
    database_url
        SQLAlchemy URL of the records. Default: a SQLite file ``buuta.sqlite`` in ``data_dir``.
        PostgreSQL in production: ``postgresql+psycopg://user:password@host/buuta``.
    data_dir
        Directory for the default SQLite file; created when needed.
    travel
        Travel-time provider for planning: ``greatcircle`` (offline default) or ``osrm``.
    osrm_url
        Base URL of an OSRM-compatible ``table`` service, required when ``travel`` is ``osrm``.
    geocoder
        ``gazetteer`` (offline, embedded Cà Mau units) or ``nominatim`` when the network allows.
    max_body_bytes
        Largest request body accepted, in bytes; larger bodies are answered 413.
    max_batch
        Most scan events (or positions) accepted in one request; more are answered 413.
    solve_time_limit_s
        Solver time limit when a plan request names none, in seconds.
    solve_time_limit_cap_s
        Upper bound on any requested solver time limit, in seconds.
    solve_grace_s
        Hard wall-clock margin beyond the time limit after which a solve is killed, in seconds.
    solver_workers
        Number of solver processes (each solve runs in one, apart from the web server).
    district_workers
        Processes one solve may use for a large day's districts (0: one per idle core, by the
        load average); a plan request's ``options.workers`` may ask for fewer, never more (with
        0 here, never more than the machine's cores).
    track_lookups_per_minute
        Public tracking lookups allowed per client address per minute; more are answered 429.
        Counted in the database, so several API processes share the count.
    track_failures_per_code
        Lookups of one dossier code with wrong phone digits allowed per
        ``track_code_window_s``; past it the code is not looked up (429) until the window
        passes, whichever address asks.
    track_code_window_s
        The window of ``track_failures_per_code``, in seconds.
    trusted_proxies
        Comma-separated addresses or networks of reverse proxies whose ``X-Forwarded-For`` is
        believed (``10.0.0.5,10.1.0.0/16``). Empty by default: the connection's peer is the
        client, whatever the header says.
    allowed_origins
        Comma-separated origins (``https://buuta.example.vn``) besides the server's own from
        which pages may post with the session cookie (DESIGN §10); see ``api/origin.py``.
    solve_time_limit_dispatcher_cap_s
        Upper bound on a dispatcher's requested solver time limit, in seconds, so that one
        long solve cannot hold the solver for long; administrators have
        ``solve_time_limit_cap_s``.
    auth_cache_s
        How long a token seen once is answered from memory, in seconds (0: always ask the
        database); a user made inactive keeps access for at most this long.
    slot_windows
        The windows the hotline offers citizens (``GET /v1/slots``), comma-separated
        ``HH:MM-HH:MM`` in Vietnam's time.
    solver_queue
        Solve in ``buuta worker`` processes (on any machine) fed by a task queue in the
        PostgreSQL database, instead of the server's local solver processes. Needs PostgreSQL.
    """

    model_config = SettingsConfigDict(env_prefix="BUUTA_", extra="ignore")

    database_url: str = ""
    data_dir: Path = DEFAULT_DATA_DIR
    travel: Literal["greatcircle", "osrm"] = "greatcircle"
    osrm_url: str | None = None
    geocoder: Literal["gazetteer", "nominatim"] = "gazetteer"
    max_body_bytes: int = Field(default=2_000_000, ge=1_024)
    max_batch: int = Field(default=500, ge=1)
    solve_time_limit_s: float = Field(default=30.0, gt=0)
    solve_time_limit_cap_s: float = Field(default=300.0, gt=0)
    solve_grace_s: float = Field(default=20.0, ge=0)
    solver_workers: int = Field(default=1, ge=1, le=16)
    district_workers: int = Field(default=0, ge=0, le=64)
    track_lookups_per_minute: int = Field(default=20, ge=1)
    track_failures_per_code: int = Field(default=10, ge=1)
    track_code_window_s: int = Field(default=3600, ge=1)
    trusted_proxies: str = ""
    allowed_origins: str = ""
    solve_time_limit_dispatcher_cap_s: float = Field(default=60.0, gt=0)
    auth_cache_s: float = Field(default=30.0, ge=0)
    solver_queue: bool = False
    slot_windows: str = "08:00-10:00,10:00-12:00,13:00-15:00,15:00-17:00"

    @field_validator("slot_windows")
    @classmethod
    def _slot_windows_parse(cls, value: str) -> str:
        # The shape only (importing the optimizer here would slow every command down);
        # routing.insertion.parse_windows reads the times when the slots are asked for.
        if not _SLOT_WINDOWS.fullmatch(value.strip()):
            msg = "BUUTA_SLOT_WINDOWS must list windows as HH:MM-HH:MM, comma-separated"
            raise ValueError(msg)
        return value

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            msg = (
                "BUUTA_DATABASE_URL must be a sqlite:/// or postgresql+psycopg:// URL, "
                f"got {value!r}"
            )
            raise ValueError(msg)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        for entry in filter(None, (part.strip() for part in value.split(","))):
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                msg = "BUUTA_TRUSTED_PROXIES must list IP addresses or networks, comma-separated"
                raise ValueError(msg) from None
        return value

    def proxy_list(self) -> list[str]:
        """Return ``trusted_proxies`` as a list of addresses or networks."""
        return [part.strip() for part in self.trusted_proxies.split(",") if part.strip()]

    def origin_list(self) -> list[str]:
        """Return ``allowed_origins`` as a list, without trailing slashes."""
        return [p.strip().rstrip("/") for p in self.allowed_origins.split(",") if p.strip()]

    @model_validator(mode="after")
    def _osrm_needs_url(self) -> Settings:
        if self.travel == "osrm" and not self.osrm_url:
            msg = "BUUTA_TRAVEL=osrm needs BUUTA_OSRM_URL (the base URL of the table service)"
            raise ValueError(msg)
        return self

    @model_validator(mode="after")
    def _queue_needs_postgres(self) -> Settings:
        if self.solver_queue and not self.database_url.startswith("postgresql"):
            msg = "BUUTA_SOLVER_QUEUE=true needs a PostgreSQL BUUTA_DATABASE_URL"
            raise ValueError(msg)
        return self

    def resolved_database_url(self) -> str:
        """Return the database URL, creating the data directory for the default SQLite file.

        Returns
        -------
        str
            ``database_url`` when set, else ``sqlite:///<data_dir>/buuta.sqlite``.
        """
        if self.database_url:
            return self.database_url
        self.data_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.data_dir / 'buuta.sqlite'}"
