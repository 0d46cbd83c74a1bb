"""Importing a hotline's spreadsheet into the request book over loopback HTTP (target: 5,000
rows under 10 s).

Starts a real ``buuta serve`` on a fresh SQLite file (or, with ``--database postgres``, on a
throw-away PostgreSQL server), then posts a generated CSV of ``--rows`` requests in Cà Mau to
``POST /v1/requests/import`` as a dispatcher, ``--runs`` times, each for a new day so every
row is created. A fifth of the rows are placed by address (the offline gazetteer), the rest
by ``lat``/``lon``; every row has a citizen with a name, a phone and an ID number (whose two
salted hashes are the costliest part of a row). After each run the same file is imported
again, which answers every row ``unchanged``.

Run from the repository root::

    .venv/bin/python benchmarks/import_requests.py                 # 5,000 rows, 3 runs
    .venv/bin/python benchmarks/import_requests.py --rows 1000 --runs 5 --database postgres

It prints each run, then the median of the runs, after a line stating the conditions (cores,
the load average before the run, Python).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from harness.postgres import fresh_database, run_postgres_server  # noqa: E402
from harness.server import RunningServer, create_tokens, sqlite_url  # noqa: E402

HEADER = ["Mã yêu cầu", "Loại", "Mã hồ sơ", "Ngày", "Từ giờ", "Đến giờ", "Địa chỉ", "Vĩ độ",
          "Kinh độ", "Điểm bàn giao", "Nơi nhận hồ sơ", "Nơi lấy kết quả", "Giờ có kết quả",
          "Hạn trả", "Họ tên", "Số điện thoại", "Số CCCD", "Thủ tục"]  # fmt: skip
ADDRESSES = [
    "Ấp 3, xã Khánh Bình Tây, huyện Trần Văn Thời, Cà Mau",
    "xã Khánh Bình, huyện Trần Văn Thời",
    "phường 5, thành phố Cà Mau",
    "phường 6, thành phố Cà Mau",
]
"""Addresses the offline gazetteer places (at their commune or ward)."""


def make_csv(rows: int, day: str, seed: int) -> bytes:
    """A hotline's CSV (UTF-8 with BOM, Vietnamese headers) of ``rows`` requests for ``day``."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for i in range(rows):
        pickup = rng.random() < 0.6
        by_address = rng.random() < 0.2
        start = rng.randrange(7, 15)
        writer.writerow([
            f"{day}-{i:05d}", "nhận" if pickup else "trả", f"H12.22-{day[2:4]}{i:06d}", day,
            f"{start:02d}:00", f"{start + 2:02d}:00",
            rng.choice(ADDRESSES) if by_address else "",
            "" if by_address else round(rng.uniform(8.8, 9.4), 5),
            "" if by_address else round(rng.uniform(104.8, 105.3), 5),
            "po-tvt" if pickup else "", "centre" if pickup else "",
            "" if pickup else "po-tvt", "" if pickup else "10:50",
            "" if pickup else day, f"Công dân {i}", f"09{rng.randrange(10**8):08d}",
            f"0960{rng.randrange(10**8):08d}", "Đăng ký khai sinh",
        ])  # fmt: skip
    return ("\ufeff" + out.getvalue()).encode("utf-8")


@contextmanager
def database(kind: str, stack: ExitStack, folder: Path) -> Iterator[str]:
    """A fresh database URL of ``kind`` (``sqlite`` or ``postgres``)."""
    if kind == "sqlite":
        yield sqlite_url(folder)
        return
    server = stack.enter_context(run_postgres_server())
    yield fresh_database(server, "import_bench")


def run(args: argparse.Namespace) -> list[tuple[float, float]]:
    """Import the file ``args.runs`` times; return (seconds to create, seconds unchanged)."""
    timings: list[tuple[float, float]] = []
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        url = stack.enter_context(database(args.database, stack, Path(tmp)))
        server = RunningServer(url, log_path=Path(tmp) / "server.log")
        server.start()
        stack.callback(server.stop)
        token = create_tokens(url, {"disp": "dispatcher"})["disp"]
        client = stack.enter_context(httpx.Client(timeout=600))
        headers = {"Authorization": f"Bearer {token}"}
        for n in range(args.runs):
            day = (date.today() + timedelta(days=n + 1)).isoformat()
            data = make_csv(args.rows, day, seed=n)
            seconds = []
            for expected in ("created", "unchanged"):
                started = time.perf_counter()
                answer = client.post(
                    f"{server.base_url}/v1/requests/import",
                    files={"file": ("book.csv", data)},
                    headers=headers,
                )
                seconds.append(time.perf_counter() - started)
                answer.raise_for_status()
                counts = answer.json()["counts"]
                if counts[expected] != args.rows:
                    msg = f"run {n + 1}: expected {args.rows} rows {expected}, got {counts}"
                    raise SystemExit(msg)
            print(
                f"run {n + 1}: {args.rows} rows created in {seconds[0]:.2f} s "
                f"({args.rows / seconds[0]:,.0f} rows/s), re-imported unchanged in "
                f"{seconds[1]:.2f} s ({len(data) / 1e6:.2f} MB)"
            )
            timings.append((seconds[0], seconds[1]))
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    args = parser.parse_args(argv)
    load = os.getloadavg()[0]
    print(
        f"conditions: {os.cpu_count()} cores, load average {load:.2f} before the run, "
        f"Python {platform.python_version()}, {args.database}"
    )
    timings = run(args)
    created = statistics.median(t[0] for t in timings)
    unchanged = statistics.median(t[1] for t in timings)
    verdict = "under" if created < 10 else "OVER"
    print(
        f"median of {len(timings)} runs: {args.rows} rows imported in {created:.2f} s "
        f"({verdict} the 10 s target), re-imported unchanged in {unchanged:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
