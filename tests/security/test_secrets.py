"""No credentials in the repository: a pattern scan of every file git tracks (or would add).

The scan looks for what a leaked credential looks like, not for known values: AWS access
key ids and secret keys, private key blocks, URLs with an inline password, GitHub and
Slack tokens, and string literals assigned to a password, secret or token name. A match
passes only when its value is a placeholder (``***``, ``<...>``, ``$VAR``, ``{...}``,
``password``) or is on ``ALLOWED`` below, which says why that value is no secret. The
tests at the end plant fake credentials in a scratch tree to prove that the scan fails.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from marketplace.devenv import ROOT

# Values that look like credentials but are documented, local-only stand-ins.
ALLOWED: dict[str, str] = {
    "sk_test_local_simulator": "the local payments API simulator's documented dev token "
    "(simulator.payments_api.LOCAL_TOKEN), accepted by nothing but the simulator",
    "testing": "moto's documented fake AWS credentials for its local server (tests only)",
    "trust-auth-ignores-it": "a password the throwaway Postgres cluster ignores (initdb --auth=trust) "
    "in tests/engines/test_compile_targets.py",
    "p%40ss": "a made-up password in a unit test of the Postgres URL builder (percent-encoding of '@')",
    "p@ss": "the same made-up password before encoding",
    "sk_wrong": "a deliberately wrong payments token in the tests of the 401 path",
}
# Placeholders a document or an error message writes instead of a value.
PLACEHOLDER = re.compile(r"\*+|<[^>]*>|\$\{?\w+\}?|\{[^}]*\}|(?i:user|password|pass|secret|token)")

# Built from pieces so that this file holds no string that its own patterns match.
_KEY_BLOCK = "-" * 5 + r"BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY" + "-" * 5
PATTERNS: dict[str, re.Pattern[str]] = {
    "AWS access key id": re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"),
    "AWS secret access key": re.compile(
        r"(?i)aws_?secret_?access_?key\W{0,5}[\"']?([A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])"
    ),
    "private key block": re.compile(f"({_KEY_BLOCK})"),
    "URL with inline credentials": re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@'\"`]+:([^\s/@'\"`]+)@"),
    "GitHub credential": re.compile(r"\b((?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{60,})\b"),
    "Slack credential": re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,}|hooks\.slack\.com/services/T[A-Za-z0-9_/]+)"),
    "credential literal": re.compile(
        r"(?i)\b\w*(?:password|passwd|secret|token|secret_?access_?key)[\"']?\s*[:=]\s*[\"']([^\"'\s]+)[\"']"
    ),
}


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    value: str

    def __str__(self) -> str:
        shown = self.value if len(self.value) <= 12 else f"{self.value[:8]}..."
        return f"{self.path}:{self.line}: {self.kind} ({shown})"


def repository_files(root: Path) -> list[str]:
    """Tracked files, and untracked ones git would add (so a secret is caught before its commit)."""
    out = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=root,
        capture_output=True,
        check=True,
    ).stdout
    return sorted({name for name in out.decode().split("\0") if name and (root / name).is_file()})


def acceptable(value: str) -> bool:
    return value in ALLOWED or PLACEHOLDER.fullmatch(value) is not None


def scan_text(path: str, text: str) -> tuple[list[Finding], set[str]]:
    """(findings, allow-listed values met) in one file's text."""
    findings, allowed = [], set()
    for number, line in enumerate(text.splitlines(), start=1):
        for kind, pattern in PATTERNS.items():
            for match in pattern.finditer(line):
                value = match.group(1)
                if value in ALLOWED:
                    allowed.add(value)
                elif not acceptable(value):
                    findings.append(Finding(path, number, kind, value))
    return findings, allowed


def scan(root: Path, files: list[str]) -> tuple[list[Finding], set[str]]:
    findings, allowed = [], set()
    for name in files:
        # Binary files (images) are read as Latin-1 so that a key inside one still matches.
        text = (root / name).read_bytes().decode("latin-1")
        found, met = scan_text(name, text)
        findings += found
        allowed |= met
    return findings, allowed


@pytest.fixture(scope="module")
def repository_scan() -> tuple[list[str], list[Finding], set[str]]:
    files = repository_files(ROOT)
    return (files, *scan(ROOT, files))


def test_no_credentials_in_the_repository(repository_scan):
    files, findings, _ = repository_scan
    assert len(files) > 100, "git ls-files listed too few files: is this a git checkout?"
    assert not findings, "credentials in the repository:\n" + "\n".join(map(str, findings))


def test_every_allowed_value_is_still_in_the_repository(repository_scan):
    _, _, met = repository_scan
    assert set(ALLOWED) - met == set(), "stale allow-list entries: remove them"


# Each planted line is written here with a "§" that breaks it, so that this file passes the
# scan; the test removes the "§" before it writes the line into the scratch tree.
PLANTED = {
    "AWS access key id": "aws_access_key_id = AK§IAQ4PLANTEDFAKE7Z2",
    "AWS secret access key": "aws_secret_access§_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY",
    "private key block": "-----BEGIN RSA PRIV§ATE KEY-----",
    "URL with inline credentials": "SHOP_DB_URL=postgresql:§//loader:hunter2x@db.internal:5432/shop",
    "GitHub credential": "gh§p_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
    "Slack credential": "xo§xb-123456789012-abcdefABCDEF",
    "credential literal": 'db_pass§word = "correct-horse"',
}


@pytest.mark.parametrize("kind", list(PLANTED), ids=[k.replace(" ", "-") for k in PLANTED])
def test_the_scan_catches_a_planted_secret(tmp_path, kind):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "config.py").write_text("# settings\n" + PLANTED[kind].replace("§", "") + "\n")
    findings, _ = scan(tmp_path, repository_files(tmp_path))
    assert [(f.path, f.line, f.kind) for f in findings] == [("config.py", 2, kind)]


@pytest.mark.parametrize(
    "line",
    [
        "SHOP_DB_URL=postgresql://loader:***@rds.example:5432/shop",
        "postgresql://USER:PASSWORD@HOST:PORT/DB",
        "postgresql://user:<password>@host/db",
        'password = "${PG_PASSWORD}"',
        'token = "sk_test_local_simulator"',
    ],
    ids=["stars", "upper-placeholder", "angle-brackets", "variable", "allow-listed"],
)
def test_placeholders_and_allowed_values_pass(line):
    assert scan_text("doc.md", line)[0] == []
