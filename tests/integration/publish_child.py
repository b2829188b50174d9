"""A fork server for the crash tests: imports the provider once, then forks one child per publish.

Reads one JSON command per line on stdin::

    {"lake_uri", "manifest", "parts": [LocalPart fields], "rejects", "owner", "kill_after": N | null}

The child publishes with ``lake.publish.publish_partition`` against the real S3 server and, through a botocore
``before-send`` hook, SIGKILLs itself just before its request number ``kill_after + 1`` goes out (so exactly
``kill_after`` requests reached S3). The server answers one JSON line per command:
``{"killed": bool, "requests": n}`` (``requests``: how many a publish that ran to the end made).
"""

from __future__ import annotations

import json
import os
import signal
import sys


def _child(command: dict, report_fd: int) -> None:
    from airflow_provider_vobiz.lake.paths import LakeLayout
    from airflow_provider_vobiz.lake.publish import publish_partition
    from airflow_provider_vobiz.lake.storage import LakeStorage
    from airflow_provider_vobiz.lake.writer import LocalPart

    layout = LakeLayout.from_uri(command["lake_uri"])
    storage = LakeStorage("aws_default", layout.bucket)
    sent = 0
    kill_after = command["kill_after"]

    def before_send(**_kwargs):
        nonlocal sent
        if kill_after is not None and sent >= kill_after:
            os.kill(os.getpid(), signal.SIGKILL)
        sent += 1

    storage.client.meta.events.register("before-send.s3", before_send)
    parts = [LocalPart(**p) for p in command["parts"]]
    publish_partition(storage, layout, command["manifest"], parts, command["rejects"], owner=command["owner"])
    os.write(report_fd, str(sent).encode())


def main() -> None:
    # Answers go to the real stdout; everything else printed (logs) goes to stderr.
    answers = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    # Import what a publish needs before forking, so each child starts in milliseconds.
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook  # noqa: F401

    import airflow_provider_vobiz.lake.publish  # noqa: F401

    for line in sys.stdin:
        command = json.loads(line)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            code = 0
            try:
                _child(command, write_fd)
            except BaseException as err:  # reported to the test, which fails on it
                os.write(write_fd, f"error: {err!r}".encode())
                code = 1
            os._exit(code)
        os.close(write_fd)
        report = b""
        while chunk := os.read(read_fd, 4096):
            report += chunk
        os.close(read_fd)
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        answer = {"killed": killed, "report": report.decode(), "exit": os.waitstatus_to_exitcode(status)}
        answers.write(json.dumps(answer) + "\n")
        answers.flush()


if __name__ == "__main__":
    main()
