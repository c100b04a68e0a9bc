"""Chat-export uploads: ``POST /communities/{slug}/imports`` with the file, then poll.

The upload is written to a temporary directory under its own file name (IRC logs carry
their date in it), and imported in a background thread by the same code as ``qunzhu import``
(``qunzhu.importing.import_file``). ``GET …/imports/{id}`` answers the bytes read so far
and, when done, the summary (or the error that stopped it). Jobs are kept in this process's
memory: a restart forgets them, never the data, and re-uploading the file adds nothing twice.
Admins and owners may import (``manage``): an import creates groups and members.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi import Path as PathParam
from pydantic import BaseModel
from sqlalchemy.orm import Session

from qunzhu.auth.audit import record
from qunzhu.http.deps import CommunityAccess, get_store, require
from qunzhu.http.errors import ERROR_RESPONSES, ApiError
from qunzhu.http.ownership import IdScope
from qunzhu.store.models import utcnow
from qunzhu.store.session import Store

router = APIRouter(responses=ERROR_RESPONSES)

FORMATS = ("auto", "wechat-csv", "telegram-json", "qq-txt", "whatsapp-txt", "discord-json", "irc")
_SAFE_NAME = re.compile(r"[^\w.\-#\[\] ]+")
_CHUNK = 1 << 20
_STATE_LOCK = threading.Lock()
_KEEP_JOBS = 200  # per process; the oldest finished jobs are forgotten first


class ImportJobOut(BaseModel):
    id: str
    status: Literal["running", "done", "failed"]
    file: str
    group: str
    format: str
    bytes_total: int
    bytes_read: int
    progress: float
    started_at: datetime
    finished_at: datetime | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None


@dataclass
class _Job:
    id: str
    community_id: int
    file: str
    group: str
    format: str
    bytes_total: int
    started_at: datetime = field(default_factory=utcnow)
    bytes_read: int = 0
    status: Literal["running", "done", "failed"] = "running"
    finished_at: datetime | None = None
    error: str | None = None
    summary: dict[str, Any] | None = None

    def out(self) -> ImportJobOut:
        done = self.status != "running"
        share = 1.0 if done else self.bytes_read / self.bytes_total if self.bytes_total else 0.0
        return ImportJobOut(
            id=self.id,
            status=self.status,
            file=self.file,
            group=self.group,
            format=self.format,
            bytes_total=self.bytes_total,
            bytes_read=self.bytes_read,
            progress=round(min(share, 1.0), 4),
            started_at=self.started_at,
            finished_at=self.finished_at,
            error=self.error,
            summary=self.summary,
        )


class _Jobs:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.jobs: dict[str, _Job] = {}

    def add(self, job: _Job) -> None:
        with self.lock:
            finished = [j for j in self.jobs.values() if j.status != "running"]
            for old in sorted(finished, key=lambda j: j.started_at)[
                : max(0, len(self.jobs) - _KEEP_JOBS + 1)
            ]:
                del self.jobs[old.id]
            self.jobs[job.id] = job

    def get(self, community_id: int, job_id: str) -> _Job:
        job = self.jobs.get(job_id)
        if job is None or job.community_id != community_id:
            raise ApiError(404, "not_found", f"no import {job_id!r} in this community")
        return job


def _jobs(request: Request) -> _Jobs:
    state = request.app.state
    with _STATE_LOCK:
        if not hasattr(state, "import_jobs"):
            state.import_jobs = _Jobs()
    jobs: _Jobs = state.import_jobs
    return jobs


def _job_of_community(session: Session, scope: IdScope, raw: str) -> bool:
    """Whether the import job ``raw`` was started in the scope's community (jobs live in
    this process's memory, not in the database)."""
    job = _jobs(scope.request).jobs.get(raw)
    return job is not None and job.community_id == scope.community_id


def _run(
    store: Store,
    job: _Job,
    path: Path,
    slug: str,
    zones: tuple[str | None, str | None],
    operator: int,
) -> None:
    """``zones``: the upload's ``tz`` and ``date_order`` (both optional)."""
    tz, date_order = zones
    from qunzhu.adapters.importers import ImportFormatError
    from qunzhu.importing import import_file

    def advance(n: int) -> None:
        job.bytes_read += n

    try:
        summary = import_file(
            store,
            path,
            community=slug,
            group=job.group,
            fmt=job.format,
            tz=tz,
            date_order=date_order,
            progress=advance,
            source=job.file,
        )
        # audited before the job says "done": a caller polling for done finds the entry there
        with store.unit_of_work() as session:
            record(
                session,
                "imports.run",
                source="api",
                operator_id=operator,
                community_id=job.community_id,
                target=job.file,
                detail={k: summary[k] for k in ("format", "messages", "added", "quarantined")},
            )
        job.summary, job.format, job.status = summary, summary["format"], "done"
    except ImportFormatError as exc:
        job.error, job.status = str(exc), "failed"
    except Exception as exc:  # the thread has no caller: the job carries the failure
        job.error, job.status = f"{type(exc).__name__}: {exc}", "failed"
    finally:
        job.finished_at = utcnow()
        shutil.rmtree(path.parent, ignore_errors=True)


@router.post(
    "/communities/{slug}/imports",
    tags=["imports"],
    status_code=202,
    summary="Upload a chat export; it is imported in the background",
    responses={202: {"description": "Accepted: poll the job for progress and the summary"}},
)
def start_import(
    request: Request,
    slug: str,
    file: UploadFile = File(
        ...,
        description="The export: WeChat CSV, Telegram JSON, QQ or "
        "WhatsApp text, DiscordChatExporter JSON, or an IRC log",
    ),
    group: str = Form(..., min_length=1, max_length=200, description="Group id in the community"),
    format: str = Form("auto", description=" | ".join(FORMATS)),
    tz: str | None = Form(None, description="IANA zone of times written without one"),
    date_order: str | None = Form(
        None,
        description="dmy | mdy | ymd: the order of WhatsApp dates when the file cannot tell",
    ),
    access: CommunityAccess = Depends(require("manage")),
) -> ImportJobOut:
    if format not in FORMATS:
        raise ApiError(
            422, "bad_format", f"format {format!r}: one of {', '.join(FORMATS)}", field="format"
        )
    if date_order and date_order not in ("dmy", "mdy", "ymd"):
        raise ApiError(
            422, "bad_date_order", f"date_order {date_order!r}: one of dmy, mdy, ymd",
            field="date_order",
        )  # fmt: skip
    if tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(
                422, "bad_timezone", f"tz {tz!r}: not an IANA time zone", field="tz"
            ) from None
    name = _SAFE_NAME.sub("_", Path(file.filename or "upload").name).strip(" .") or "upload"
    folder = Path(tempfile.mkdtemp(prefix="qunzhu-import-"))
    path = folder / name
    with path.open("wb") as out:
        while chunk := file.file.read(_CHUNK):
            out.write(chunk)
    job = _Job(
        id=uuid.uuid4().hex,
        community_id=access.community.id,
        file=name,
        group=group,
        format=format,
        bytes_total=path.stat().st_size,
    )
    _jobs(request).add(job)
    worker = threading.Thread(
        target=_run,
        args=(
            get_store(request),
            job,
            path,
            access.community.slug,
            (tz, date_order or None),
            access.caller.operator_id,
        ),
        name=f"import-{job.id[:8]}",
        daemon=True,
    )
    worker.start()
    return job.out()


@router.get(
    "/communities/{slug}/imports/{job_id}",
    tags=["imports"],
    summary="Progress of an import, and its summary when done",
)
def get_import(
    request: Request,
    slug: str,
    job_id: str = PathParam(max_length=64, description="The job's id from the upload's answer"),
    access: CommunityAccess = Depends(require("read", ids={"job_id": _job_of_community})),
) -> ImportJobOut:
    return _jobs(request).get(access.community.id, job_id).out()


@router.get(
    "/communities/{slug}/imports",
    tags=["imports"],
    summary="Imports of this community since the server started",
)
def list_imports(
    request: Request, slug: str, access: CommunityAccess = Depends(require("read"))
) -> list[ImportJobOut]:
    jobs = [j for j in _jobs(request).jobs.values() if j.community_id == access.community.id]
    return [j.out() for j in sorted(jobs, key=lambda j: j.started_at, reverse=True)]
