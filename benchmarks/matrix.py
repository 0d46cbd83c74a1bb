"""Time the default travel model: building the (n, n) matrix for 500 and 2,000 points.

Run: ``.venv/bin/python benchmarks/matrix.py`` (prints the median of several runs per size and
mode; the target is well under a second for 2,000 points).
"""

from __future__ import annotations

import random
import statistics
import time

from geo.coords import LatLon
from geo.travel import GreatCircleTravel

SIZES = (500, 2_000)
RUNS = 7


def _points(n: int, seed: int = 0) -> list[LatLon]:
    """``n`` points spread over Cà Mau province's bounding box, seeded."""
    rng = random.Random(seed)
    return [LatLon(rng.uniform(8.55, 9.60), rng.uniform(104.70, 105.85)) for _ in range(n)]


def main() -> None:
    """Print the median build time per size for the motorbike mode (others cost the same)."""
    model = GreatCircleTravel()
    print(f"great-circle travel matrix, median of {RUNS} runs")
    for n in SIZES:
        points = _points(n)
        model.matrix(points, "motorbike")  # warm up numpy
        times = []
        for _ in range(RUNS):
            start = time.perf_counter()
            m = model.matrix(points, "motorbike")
            times.append(time.perf_counter() - start)
        assert m.seconds.shape == (n, n)
        print(
            f"{n:>6} points: {statistics.median(times) * 1000:8.1f} ms "
            f"(min {min(times) * 1000:.1f} ms, max {max(times) * 1000:.1f} ms)"
        )


if __name__ == "__main__":
    main()
