"""One rollout per endpoint: a lock item in the job table, taken by a conditional write, kept
alive by a lease that a background thread renews, and released by its holder only.

The item, FileName "rollout-lock/<endpoint>": Holder (who), Action (which command), Since
(ISO-8601 UTC), LeaseUntil (epoch seconds) and Token (this holder's uuid); ForcedOver (the
previous holder's Holder, Action and Since) when `--force` broke a live lock. It has no
StartTime, so the table's StartTime index of job records never lists it.

A holder that crashes stops renewing, and its lease runs out: the next rollout then takes the
lock. A holder whose lock was forced over learns it at its next renewal (every lease/3) and its
rollout stops at its next step (`check()`), leaving the endpoint to the new holder.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from operators.aws import Clients
from operators.config import Settings
from operators.errors import ByoError, ConfigError

DEFAULT_LEASE_S = 120.0
KEY_PREFIX = "rollout-lock/"
# Taken when nobody holds it, or when the holder's lease has run out (a crashed holder).
FREE = "attribute_not_exists(FileName) OR #lease < :now"
# Token is one of DynamoDB's reserved words: expressions name both attributes through these.
NAMES = {"#token": "Token", "#lease": "LeaseUntil"}
FORCE_ATTEMPTS = 3  # a lock that changes hands while being forced is read again, this often


class RolloutLocked(ByoError):
    """Another rollout holds the endpoint's lock."""


class LockLost(ByoError):
    """The rollout's lock was taken over (forced) or its lease ran out without renewal."""


def default_holder() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name (a container's uid without a passwd entry)
        user = f"uid {os.getuid()}"
    return f"{user}@{socket.gethostname()} pid {os.getpid()}"


def iso(epoch_s: float) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _plain(item: dict[str, Any] | None) -> dict[str, Any]:
    """A low-level DynamoDB item's S, N and M attributes as Python values."""

    def value(typed: dict[str, Any]) -> Any:
        if "N" in typed:
            return float(typed["N"])
        if "M" in typed:
            return _plain(typed["M"])
        return next(iter(typed.values()))

    return {k: value(v) for k, v in (item or {}).items()}


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


class Lock:
    """The rollout lock of one endpoint. `with lock:` takes it, or uses it when this holder
    already holds it (re-entrant: a deploy that goes on to shift traffic holds one lock for the
    whole rollout); the outermost exit releases it."""

    def __init__(
        self,
        clients: Clients,
        table: str,
        endpoint: str,
        action: str,
        *,
        lease_s: float = DEFAULT_LEASE_S,
        force: bool = False,
        holder: str | None = None,
        now: Callable[[], float] = time.time,
        report: Callable[[str], None] = lambda line: None,
    ) -> None:
        self.table = table
        self.endpoint = endpoint
        self.action = action
        self.lease_s = lease_s
        self.force = force
        self.holder = holder or default_holder()
        self.key = {"FileName": {"S": KEY_PREFIX + endpoint}}
        self.token: str | None = None
        self.forced_over: dict[str, Any] | None = None
        self.lost: str | None = None  # why this holder no longer holds it
        self._dynamodb = clients.client("dynamodb")  # made here: the renewer thread shares it
        self._now = now
        self._report = report
        self._depth = 0
        self._lease_until = 0.0
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    # -- taking it ------------------------------------------------------------------------------
    def acquire(self) -> Lock:
        if self._depth:
            self.check()
            self._depth += 1
            return self
        self.token, self.lost = str(uuid.uuid4()), None
        for _ in range(FORCE_ATTEMPTS):
            now = self._now()
            item = self._item(now)
            current = self._put(item, FREE, {":now": {"N": repr(now)}})
            if current is None:
                break
            if not self.force:
                raise RolloutLocked(self._held_message(current, now))
            previous = {k: current[k] for k in ("Holder", "Action", "Since") if k in current}
            item["ForcedOver"] = {"M": {k: {"S": v["S"]} for k, v in previous.items()}}
            seen = {":seen": current.get("Token", {"S": ""})}
            if self._put(item, "#token = :seen", seen) is None:
                self.forced_over = _plain(previous)
                self._report(
                    f"--force: broke the rollout lock of endpoint {self.endpoint} held by "
                    f"{self._who(self.forced_over)}; the lock records it as ForcedOver"
                )
                break
        else:
            raise RolloutLocked(
                f"the rollout lock of endpoint {self.endpoint} kept changing hands while "
                f"--force broke it ({FORCE_ATTEMPTS} attempts); run the command again"
            )
        self._lease_until = now + self.lease_s
        self._depth = 1
        self._stop.clear()
        self._renewer = threading.Thread(
            target=self._renew, name=f"rollout-lock-{self.endpoint}", daemon=True
        )
        self._renewer.start()
        return self

    def _item(self, now: float) -> dict[str, Any]:
        return {
            **self.key,
            "Holder": {"S": self.holder},
            "Action": {"S": self.action},
            "Since": {"S": iso(now)},
            "LeaseUntil": {"N": repr(now + self.lease_s)},
            "Token": {"S": self.token},
        }

    def _put(
        self, item: dict[str, Any], condition: str, values: dict[str, Any]
    ) -> dict[str, Any] | None:
        """Write the item if `condition` holds: None, else the item that stopped it."""
        try:
            self._dynamodb.put_item(
                TableName=self.table,
                Item=item,
                ConditionExpression=condition,
                ExpressionAttributeNames={k: NAMES[k] for k in NAMES if k in condition},
                ExpressionAttributeValues=values,
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if _error_code(exc) == "ConditionalCheckFailedException":
                return exc.response.get("Item") or {}
            raise ByoError(
                f"the rollout lock of endpoint {self.endpoint} in job table {self.table}: "
                f"{_error_code(exc)}: {exc.response['Error'].get('Message')}"
            ) from None
        return None

    def _who(self, holder: dict[str, Any]) -> str:
        who = holder.get("Holder", "an unknown holder")
        action = holder.get("Action", "an unknown action")
        return f"{who} ({action}) since {holder.get('Since', 'an unknown time')}"

    def _held_message(self, typed: dict[str, Any], now: float) -> str:
        current = _plain(typed)
        until = current.get("LeaseUntil", now)
        left = max(until - now, 0)
        return (
            f"endpoint {self.endpoint} is in another rollout: its rollout lock is held by "
            f"{self._who(current)}; the lease ends at {iso(until)} (in {left:.0f} s) "
            "unless its holder renews it. Wait for that rollout to finish, or pass --force to "
            "break the lock"
        )

    # -- keeping it -----------------------------------------------------------------------------
    def _renew(self) -> None:
        while not self._stop.wait(self.lease_s / 3):
            until = self._now() + self.lease_s
            try:
                self._dynamodb.update_item(
                    TableName=self.table,
                    Key=self.key,
                    UpdateExpression="SET #lease = :until",
                    ConditionExpression="#token = :token",
                    ExpressionAttributeNames=NAMES,
                    ExpressionAttributeValues={
                        ":until": {"N": repr(until)},
                        ":token": {"S": self.token},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
            except ClientError as exc:
                if _error_code(exc) == "ConditionalCheckFailedException":
                    self.lost = self._lost_message(exc.response.get("Item"))
                    return
                continue  # transient: tried again next time; check() fails once the lease ends
            except BotoCoreError:
                continue
            self._lease_until = until

    def _lost_message(self, typed: dict[str, Any] | None) -> str:
        if not typed:
            taken = "was deleted by someone else"
        else:
            current = _plain(typed)
            forced = " with --force" if "ForcedOver" in current else ""
            taken = f"was taken over{forced} by {self._who(current)}"
        return (
            f"the rollout lock of endpoint {self.endpoint} ({self.action}, {self.holder}) "
            f"{taken}: this rollout stops here and leaves the endpoint as it is"
        )

    def check(self) -> None:
        """Raise LockLost if this holder no longer holds the lock: the rollout's next step must
        not run."""
        if self.lost:
            raise LockLost(self.lost)
        if self._now() >= self._lease_until:
            raise LockLost(
                f"the rollout lock of endpoint {self.endpoint} ({self.action}) could not be "
                f"renewed and its lease ended at {iso(self._lease_until)}: another rollout may "
                "hold it now, so this one stops here"
            )

    # -- giving it back -------------------------------------------------------------------------
    def release(self) -> None:
        """Give the lock back at the outermost exit: delete the item if it is still this
        holder's (a lock forced over is the new holder's, and stays)."""
        if not self._depth:
            return
        self._depth -= 1
        if self._depth:
            return
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        try:
            self._dynamodb.delete_item(
                TableName=self.table,
                Key=self.key,
                ConditionExpression="#token = :token",
                ExpressionAttributeNames={"#token": "Token"},
                ExpressionAttributeValues={":token": {"S": self.token}},
            )
        except ClientError as exc:
            if _error_code(exc) != "ConditionalCheckFailedException":
                raise
        finally:
            self.token = None

    def __enter__(self) -> Lock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock(clients: Clients, table: str, endpoint: str, action: str, **options: Any) -> Lock:
    """The endpoint's rollout lock, not taken yet: `with rollout.lock(...) as held:`."""
    return Lock(clients, table, endpoint, action, **options)


def acquire(clients: Clients, table: str, endpoint: str, action: str, **options: Any) -> Lock:
    """The endpoint's rollout lock, taken (RolloutLocked if another rollout holds it); the
    caller releases it."""
    return Lock(clients, table, endpoint, action, **options).acquire()


def from_settings(
    settings: Settings,
    clients: Clients,
    endpoint: str,
    action: str,
    *,
    force: bool = False,
    report: Callable[[str], None] = lambda line: None,
) -> Lock:
    """The lock a command takes, in the job table of the settings; the holder is
    BYO_ROLLOUT_HOLDER (the deploy machine's execution name) when set, else user@host pid."""
    table = settings.get("job_table")
    if not table:
        raise ConfigError(
            f"no job_table for the rollout lock of endpoint {endpoint}: set BYO_JOB_TABLE or "
            "apply the stack (its output job_table); every command that changes what an "
            "endpoint serves takes the lock there"
        )
    return Lock(
        clients,
        table,
        endpoint,
        action,
        force=force,
        holder=settings.get("rollout_holder"),
        report=report,
    )


@contextlib.contextmanager
def holding(lock: Lock | None, endpoint: str) -> Iterator[Callable[[], None]]:
    """Hold `lock` (taken now, or already held by the caller) for a rollout of `endpoint`;
    yields the check its steps call in between. Without a lock, the rollout is not
    coordinated with others and the check does nothing."""
    if lock is None:
        yield lambda: None
        return
    if lock.endpoint != endpoint:
        raise ConfigError(f"the rollout lock given is endpoint {lock.endpoint}'s, not {endpoint}'s")
    with lock:
        yield lock.check
