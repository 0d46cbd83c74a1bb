"""Dev tooling shared by the tests and the benchmarks, importable without pytest.

- :mod:`harness.server`: the real buuta HTTP service in a subprocess, users and API tokens;
- :mod:`harness.postgres`: a throw-away PostgreSQL server and fresh databases on it;
- :mod:`harness.fleet`: a simulated fleet of offline phones and the truth to check it against;
- :mod:`harness.api_day`, :mod:`harness.days`: small hand-made days and helpers to build scans;
- :mod:`harness.browser`: Debian's headless Chromium and its flags;
- :mod:`harness.receiver`: a local HTTP gateway that receives the messages to citizens.

Not part of the wheel (``pyproject.toml`` ships geo, routing, tracking and api); it is imported
from the repository root, as the tests are.
"""
