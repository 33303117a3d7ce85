"""SNS delivery as the embedded AWS does it: what moto delivers itself, and an outbox for the rest.

moto's Publish already delivers to SQS subscribers (the JSON envelope, or the bare message with
RawMessageDelivery) and hands Lambda subscribers to the Lambda backend, honouring each
subscription's filter policy. Email, email-json, SMS and HTTP(S) subscribers are people and
servers outside this machine: moto posts to HTTP(S) endpoints over the network and drops the
rest. Here `Subscription.publish` is hooked for those protocols, so each delivery is recorded in
a local outbox instead — what was sent, to whom, and for email-json and HTTP(S) the body it
would have carried (SNS's JSON envelope) — and nothing leaves the machine.

AWS sends email subscribers a confirmation link first and delivers nothing until it is
followed; the outbox records deliveries regardless, because there is no inbox here to follow a
link from (moto marks every subscription confirmed).

    GET    /localaws/sns/outbox[?topic=ARN&protocol=email]   the recorded deliveries, oldest first
    DELETE /localaws/sns/outbox                              empty it

The newest OUTBOX_SIZE deliveries are kept in memory, all of them in sns-outbox.jsonl in the
runtime's work directory.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from typing import Any

from moto.sns.models import Subscription

from localaws.runtime import Context
from localaws.runtime.hooks import Hooks

log = logging.getLogger("localaws.runtime.sns")

OUTBOX_PROTOCOLS = ("email", "email-json", "sms", "http", "https")
ENVELOPE_PROTOCOLS = ("email-json", "http", "https")  # they get SNS's JSON envelope
OUTBOX_SIZE = 1000


class SnsDelivery:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.path = ctx.work_dir / "sns-outbox.jsonl"
        self._records: deque[dict[str, Any]] = deque(maxlen=OUTBOX_SIZE)
        self._lock = threading.Lock()
        self._hooks = Hooks()

    def start(self) -> None:
        original = Subscription.publish
        delivery = self

        def publish(
            subscription: Subscription,
            message: str,
            message_id: str,
            subject: str | None = None,
            message_attributes: dict[str, Any] | None = None,
            group_id: str | None = None,
            deduplication_id: str | None = None,
            message_structure: str | None = None,
        ) -> None:
            if subscription.protocol not in OUTBOX_PROTOCOLS:
                return original(
                    subscription,
                    message,
                    message_id,
                    subject=subject,
                    message_attributes=message_attributes,
                    group_id=group_id,
                    deduplication_id=deduplication_id,
                    message_structure=message_structure,
                )
            # What moto's own publish does first: the filter policy, then the per-protocol
            # message of a MessageStructure=json publish (its errors are the API's answer).
            matcher = subscription._filter_policy_matcher
            if matcher is not None and not matcher.matches(message_attributes, message):
                return None
            if message_structure == "json":
                message = subscription._parse_message_structure(message, subscription.protocol)
            try:
                delivery.record(subscription, message, message_id, subject, message_attributes)
            except Exception:
                log.exception("cannot record the delivery to %s", subscription.arn)
            return None

        self._hooks.install(Subscription, "publish", publish)

    def stop(self) -> None:
        self._hooks.restore()

    def record(
        self,
        subscription: Subscription,
        message: str,
        message_id: str,
        subject: str | None,
        message_attributes: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Put one delivery in the outbox and return its record."""
        entry: dict[str, Any] = {
            "time": self.ctx.clock.now().isoformat(timespec="milliseconds"),
            "topic": subscription.topic_arn,
            "subscription": subscription.arn,
            "protocol": subscription.protocol,
            "endpoint": subscription.endpoint,
            "message_id": message_id,
            "subject": subject,
            "message": message,
            "message_attributes": message_attributes or {},
        }
        if subscription.protocol in ENVELOPE_PROTOCOLS and not _raw(subscription):
            envelope = subscription.get_post_data(
                message, message_id, subject, message_attributes=message_attributes
            )
            entry["body"] = json.dumps(envelope)
        with self._lock:
            self._records.append(entry)
            with self.path.open("a", encoding="utf-8") as out:
                out.write(json.dumps(entry) + "\n")
        log.info("sns: %s delivery to %s recorded", subscription.protocol, subscription.endpoint)
        return entry

    def messages(self, topic: str | None = None, protocol: str | None = None) -> list[dict]:
        with self._lock:
            records = list(self._records)
        return [
            r
            for r in records
            if (topic is None or r["topic"] == topic)
            and (protocol is None or r["protocol"] == protocol)
        ]

    def clear(self) -> int:
        with self._lock:
            count = len(self._records)
            self._records.clear()
            self.path.write_text("", encoding="utf-8")
        return count

    def routes(self, app: Any) -> None:
        from flask import jsonify, request

        @app.get("/localaws/sns/outbox")
        def outbox() -> Any:
            protocol = request.args.get("protocol") or None
            if protocol is not None and protocol not in OUTBOX_PROTOCOLS:
                return jsonify(
                    {
                        "message": f"protocol {protocol!r} has no outbox: one of "
                        f"{', '.join(OUTBOX_PROTOCOLS)} (SQS and Lambda subscribers receive "
                        "their messages themselves)"
                    }
                ), 400
            topic = request.args.get("topic") or None
            return jsonify({"messages": self.messages(topic, protocol)})

        @app.delete("/localaws/sns/outbox")
        def clear_outbox() -> Any:
            return jsonify({"deleted": self.clear()})


def _raw(subscription: Subscription) -> bool:
    """RawMessageDelivery (HTTP(S) and SQS only): the bare message instead of the envelope."""
    value = subscription.attributes.get("RawMessageDelivery")
    return value is True or str(value).lower() == "true"
