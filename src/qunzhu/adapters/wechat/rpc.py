"""A client of the WeChatFerry RPC server that runs beside the WeChat client on a Windows PC.

The protocol is the one the ``wcferry`` package defines: protobuf ``Request``/``Response``
messages (``wcferry.wcf_pb2``) on an nng Pair1 socket at ``tcp://host:port``, and the
messages WeChat receives as ``Response.wxmsg`` on a second Pair1 socket at ``port + 1``
once ``FUNC_ENABLE_RECV_TXT`` was asked.

Why not the package's own ``Wcf`` class: it starts and injects WeChat when no host is
given, and on a failed connection or call it ends the whole process (``os._exit``,
``sys.exit``), which a server running many connectors cannot take. Only its generated
protobuf module is used here; it imports on Linux (pure Python, protobuf ≥ 4.25).
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pynng
from wcferry import wcf_pb2

from qunzhu.adapters.base import ConnectorError

TIMEOUT_MS = 5000  # the package's own send and receive timeout


def _decode(kind: int, content: bytes) -> Any:
    """A database field as WeChatFerry types it: 1 int, 2 float, 3 text, 4 blob, 5 null."""
    if kind == 1:
        return int(content.decode() or 0)
    if kind == 2:
        return float(content.decode() or 0)
    if kind == 3:
        return content.decode("utf-8", "replace")
    if kind == 4:
        return content
    return None


RECEIVE_MS = 500
"""How long one wait for a message lasts: a stop or a drop is noticed within it."""
RECEIVE_BUFFER = 1024
"""Messages nng keeps received for the reader (nng's default is none: each message waits in
the sender until read, one at a time, so a reader a moment behind could never take more than
one at once; with the buffer it takes all that came meanwhile in one batch)."""


def build_request(func: int, fields: dict[str, Any]) -> Any:
    """``Request(func=…)`` with one of its ``msg`` members set from ``fields``:
    ``txt={…}``, ``file={…}``, ``m={…}``, ``query={…}``, ``flag=…``, ``str=…``."""
    req = wcf_pb2.Request(func=func)
    for name, value in fields.items():
        if isinstance(value, dict):
            getattr(req, name).CopyFrom(getattr(wcf_pb2, _MEMBERS[name])(**value))
        else:
            setattr(req, name, value)
    return req


def _answer_to(request: Any, data: bytes) -> Any | None:
    """The ``Response`` in ``data``, or None when it answers another function: an answer
    that came after its call had given up (Pair1 pairs a request with the next answer,
    so it must not be taken for the answer of the call after it)."""
    rsp = wcf_pb2.Response()
    rsp.ParseFromString(data)
    if rsp.func and rsp.func != request.func:
        return None
    return rsp


def _rows(rsp: Any) -> list[dict[str, Any]]:
    return [{f.column: _decode(f.type, f.content) for f in row.fields} for row in rsp.rows.rows]


def _query(db: str, sql: str) -> dict[str, Any]:
    return {"query": {"db": db, "sql": sql}}


def _room_sql(roomid: str) -> dict[str, Any]:
    quoted = roomid.replace("'", "''")
    return _query(
        "MicroMsg.db", f"SELECT RoomData, Reserved2 FROM ChatRoom WHERE ChatRoomName = '{quoted}';"
    )


def _room_data(found: list[dict[str, Any]]) -> tuple[Any, str] | None:
    if not found or not found[0].get("RoomData"):
        return None
    data = wcf_pb2.RoomData()
    blob = found[0]["RoomData"]
    data.ParseFromString(blob if isinstance(blob, bytes) else base64.b64decode(blob))
    return data, str(found[0].get("Reserved2") or "")


def _nick_sql(data: Any) -> dict[str, Any] | None:
    """The query for the members' own nicknames, when some have no group nickname."""
    if all(m.name for m in data.members):
        return None
    wanted = ",".join("'" + m.wxid.replace("'", "''") + "'" for m in data.members)
    return _query(
        "MicroMsg.db", f"SELECT UserName, NickName FROM Contact WHERE UserName IN ({wanted});"
    )


Room = tuple[dict[str, str], list[str], str]
"""(wxid → display name, admins, owner) of a group."""


def _room(data: Any, owner: str, nick_rows: list[dict[str, Any]]) -> Room:
    nicks = {str(r["UserName"]): str(r["NickName"] or "") for r in nick_rows}
    members = {m.wxid: m.name or nicks.get(m.wxid, "") for m in data.members}
    return members, list(data.admins), owner


ALL_ROOMS = _query("MicroMsg.db", "SELECT ChatRoomName, RoomData, Reserved2 FROM ChatRoom;")
"""Every group the account is in, with its member list: one query at connect."""


def _rooms_data(rows: list[dict[str, Any]]) -> dict[str, tuple[Any, str]]:
    out: dict[str, tuple[Any, str]] = {}
    for row in rows:
        roomid = str(row.get("ChatRoomName") or "")
        found = _room_data([row]) if roomid.endswith("@chatroom") else None
        if found is not None:
            out[roomid] = found
    return out


def room_of(request: Callable[..., Any], roomid: str) -> Room:
    """A group's members, admins and owner from WeChat's own database as the package reads
    it: ``ChatRoom.RoomData`` (a ``RoomData`` protobuf) and ``Contact.NickName`` for
    members without a group nickname; ``request(func, **fields)`` makes the calls."""
    found = _room_data(_rows(request(wcf_pb2.FUNC_EXEC_DB_QUERY, **_room_sql(roomid))))
    if found is None:
        return {}, [], ""
    data, owner = found
    nick = _nick_sql(data)
    nick_rows = _rows(request(wcf_pb2.FUNC_EXEC_DB_QUERY, **nick)) if nick else []
    return _room(data, owner, nick_rows)


class WcfClient:
    """One connection: calls on the command socket (one at a time: Pair1 pairs each request
    with the next answer), WeChat's messages read from the message socket.

    Once :meth:`attach`-ed to the event loop that reads the messages, every call goes
    through that loop (``acall`` there; ``call`` from another thread hands it over): one
    socket, one queue of calls, whichever thread asks."""

    def __init__(self, host: str, port: int, timeout_ms: int = TIMEOUT_MS) -> None:
        self.host = host
        self.port = port
        self.timeout_ms = timeout_ms
        self.cmd: pynng.Pair1 | None = None
        self.msg: pynng.Pair1 | None = None
        self.dropped = threading.Event()
        self._lock = threading.Lock()
        self.loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None
        self._alock: asyncio.Lock | None = None

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def _socket(self, recv_timeout_ms: int) -> pynng.Pair1:
        sock = pynng.Pair1(send_timeout=self.timeout_ms, recv_timeout=recv_timeout_ms)
        # no redial in the background: a dropped link must end this connection, or messages
        # would go to a socket about to be closed
        sock.reconnect_time_min = sock.reconnect_time_max = 3_600_000
        # nng would redial in the background and hide the drop: seen here, the runner
        # reconnects, asks for messages again and records the reconnect
        sock.add_post_pipe_remove_cb(lambda pipe: self.dropped.set())
        return sock

    def open(self) -> None:
        self.cmd = self._socket(self.timeout_ms)
        try:
            self.cmd.dial(self.url, block=True)
        except pynng.NNGException as exc:
            self.close()
            raise ConnectorError(f"WeChatFerry at {self.url}: {exc}") from exc

    def listen(self) -> None:
        """Dial the message socket (after ``FUNC_ENABLE_RECV_TXT``). Its receive timeout is
        set once, here: setting it on each receive cost more than the receive."""
        self.msg = self._socket(RECEIVE_MS)
        self.msg.recv_buffer_size = RECEIVE_BUFFER
        url = f"tcp://{self.host}:{self.port + 1}"
        try:
            self.msg.dial(url, block=True)
        except pynng.NNGException as exc:
            raise ConnectorError(f"WeChatFerry messages at {url}: {exc}") from exc

    # -- messages ---------------------------------------------------------------------
    async def areceive(self) -> Any | None:
        """The next ``WxMsg`` as soon as it comes (no polling), or None when none came
        within ``RECEIVE_MS``."""
        if self.msg is None:
            raise ConnectorError("WeChatFerry: the message socket is not open")
        try:
            data = await self.msg.arecv()
        except pynng.Timeout:
            return None
        except pynng.NNGException as exc:
            raise ConnectorError(f"WeChatFerry messages: {exc}") from exc
        return _wxmsg(data)

    def waiting(self, limit: int) -> list[Any]:
        """The messages already received, up to ``limit``, without waiting for more."""
        out: list[Any] = []
        while self.msg is not None and len(out) < limit:
            try:
                data = self.msg.recv(block=False)
            except pynng.TryAgain:
                break
            except pynng.NNGException as exc:
                raise ConnectorError(f"WeChatFerry messages: {exc}") from exc
            msg = _wxmsg(data)
            if msg is not None:
                out.append(msg)
        return out

    # -- calls ------------------------------------------------------------------------
    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """From now on the calls go through ``loop`` (called on it)."""
        self._alock = asyncio.Lock()
        self._loop_thread = threading.get_ident()
        self.loop = loop

    def detach(self) -> None:
        self.loop = None
        self._loop_thread = None

    def call(self, request: Any) -> Any:
        name = wcf_pb2.Functions.Name(request.func)
        loop = self.loop
        if loop is not None:
            if threading.get_ident() == self._loop_thread:
                raise RuntimeError(f"{name}: a blocking call on the loop that serves calls")
            future: Future[Any] | None = None
            try:
                future = asyncio.run_coroutine_threadsafe(self.acall(request), loop)
                return future.result(self.timeout_ms / 1000 * 2 + 1)
            except ConnectorError:
                raise
            except Exception as exc:  # timed out, or the loop ended: the caller retries
                if future is not None:
                    future.cancel()
                raise ConnectorError(f"{name}: {type(exc).__name__}: {exc}") from exc
        if self.cmd is None:
            raise ConnectorError(f"{name}: not connected to WeChatFerry")
        with self._lock:
            try:
                self.cmd.send(request.SerializeToString())
                while (rsp := _answer_to(request, self.cmd.recv())) is None:
                    pass
            except pynng.Timeout as exc:
                raise ConnectorError(f"{name}: no answer within {self.timeout_ms} ms") from exc
            except pynng.NNGException as exc:
                raise ConnectorError(f"{name}: {exc}") from exc
        return rsp

    async def acall(self, request: Any) -> Any:
        """``call`` on the attached loop, without blocking it."""
        name = wcf_pb2.Functions.Name(request.func)
        cmd, lock = self.cmd, self._alock
        if cmd is None or lock is None:
            raise ConnectorError(f"{name}: not connected to WeChatFerry")
        async with lock:
            try:
                data = request.SerializeToString()
                try:  # the pipe takes it at once when connected: no asynchronous send then
                    cmd.send(data, block=False)
                except pynng.TryAgain:
                    await cmd.asend(data)
                while (rsp := _answer_to(request, await cmd.arecv())) is None:
                    pass
            except pynng.Timeout as exc:
                raise ConnectorError(f"{name}: no answer within {self.timeout_ms} ms") from exc
            except pynng.NNGException as exc:
                raise ConnectorError(f"{name}: {exc}") from exc
        return rsp

    def request(self, func: int, **fields: Any) -> Any:
        """``call`` of ``build_request(func, fields)``."""
        return self.call(build_request(func, fields))

    async def arequest(self, func: int, **fields: Any) -> Any:
        return await self.acall(build_request(func, fields))

    # -- the calls the connector makes ----------------------------------------------------
    def is_login(self) -> bool:
        return bool(self.request(wcf_pb2.FUNC_IS_LOGIN).status == 1)

    def self_wxid(self) -> str:
        return str(self.request(wcf_pb2.FUNC_GET_SELF_WXID).str)

    def enable_messages(self) -> bool:
        return bool(self.request(wcf_pb2.FUNC_ENABLE_RECV_TXT, flag=False).status == 0)

    def query(self, db: str, sql: str) -> list[dict[str, Any]]:
        return _rows(self.request(wcf_pb2.FUNC_EXEC_DB_QUERY, **_query(db, sql)))

    def room(self, roomid: str) -> Room:
        return room_of(self.request, roomid)

    async def aroom(self, roomid: str) -> Room:
        """``room`` on the attached loop."""
        query = wcf_pb2.FUNC_EXEC_DB_QUERY
        found = _room_data(_rows(await self.arequest(query, **_room_sql(roomid))))
        if found is None:
            return {}, [], ""
        return await self._amembers(*found)

    async def arooms(self) -> dict[str, Room]:
        """Every group's members, admins and owner, on the attached loop: one query for
        all the groups, one more per group whose members lack a group nickname."""
        rows = _rows(await self.arequest(wcf_pb2.FUNC_EXEC_DB_QUERY, **ALL_ROOMS))
        return {
            roomid: await self._amembers(data, owner)
            for roomid, (data, owner) in _rooms_data(rows).items()
        }

    async def _amembers(self, data: Any, owner: str) -> Room:
        """A group's ``RoomData`` made a Room: its members' own nicknames asked for where
        some have no group nickname."""
        nick = _nick_sql(data)
        rows = _rows(await self.arequest(wcf_pb2.FUNC_EXEC_DB_QUERY, **nick)) if nick else []
        return _room(data, owner, rows)

    def close(self) -> None:
        for sock in (self.msg, self.cmd):
            if sock is not None:
                sock.close()
        self.msg = self.cmd = None


def _wxmsg(data: bytes) -> Any | None:
    rsp = wcf_pb2.Response()
    try:
        rsp.ParseFromString(data)
    except Exception as exc:  # a broken frame: the stream cannot be trusted after it
        raise ConnectorError(f"WeChatFerry sent a message that is not a Response: {exc}") from exc
    return rsp.wxmsg if rsp.HasField("wxmsg") else None


_MEMBERS = {"txt": "TextMsg", "file": "PathMsg", "m": "MemberMgmt", "query": "DbQuery"}
