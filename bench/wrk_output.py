"""What the benchmarks read from wrk's ``--latency`` report."""

from __future__ import annotations

import re

_UNIT_MS = {"us": 0.001, "ms": 1, "s": 1000}


def figures(output: str) -> dict[str, float]:
    """Requests per second, p50 and p99 in milliseconds, the requests
    completed and the non-2xx/3xx answers of one wrk run."""

    def latency(label: str) -> float:
        value, unit = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", output).groups()
        return float(value) * _UNIT_MS[unit]

    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": latency("50%"),
        "p99": latency("99%"),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "errors": int(errors.group(1)) if errors else 0,
    }
