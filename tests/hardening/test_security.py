"""Security checks: CORS for the configured origin only, request size limits on the API and the
endpoint, no secrets in tracked files, and the API's production IAM policy."""

from __future__ import annotations

import json
import re
import socket
import subprocess

import pytest
from hardening_stack import ORIGIN, REPO, Stack, call

OTHER = "http://evil.example:4173"


def test_cors_simple_request_from_the_web_origin_is_allowed(api: str) -> None:
    reply = call(api + "/movies/1", headers={"Origin": ORIGIN})
    assert reply.status == 200
    assert reply.headers.get("Access-Control-Allow-Origin") == ORIGIN


@pytest.mark.parametrize("origin", [OTHER, "http://localhost:4173", "null", ORIGIN + ".evil"])
def test_cors_never_allows_another_origin(api: str, origin: str) -> None:
    simple = call(api + "/movies/1", headers={"Origin": origin})
    preflight = call(
        api + "/users",
        "OPTIONS",
        headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    for reply in (simple, preflight):
        allowed = reply.headers.get("Access-Control-Allow-Origin")
        # Absent, or the one configured origin (a browser then refuses the response); never
        # the caller's origin echoed back, never "*".
        assert allowed in (None, ORIGIN), (origin, allowed)
        assert reply.headers.get("Access-Control-Allow-Credentials") in (None, "false")


def _read_response(sock: socket.socket) -> str:
    """Headers and the whole Content-Length body: they may arrive in separate segments."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return data.decode()
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
         if line.lower().startswith(b"content-length:")),
        0,
    )  # fmt: skip
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        body += chunk
    return (head + b"\r\n\r\n" + body).decode()


def test_endpoint_refuses_bodies_over_its_limit_before_reading_them(stack: Stack) -> None:
    """A 9 MiB body is announced but never sent: the 413 comes from the header alone."""
    with socket.create_connection(("127.0.0.1", stack.endpoint_port), timeout=30) as sock:
        sock.sendall(
            b"POST /invocations HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/json\r\nContent-Length: 9437184\r\n\r\n{"
        )
        answer = _read_response(sock)
    assert answer.startswith("HTTP/1.1 413"), answer[:200]
    assert "exceeds" in answer


def test_endpoint_admin_load_is_loopback_only_and_validated(stack: Stack) -> None:
    reply = call(
        stack.endpoint_url + "/admin/load",
        "POST",
        b'{"version": "1; rm -rf /"}',
        {"Content-Type": "application/json"},
    )
    assert reply.status == 400
    source = (REPO / "packages/ml/src/recs_ml/serving/endpoint/app.py").read_text()
    assert "is_loopback" in source  # the check that makes non-local callers get 403


# Built from pieces so this file does not match its own patterns.
SECRET_PATTERNS = {
    "AWS access key id": r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
    "AWS secret access key": r"(?i)aws_?secret_?access_?key\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}\b",
    "private key": "-----BEGIN " + r"(RSA |EC |OPENSSH |DSA |PGP )?PRIVATE KEY" + "-----",
    "GitHub token": r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b",
    "Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",
    "npm token": r"\bnpm_[A-Za-z0-9]{36}\b",
    "generic password": r"(?i)\b(password|passwd|secret)\s*[:=]\s*['\"][^'\"\s]{8,}['\"]",
}


def test_no_secrets_in_tracked_files() -> None:
    files = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    compiled = {name: re.compile(pattern) for name, pattern in SECRET_PATTERNS.items()}
    found = []
    scanned = 0
    for name in filter(None, files):
        path = REPO / name.decode()
        if (
            not path.is_file()
            or path.stat().st_size > 2_000_000
            or path.name == "package-lock.json"
        ):
            continue
        data = path.read_bytes()
        if b"\0" in data[:4096]:
            continue  # binary
        text = data.decode("utf-8", errors="replace")
        scanned += 1
        for kind, pattern in compiled.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name.decode()}:{line}: {kind}")
    assert scanned > 50
    assert found == []


def test_the_scanner_finds_a_planted_key() -> None:
    planted = "aws_access_key_id = " + "AKIA" + "ABCDEFGHIJKLMNOP"
    assert re.search(SECRET_PATTERNS["AWS access key id"], planted)
    assert re.search(SECRET_PATTERNS["private key"], "-----BEGIN " + "RSA PRIVATE KEY-----")


# Actions that accept no resource-level scope, so "*" is the only possible resource.
NO_RESOURCE_ACTIONS = {"sagemaker:ListModelPackages", "ecr:GetAuthorizationToken",
                       "cloudwatch:PutMetricData"}  # fmt: skip


def test_api_production_policy_is_least_privilege() -> None:
    policy = json.loads((REPO / "packages/api/.chalice/policy-prod.json").read_text())
    for statement in policy["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        resources = (
            statement["Resource"]
            if isinstance(statement["Resource"], list)
            else [statement["Resource"]]
        )
        assert statement["Effect"] == "Allow"
        assert not any(a == "*" or a.endswith(":*") for a in actions), statement
        if "*" in resources:
            assert set(actions) <= NO_RESOURCE_ACTIONS, statement
        assert not any(a.startswith(("iam:", "sts:")) for a in actions), statement
    writes = {a for s in policy["Statement"] for a in s["Action"] if a.startswith("dynamodb:")}
    assert "dynamodb:DeleteTable" not in writes and "dynamodb:DeleteItem" not in writes
