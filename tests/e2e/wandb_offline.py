"""Read the summary of an offline W&B run from its ``run-*.wandb`` file, without network.

The file is W&B's record log: a 7-byte header (``:W&B``, magic, version), then 32 KiB blocks of
chunks, each with a 7-byte header (crc32, length, type: 1 full, 2 first, 3 middle, 4 last);
each assembled record is a ``wandb_internal_pb2.Record`` protobuf. Test-only: it lets a test
check what W&B would upload.
"""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path
from typing import Any

_BLOCK = 32768
_HEADER = 7


def read_records(path: Path) -> list[bytes]:
    data = Path(path).read_bytes()
    assert data[:4] == b":W&B", f"{path} is not a W&B run file"
    records, pending, pos = [], b"", _HEADER
    while pos + _HEADER <= len(data):
        left = _BLOCK - pos % _BLOCK
        if left < _HEADER:  # block trailer padding
            pos += left
            continue
        _crc, length, kind = struct.unpack("<IHB", data[pos : pos + _HEADER])
        pos += _HEADER
        if length == 0 and kind == 0:
            break
        chunk, pos = data[pos : pos + length], pos + length
        if kind == 1:
            records.append(chunk)
        elif kind == 2:
            pending = chunk
        elif kind == 3:
            pending += chunk
        elif kind == 4:
            records.append(pending + chunk)
            pending = b""
    return records


def run_summary(path: Path, expect: tuple[str, ...] = (), timeout: float = 60.0) -> dict[str, Any]:
    """The run's summary, as W&B would show it: the last value of every key. W&B's service
    process may still be writing the file when the run's ``finish()`` has returned (seen on a
    loaded machine): wait up to ``timeout`` seconds for the keys ``expect``."""
    deadline = time.monotonic() + timeout
    while True:
        summary = _summary(path)
        if all(k in summary for k in expect) or time.monotonic() > deadline:
            return summary
        time.sleep(0.5)


def _summary(path: Path) -> dict[str, Any]:
    from wandb.proto import wandb_internal_pb2 as pb

    summary: dict[str, Any] = {}
    for raw in read_records(path):
        rec = pb.Record()
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") == "summary":
            for item in rec.summary.update:
                summary[item.key or "/".join(item.nested_key)] = json.loads(item.value_json)
    return summary


def run_info(path: Path) -> dict[str, str]:
    """The run's group, job type and name, from its first ``run`` record."""
    from wandb.proto import wandb_internal_pb2 as pb

    for raw in read_records(path):
        rec = pb.Record()
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") == "run":
            r = rec.run
            return {"group": r.run_group, "job_type": r.job_type, "name": r.display_name}
    return {}


def run_artifacts(path: Path) -> list[dict[str, Any]]:
    """The artifacts a run logged: name, type, the file names in each manifest and, by name,
    the local copy of each file that ``wandb sync`` would upload."""
    from wandb.proto import wandb_internal_pb2 as pb

    out = []
    for raw in read_records(path):
        rec = pb.Record()
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") == "artifact":
            a = rec.artifact
            files = sorted(e.path for e in a.manifest.contents)
            local = {e.path: e.local_path for e in a.manifest.contents}
            out.append({"name": a.name, "type": a.type, "files": files, "local": local})
    return out


def run_tags(path: Path) -> list[str]:
    """The tags of the run's first ``run`` record."""
    from wandb.proto import wandb_internal_pb2 as pb

    for raw in read_records(path):
        rec = pb.Record()
        rec.ParseFromString(raw)
        if rec.WhichOneof("record_type") == "run":
            return list(rec.run.tags)
    return []
