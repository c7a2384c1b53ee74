"""docs/embedding/fastapi.md shows requests and the backend's responses: every request
on the page is sent, in order, to a fresh app, and must get the response shown under it
(its status, its headers shown, its JSON body). The page's one ```json block is the
first message the outbox relay sends."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from examples.shop_backend.api import create_app
from pygments.lexers import HttpLexer
from pygments.token import Error

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "embedding" / "fastapi.md"
PROGRAM = ROOT / "examples" / "programs" / "cosmetics-club.yaml"
NOW = datetime.fromisoformat("2026-04-10T13:00:00+00:00")  # the page's clock


@dataclass
class Exchange:
    method: str
    path: str
    body: Any
    status: int
    headers: dict[str, str]
    answer: Any
    line: int


def _parts(block: str) -> tuple[str, dict[str, str], str]:
    head, _, body = block.partition("\n\n")
    first, *header_lines = head.strip().splitlines()
    headers = {}
    for header in header_lines:
        name, _, value = header.partition(":")
        headers[name.strip().lower()] = value.strip()
    return first, headers, body.strip()


def exchanges(text: str) -> Iterator[Exchange]:
    """Each ```http request block and the ```http response block after it."""
    blocks = [
        (match.group(1), text.count("\n", 0, match.start()) + 1)
        for match in re.finditer(r"```http\n(.*?)```", text, re.DOTALL)
    ]
    assert len(blocks) % 2 == 0, "every request on the page is followed by its response"
    for (request, line), (response, _) in zip(blocks[::2], blocks[1::2], strict=True):
        first, _, body = _parts(request)
        method, path, version = first.split()
        assert version == "HTTP/1.1", f"line {line}: a request line ends with HTTP/1.1"
        status_line, headers, answer = _parts(response)
        protocol, status, *_ = status_line.split()
        assert protocol == "HTTP/1.1", f"line {line}: a request must be followed by a response"
        headers.pop("content-type", None)
        yield Exchange(
            method,
            path,
            json.loads(body) if body else None,
            int(status),
            headers,
            json.loads(answer) if answer else None,
            line,
        )


def replay(
    tmp_path: Path, sent: list[dict[str, Any]] | None = None
) -> list[tuple[Exchange, httpx.Response]]:
    messages = [] if sent is None else sent
    app = create_app(
        PROGRAM, f"sqlite:///{tmp_path / 'docs.db'}", clock=lambda: NOW, sender=messages.append
    )

    async def run() -> list[tuple[Exchange, httpx.Response]]:
        transport = httpx.ASGITransport(app=app)
        done = []
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            for exchange in exchanges(PAGE.read_text(encoding="utf-8")):
                response = await client.request(exchange.method, exchange.path, json=exchange.body)
                done.append((exchange, response))
        return done

    try:
        return asyncio.run(run())
    finally:
        app.state.service.store.close()


def test_every_request_on_the_page_gets_the_response_shown(tmp_path: Path) -> None:
    sent: list[dict[str, Any]] = []
    done = replay(tmp_path, sent)
    assert len(done) >= 10
    for exchange, response in done:
        where = f"docs/embedding/fastapi.md line {exchange.line}: {exchange.method} {exchange.path}"
        assert response.status_code == exchange.status, f"{where}: {response.text}"
        for name, value in exchange.headers.items():
            assert response.headers.get(name) == value, where
        assert response.json() == exchange.answer, f"{where}: {response.text}"

    (message,) = re.findall(r"```json\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.DOTALL)
    assert sent, "the page relays the outbox"
    assert json.loads(message) == sent[0]


def test_the_pages_http_blocks_are_highlighted_without_errors() -> None:
    """The site highlights ```http blocks with Pygments' HTTP lexer; a request line
    without its version (``POST /members``) is an error token, shown in red."""
    text = PAGE.read_text(encoding="utf-8")
    blocks = list(re.finditer(r"```http\n(.*?)```", text, re.DOTALL))
    assert blocks
    for block in blocks:
        line = text.count("\n", 0, block.start()) + 1
        errors = [value for kind, value in HttpLexer().get_tokens(block.group(1)) if kind in Error]
        assert errors == [], f"docs/embedding/fastapi.md line {line}: {errors[:3]}"
