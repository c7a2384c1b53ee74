"""The outbox relay: forward the service's notifications, acknowledge what was sent.

The service writes a notification (points earned, a reward unlocked, points about to
expire...) in the same transaction as the entries that caused it. The relay reads them
oldest first, hands each to a *sender* (the shop's e-mail or push service), and
acknowledges only the messages the sender took. It stops at the first failure, so the
messages stay in order: the failed one and those after it are read again next run.

Forwarding is at least once: a relay that dies between sending and acknowledging sends
those messages again, so the receiver drops repeats by their ``dedupe`` key (the HTTP
sender passes it as the ``Idempotency-Key`` header).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from loyalty import LoyaltyService
from loyalty.store.port import OutboxMessage

__all__ = ["HttpSender", "LogSender", "RelayReport", "Sender", "message_body", "relay"]

log = logging.getLogger("shop_backend.outbox")


class Sender(Protocol):
    """Delivers one message; raises if it could not (the message then stays)."""

    def __call__(self, message: dict[str, Any]) -> None: ...


def message_body(message: OutboxMessage) -> dict[str, Any]:
    """What is forwarded: the outbox id and the notification's fields (``kind``,
    ``member_id``, ``dedupe`` and the kind's own fields), all JSON values."""
    return {"id": message.id, **message.notification.data()}


class LogSender:
    """The default sender: writes each message to the log (a shop replaces it)."""

    def __call__(self, message: dict[str, Any]) -> None:
        log.info("notification %s for %s: %s", message["kind"], message["member_id"], message)


class HttpSender:
    """POSTs each message as JSON to the shop's notification service; any status other
    than 2xx is a failure. ``client`` is for tests (a mock transport) or shared pools."""

    def __init__(self, url: str, client: httpx.Client | None = None, timeout: float = 5.0) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=timeout)

    def __call__(self, message: dict[str, Any]) -> None:
        response = self.client.post(
            self.url, json=message, headers={"Idempotency-Key": str(message["dedupe"])}
        )
        response.raise_for_status()


@dataclass(frozen=True)
class RelayReport:
    sent: tuple[int, ...]
    """The ids sent and acknowledged, in order."""
    failed: int | None = None
    """The id of the message the sender refused (it and those after it stay)."""
    error: str | None = None


# --8<-- [start:relay]
_running = threading.Lock()
BATCH = 100


def relay(service: LoyaltyService, send: Sender, limit: int = 1000) -> RelayReport:
    """Drain the outbox, oldest first, up to ``limit`` messages: send each, then
    acknowledge what was sent. Stop at the first message the sender refuses."""
    with _running:  # one run at a time in this process: two would send each message twice
        sent: list[int] = []
        while len(sent) < limit:
            batch = service.outbox(min(BATCH, limit - len(sent)))
            if not batch:
                break
            done: list[int] = []
            for message in batch:
                try:
                    send(message_body(message))
                except Exception as refused:  # whatever the sender raised: keep the message
                    error = f"{type(refused).__name__}: {refused}"
                    log.warning("outbox message %s not sent: %s", message.id, error)
                    if done:
                        service.acknowledge(done)
                    return RelayReport((*sent, *done), message.id, error)
                done.append(message.id)
            service.acknowledge(done)  # only now are they read no more
            sent += done
        return RelayReport(tuple(sent))


# --8<-- [end:relay]
