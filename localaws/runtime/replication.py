"""S3 replication: objects written into a bucket with a replication configuration are copied to
the destination bucket of the rule that matches them, as S3 does by itself.

moto stores PutBucketReplication and replicates nothing. Here, after every object creation
(Put, Copy, CompleteMultipartUpload: moto's notification point) in a bucket with an Enabled rule
whose filter matches the key (Filter Prefix / Tag / And, or the legacy Prefix; the highest
Priority wins), a worker copies the object — body, metadata, content type, tags — into the
destination bucket, whatever its region:
- an SSE-KMS object replicates only when the rule's SourceSelectionCriteria selects
  SseKmsEncryptedObjects, and its replica is encrypted with the rule's ReplicaKmsKeyID;
- the source's HeadObject says x-amz-replication-status PENDING, then COMPLETED (FAILED, with the
  reason in the emulator log, when the destination bucket is missing or not versioned); the
  replica's says REPLICA, and replicas are not replicated again;
- a delete marker replicates only under DeleteMarkerReplication Enabled; deleting a version
  never replicates (as on S3).
Global (one instance for every region): S3's buckets are.
"""

from __future__ import annotations

import logging
import queue
import threading
from typing import Any

from moto.s3 import notifications as s3_notifications
from moto.s3.models import FakeKey, s3_backends

from localaws.runtime.hooks import Hooks

log = logging.getLogger("localaws.runtime.replication")

STATUS = "_localaws_replication_status"  # a FakeKey's x-amz-replication-status
CREATED = "ObjectCreated"
DELETE_MARKER = "ObjectRemoved:DeleteMarkerCreated"


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _tags_of(key: FakeKey, backend: Any) -> dict[str, str]:
    try:
        tags = backend.get_object_tagging(key).get("Tags") or []
    except Exception:
        return {}
    return {t["Key"]: t["Value"] for t in tags}


def rule_for(replication: dict[str, Any], key: str, tags: dict[str, str]) -> dict | None:
    """The Enabled rule of a replication configuration that applies to `key` (and its tags):
    the one of highest Priority among those whose filter matches."""
    matching = []
    for rule in _as_list(replication.get("Rule")):
        if rule.get("Status") != "Enabled":
            continue
        prefix, wanted = "", {}
        if "Filter" in rule and rule["Filter"] is not None:
            condition = rule["Filter"].get("And", rule["Filter"]) or {}
            prefix = condition.get("Prefix") or ""
            wanted = {t["Key"]: t["Value"] for t in _as_list(condition.get("Tag"))}
        else:
            prefix = rule.get("Prefix") or ""
        if key.startswith(prefix) and all(tags.get(k) == v for k, v in wanted.items()):
            matching.append(rule)
    return max(matching, key=lambda r: int(r.get("Priority") or 0), default=None)


def _enabled(rule: dict[str, Any], *path: str) -> bool:
    node: Any = rule
    for name in path:
        node = (node or {}).get(name) if isinstance(node, dict) else None
    return node == "Enabled"


class ReplicationRuntime:
    regional = False

    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self._hooks = Hooks()
        self._work: queue.Queue = queue.Queue()
        self._local = threading.local()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        runtime = self
        original = s3_notifications.send_event

        def send_event(account_id: str, event_name: Any, bucket: Any, key: Any) -> None:
            original(account_id, event_name, bucket, key)
            runtime.observe(account_id, str(getattr(event_name, "value", event_name)), bucket, key)

        self._hooks.install(s3_notifications, "send_event", send_event)
        original_response = FakeKey.response_dict

        def response_dict(key: FakeKey) -> dict[str, Any]:
            headers = original_response.fget(key)
            status = getattr(key, STATUS, None)
            if status:
                headers["x-amz-replication-status"] = status
            return headers

        self._hooks.install(FakeKey, "response_dict", property(response_dict))
        self._thread = threading.Thread(target=self._run, name="s3-replication", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._work.put(None)  # drained first: what was written before the stop replicates
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._hooks.restore()

    def observe(self, account_id: str, event: str, bucket: Any, key: Any) -> None:
        """Queue the replication of `key` if its bucket's configuration asks for it."""
        replication = getattr(bucket, "replication", None)
        if not replication or getattr(self._local, "replicating", False):
            return
        if getattr(key, STATUS, None) == "REPLICA":
            return
        if CREATED in event or event.endswith(DELETE_MARKER):
            if CREATED in event:
                setattr(key, STATUS, "PENDING")
            self._work.put((account_id, bucket.name, key.name, key, CREATED in event))

    def _run(self) -> None:
        while True:
            item = self._work.get()
            if item is None:
                return
            account_id, bucket_name, key_name, key, created = item
            try:
                self._replicate(account_id, bucket_name, key_name, key, created)
            except Exception as exc:
                log.warning("replicating s3://%s/%s failed: %s", bucket_name, key_name, exc)
                if created:
                    setattr(key, STATUS, "FAILED")

    def _replicate(
        self, account_id: str, bucket_name: str, key_name: str, key: FakeKey, created: bool
    ) -> None:
        backend = s3_backends[account_id]["aws"]
        bucket = backend.get_bucket(bucket_name)
        rule = rule_for(bucket.replication or {}, key_name, _tags_of(key, backend))
        if rule is None:
            if created:
                delattr(key, STATUS)  # no rule applies: S3 gives it no replication status
            return
        destination = rule["Destination"]["Bucket"].split(":::")[-1]
        target = backend.get_bucket(destination)  # raises if it does not exist
        if target.versioning_status != "Enabled":
            raise RuntimeError(f"destination bucket {destination} is not versioned")
        self._local.replicating = True
        try:
            if not created:
                if _enabled(rule, "DeleteMarkerReplication", "Status"):
                    backend.delete_object(destination, key_name)
                return
            encryption, kms_key_id = key.encryption, None
            if encryption == "aws:kms":
                if not _enabled(
                    rule, "SourceSelectionCriteria", "SseKmsEncryptedObjects", "Status"
                ):
                    delattr(key, STATUS)  # not selected: SSE-KMS objects stay unreplicated
                    return
                kms_key_id = (rule["Destination"].get("EncryptionConfiguration") or {}).get(
                    "ReplicaKmsKeyID"
                )
            replica = backend.put_object(
                destination,
                key_name,
                key.value,
                storage=rule["Destination"].get("StorageClass") or key.storage_class,
                encryption=encryption,
                kms_key_id=kms_key_id,
            )
            replica.set_metadata(dict(key.metadata))
            replica.set_acl(key.acl)
            tags = _tags_of(key, backend)
            if tags:
                backend.put_object_tagging(replica, tags)
            setattr(replica, STATUS, "REPLICA")
        finally:
            self._local.replicating = False
        setattr(key, STATUS, "COMPLETED")
        log.info("replicated s3://%s/%s to s3://%s", bucket_name, key_name, destination)
