"""What a deployment sees of the server's own time, and how many workers serve it."""

from __future__ import annotations

import os
import re
from typing import Any

from ssaplan.cli import default_workers


def test_every_response_says_how_long_the_server_took(api: Any) -> None:
    for path in ("/api/health", "/api/no-such-route"):
        header = api.client.get(path).headers.get("server-timing", "")
        assert re.fullmatch(r"app;dur=\d+\.\d\d", header), header


def test_serve_starts_one_worker_per_usable_core() -> None:
    assert default_workers() == len(os.sched_getaffinity(0)) >= 1
