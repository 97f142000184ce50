"""Canary judge benchmark: judge() over 50 metrics of 1,000 baseline + 1,000 canary points.

Run: .venv/bin/python -m bench.judge [--metrics 50] [--points 1000] [--repeat 7]
Target: judge() <= 50 ms for 50 x (1,000 + 1,000). In the same run, scipy.stats.mannwhitneyu
on the same 50 pairs is timed for scale (it computes U and a p-value only: no interval,
estimate, Hodges-Lehmann, cleaning, scoring or digests). Skipped with a note without scipy.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable

from cockpit.judge import JudgeConfig, MetricInput, judge
from cockpit.judge.classify import classify

TARGET_MS = 50.0


def metrics(count: int, points: int, seed: int = 20261126) -> list[MetricInput]:
    """Latency-like series (log-normal, ms); every fifth metric's canary is 3% slower."""
    rng = random.Random(seed)
    made = []
    for i in range(count):
        scale = 1.03 if i % 5 == 0 else 1.0
        base = rng.uniform(20, 400)
        baseline = [base * rng.lognormvariate(0, 0.25) for _ in range(points)]
        canary = [scale * base * rng.lognormvariate(0, 0.25) for _ in range(points)]
        made.append(
            MetricInput(f"latency-{i:02d}", baseline, canary, direction="increase", unit="ms")
        )
    return made


def timed(work: Callable[[], object], repeat: int) -> tuple[float, float, float]:
    """(best wall ms, median wall ms, best CPU ms) over `repeat` runs after one warm-up."""
    work()
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        work()
        walls.append((time.perf_counter() - wall) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    return min(walls), statistics.median(walls), min(cpus)


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.judge", description=__doc__)
    parser.add_argument("--metrics", type=int, default=50)
    parser.add_argument("--points", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    inputs = metrics(args.metrics, args.points)
    config = JudgeConfig(run_id="bench")
    shape = f"{args.metrics} metrics x ({args.points:,} + {args.points:,}) points"

    best, median, cpu = timed(lambda: judge(inputs, config), args.repeat)
    result = judge(inputs, config)
    print(f"judge(): best {best:.1f} ms, median {median:.1f} ms, best CPU {cpu:.1f} ms "
          f"for {shape} (target <= {TARGET_MS:g} ms)")  # fmt: skip
    stats_best, stats_median, _ = timed(lambda: [classify(m, config) for m in inputs], args.repeat)
    # medians: the difference of two minima can come out negative on a busy machine
    rest = max(median - stats_median, 0.0)
    print(f"  of which classification (cleaning, U, p, interval, HL): best {stats_best:.1f} ms; "
          f"validation, scoring and digests: ~{rest:.1f} ms (difference of medians)")  # fmt: skip
    labels = statistics.multimode(m.classification for m in result.metrics)
    print(f"  verdict: score {result.score:g}, {result.decision}; most common label {labels[0]}")

    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        print("scipy.stats.mannwhitneyu: skipped (scipy is not installed)")
    else:
        pairs = [(list(m.canary), list(m.baseline)) for m in inputs]
        scipy_best, scipy_median, _ = timed(
            lambda: [mannwhitneyu(c, b, method="asymptotic") for c, b in pairs], args.repeat
        )
        print(f"scipy.stats.mannwhitneyu (asymptotic, U and p only) on the same pairs: "
              f"best {scipy_best:.1f} ms, median {scipy_median:.1f} ms")  # fmt: skip
        print(f"ratio judge()/scipy: {best / scipy_best:.1f}x (best vs best)")
    ok = best <= TARGET_MS
    print("PASS" if ok else f"FAIL: {best:.1f} ms is over the {TARGET_MS:g} ms target")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
