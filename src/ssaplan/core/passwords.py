"""The password policy (issue 10), checked when a password is set or reset.

Following NIST SP 800-63B (section 5.1.1.2): a minimum length, no composition rules,
and a check against values known to be common, the user's own name, and trivially
repetitive strings. Each problem is reported so the user knows what to change.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

MIN_PASSWORD = 10
MAX_PASSWORD = 1024  # long passphrases are welcome; megabytes are not (Argon2 hashes them all)
MIN_DISTINCT = 4
COMMON_FILE = Path(__file__).with_name("common_passwords.txt")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The list in :data:`COMMON_FILE` (comments and blank lines skipped), lowercased."""
    lines = COMMON_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().lower() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problems(password: str, username: str = "") -> list[str]:
    """Why ``password`` may not be used (empty when it may)."""
    problems = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        problems.append(f"must be at most {MAX_PASSWORD} characters")
    folded = password.strip().lower()
    if len(set(folded)) < MIN_DISTINCT:
        problems.append(
            f"must use at least {MIN_DISTINCT} different characters (not one repeated, "
            "nor only spaces)"
        )
    if folded in common_passwords():
        problems.append("is on the list of common passwords: choose something less guessable")
    name = username.strip().lower()
    if len(name) >= 3 and name in folded:
        problems.append("must not contain the user name")
    return problems
