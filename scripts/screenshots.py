"""Take the README's screenshots of the main pages on the demo world.

    .venv/bin/python scripts/screenshots.py [--db URL] [--out docs/screenshots]

Without ``--db`` it loads the demo world into a temporary SQLite database first. It
serves the app on a free loopback port, logs in with Debian's Chromium (Playwright, no
downloaded browser) as the demo admin, who sees every page, and writes one PNG per
navigation entry of the domain registry plus the country, program and assessment
pages of a demo partner. Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
EXTRA = (  # pages people land on from the lists, on a partner the demo always funds
    ("country", "/countries/KEN"),
    ("assessment-country", "/assessment/countries/KEN"),
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database URL (default: a fresh demo world)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    ssaplan = str(Path(sys.executable).with_name("ssaplan"))
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/demo.db"
        if not args.db:
            print("loading the demo world ...", file=sys.stderr)
            subprocess.run([ssaplan, "--db", url, "demo"], check=True, stdout=subprocess.DEVNULL)
        port = _free_port()
        server = subprocess.Popen(
            [ssaplan, "--db", url, "serve", "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            return _shoot(f"http://127.0.0.1:{port}", args.out)
        finally:
            server.terminate()
            server.wait(timeout=30)


def _shoot(base: str, out: Path) -> int:
    import httpx
    from playwright.sync_api import sync_playwright

    from ssaplan import domains

    started = time.monotonic()
    while True:
        try:
            if httpx.get(f"{base}/api/health", timeout=5).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() - started > 120:
            print(f"the server at {base} did not start", file=sys.stderr)
            return 1
        time.sleep(0.3)
    pages = [(_slug(n.label), n.path) for n in domains.navigation()] + list(EXTRA)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(base_url=base, viewport={"width": 1280, "height": 860})
        page = context.new_page()
        page.goto("/login")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "admin-demo-pass")
        page.click("button[type=submit]")
        page.wait_for_url(lambda u: "/login" not in u)
        for slug, path in pages:
            page.goto(path)
            page.wait_for_load_state("networkidle")
            target = out / f"{slug}.png"
            page.screenshot(path=str(target))
            print(f"{path} -> {target}", file=sys.stderr)
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
