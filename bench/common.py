"""What the benchmarks share: reading wrk's ``--latency`` report, and the
case they read."""

from __future__ import annotations

import re

import httpx

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


def staff_case(base_url: str, password: str) -> tuple[str, str]:
    """As demo-staff-a of the demo data: a token, and a new case of its
    school to read (its id)."""
    token = httpx.post(
        f"{base_url}/api/v1/auth/token",
        data={"grant_type": "password", "username": "demo-staff-a", "password": password},
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    school = httpx.get(f"{base_url}/api/v1/auth/me", headers=headers).json()["scope"]["schools"][0]["id"]
    case = {"school_id": school, "reporter_type": "student", "channel": "in_person", "place": "school"}
    opened = httpx.post(f"{base_url}/api/v1/cases", headers=headers, json={**case, "summary": "Bench"})
    return token, opened.json()["id"]
