"""The shop backend as it is deployed: ``uvicorn examples.shop_backend.app:app`` in a
subprocess, configured by its environment, spoken to over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_up(server: subprocess.Popen[bytes], base: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"uvicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            httpx.get(f"{base}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError(f"uvicorn did not answer within 30 s:\n{log.read_text()}")


def test_uvicorn_serves_a_webhook_and_the_statement(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    database = tmp_path / "shop.db"
    log = tmp_path / "uvicorn.log"
    env = {
        **os.environ,
        "SHOP_DATABASE_URL": f"sqlite:///{database}",
        # The working tree's package and examples, whatever is installed.
        "PYTHONPATH": os.pathsep.join(
            filter(None, [str(ROOT / "src"), str(ROOT), os.environ.get("PYTHONPATH")])
        ),
    }
    env.pop("SHOP_PROGRAM", None)  # the default program: the cosmetics club
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "examples.shop_backend.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=output, stderr=output)
    try:
        wait_until_up(server, base, log)
        with httpx.Client(base_url=base, timeout=10) as client:
            enrolled = client.post(
                "/members", json={"member_id": "member-7", "enrolled_at": "2026-02-01T10:00:00Z"}
            )
            assert enrolled.status_code == 201, enrolled.text
            webhook = {
                "id": "dlv-1",
                "occurred_at": "2026-03-01T15:05:00Z",
                "order": {
                    "id": "B-1",
                    "member_id": "member-7",
                    "currency": "USD",
                    "lines": [{"sku": "SERUM-50ML", "unit_price": "60.00", "quantity": 2}],
                },
            }
            delivered = client.post("/webhooks/order-completed", json=webhook)
            assert delivered.status_code == 200, delivered.text
            assert delivered.json()["points"] == 120
            statement = client.get("/members/member-7/statement")
            assert statement.status_code == 200
            assert [(line["kind"], line["points"]) for line in statement.json()["lines"]] == [
                ("order", 0),
                ("earn", 120),
            ]
            assert statement.json()["balance"]["pending"] == 120
            malformed = client.post(
                "/webhooks/order-completed",
                content=b"{not json",
                headers={"content-type": "application/json"},
            )
            assert (malformed.status_code, malformed.json()["field"]) == (400, "body")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    # A clean shutdown: uvicorn ran the app's shutdown (which closes the store), then
    # exits with 0 or, in recent versions, by the SIGTERM it was sent.
    assert server.returncode in (0, -signal.SIGTERM), log.read_text()
    assert "Application shutdown complete" in log.read_text()
    assert database.exists()  # the environment chose the database
