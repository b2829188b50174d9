"""Publishing a partition: one commit point, one writer at a time, and a lake that heals itself.

A day's partition is a set of immutable objects plus one pointer:

- every publish has a ``version`` (``20261201T120000Z-1a2b3c4d``); its parts are written as new objects
  ``part-00000-{version}.parquet`` (with ``If-None-Match: *``, so nothing is ever overwritten) and its
  rejects as ``quarantine/…/rejects-{version}.jsonl``;
- ``_manifest.json`` names the parts of the current version and is written last, conditionally: with
  ``If-None-Match: *`` for the day's first publish and ``If-Match`` on the ETag read at the start for the
  next ones. That single PUT is the commit point: before it a reader who follows the manifest sees the old
  version, after it the new one, whatever instant the writer dies at;
- the replaced manifest's bytes are kept at ``_manifests/{sha256}.json`` (before the commit), so every hash a
  report cites stays re-computable, and each ``history`` entry names it (``old_manifest_sha256``);
- after the commit the old version's parts are deleted, and so is anything an unfinished publish left.

One writer per day: a publisher first takes ``_lease.json`` (created with ``If-None-Match: *``, with an
expiry). A second publisher of the same day waits for it (``lease_wait`` seconds, then a retryable
:class:`PartitionBusyError`); an expired lease, or one its own ``owner`` (the same task, retried after it was
killed) left, is taken over with ``If-Match``. The conditional manifest write backs the lease: a writer that
stalled past its lease and lost it fails with a retryable :class:`PublishConflictError` instead of
overwriting. Of two pulls of a day, the newer one wins: a publish whose ``extracted_at`` (when its pull
began) is older than the published version's changes nothing and says so.

"Unchanged" means more than equal content hashes: the published parts must also still match the manifest
(size and ETag recorded at publish, from one listing). A day whose parts were deleted, truncated or
rewritten is published again (a *repair*, logged and recorded in ``repairs``).

Where each step lives: ``commit`` (the publish: decide, upload, commit), ``lease`` (one writer per day),
``upload`` (new objects, never overwritten), ``garbage`` (what no manifest names), ``state`` (the version
read at the start, which pull is newer), ``errors``.
"""

from airflow_provider_vobiz.lake.publish.commit import publish_partition
from airflow_provider_vobiz.lake.publish.errors import PartitionBusyError, PublishConflictError, PublishError
from airflow_provider_vobiz.lake.publish.garbage import collect_garbage
from airflow_provider_vobiz.lake.publish.lease import (
    DEFAULT_LEASE_SECONDS,
    DEFAULT_LEASE_WAIT,
    Lease,
    acquire_lease,
    default_owner,
    release_lease,
    still_held,
)
from airflow_provider_vobiz.lake.publish.state import PublishResult, new_version

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "DEFAULT_LEASE_WAIT",
    "Lease",
    "PartitionBusyError",
    "PublishConflictError",
    "PublishError",
    "PublishResult",
    "acquire_lease",
    "collect_garbage",
    "default_owner",
    "new_version",
    "publish_partition",
    "release_lease",
    "still_held",
]
