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

import base64
import threading
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


class WcfClient:
    """One connection: calls on the command socket (one at a time: Pair1 pairs each request
    with the next answer), WeChat's messages read from the message socket."""

    def __init__(self, host: str, port: int, timeout_ms: int = TIMEOUT_MS) -> None:
        self.host = host
        self.port = port
        self.timeout_ms = timeout_ms
        self.cmd: pynng.Pair1 | None = None
        self.msg: pynng.Pair1 | None = None
        self.dropped = threading.Event()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def _socket(self) -> pynng.Pair1:
        sock = pynng.Pair1(send_timeout=self.timeout_ms, recv_timeout=self.timeout_ms)
        # no redial in the background: a dropped link must end this connection, or messages
        # would go to a socket about to be closed
        sock.reconnect_time_min = sock.reconnect_time_max = 3_600_000
        # nng would redial in the background and hide the drop: seen here, the runner
        # reconnects, asks for messages again and records the reconnect
        sock.add_post_pipe_remove_cb(lambda pipe: self.dropped.set())
        return sock

    def open(self) -> None:
        self.cmd = self._socket()
        try:
            self.cmd.dial(self.url, block=True)
        except pynng.NNGException as exc:
            self.close()
            raise ConnectorError(f"WeChatFerry at {self.url}: {exc}") from exc

    def listen(self) -> None:
        """Dial the message socket (after ``FUNC_ENABLE_RECV_TXT``)."""
        self.msg = self._socket()
        url = f"tcp://{self.host}:{self.port + 1}"
        try:
            self.msg.dial(url, block=True)
        except pynng.NNGException as exc:
            raise ConnectorError(f"WeChatFerry messages at {url}: {exc}") from exc

    def receive(self, timeout_ms: int) -> Any | None:
        """The next ``WxMsg``, or None when none came within ``timeout_ms``."""
        if self.msg is None:
            raise ConnectorError("WeChatFerry: the message socket is not open")
        self.msg.recv_timeout = timeout_ms
        try:
            data = self.msg.recv()
        except pynng.Timeout:
            return None
        except pynng.NNGException as exc:
            raise ConnectorError(f"WeChatFerry messages: {exc}") from exc
        rsp = wcf_pb2.Response()
        try:
            rsp.ParseFromString(data)
        except Exception as exc:  # a broken frame: the stream cannot be trusted after it
            raise ConnectorError(
                f"WeChatFerry sent a message that is not a Response: {exc}"
            ) from exc
        return rsp.wxmsg if rsp.HasField("wxmsg") else None

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
            rsp = wcf_pb2.Response()
            try:
                rsp.ParseFromString(data)
            except Exception as exc:
                raise ConnectorError(
                    f"WeChatFerry sent a message that is not a Response: {exc}"
                ) from exc
            if rsp.HasField("wxmsg"):
                out.append(rsp.wxmsg)
        return out

    def call(self, request: Any) -> Any:
        name = wcf_pb2.Functions.Name(request.func)
        if self.cmd is None:
            raise ConnectorError(f"{name}: not connected to WeChatFerry")
        with self._lock:
            try:
                self.cmd.send(request.SerializeToString())
                data = self.cmd.recv()
            except pynng.Timeout as exc:
                raise ConnectorError(f"{name}: no answer within {self.timeout_ms} ms") from exc
            except pynng.NNGException as exc:
                raise ConnectorError(f"{name}: {exc}") from exc
        rsp = wcf_pb2.Response()
        rsp.ParseFromString(data)
        return rsp

    def request(self, func: int, **fields: Any) -> Any:
        """``Request(func=…)`` with one of its ``msg`` members set from ``fields``:
        ``txt={…}``, ``file={…}``, ``m={…}``, ``query={…}``, ``flag=…``, ``str=…``."""
        req = wcf_pb2.Request(func=func)
        for name, value in fields.items():
            if isinstance(value, dict):
                getattr(req, name).CopyFrom(getattr(wcf_pb2, _MEMBERS[name])(**value))
            else:
                setattr(req, name, value)
        return self.call(req)

    # -- the calls the connector makes ----------------------------------------------------
    def is_login(self) -> bool:
        return bool(self.request(wcf_pb2.FUNC_IS_LOGIN).status == 1)

    def self_wxid(self) -> str:
        return str(self.request(wcf_pb2.FUNC_GET_SELF_WXID).str)

    def enable_messages(self) -> bool:
        return bool(self.request(wcf_pb2.FUNC_ENABLE_RECV_TXT, flag=False).status == 0)

    def query(self, db: str, sql: str) -> list[dict[str, Any]]:
        rsp = self.request(wcf_pb2.FUNC_EXEC_DB_QUERY, query={"db": db, "sql": sql})
        return [{f.column: _decode(f.type, f.content) for f in row.fields} for row in rsp.rows.rows]

    def room(self, roomid: str) -> tuple[dict[str, str], list[str], str]:
        """(wxid → display name, admins, owner) of a group, from WeChat's own database
        as the package reads it: ``ChatRoom.RoomData`` (a ``RoomData`` protobuf) and
        ``Contact.NickName`` for members without a group nickname."""
        quoted = roomid.replace("'", "''")
        found = self.query(
            "MicroMsg.db",
            f"SELECT RoomData, Reserved2 FROM ChatRoom WHERE ChatRoomName = '{quoted}';",
        )
        if not found or not found[0].get("RoomData"):
            return {}, [], ""
        data = wcf_pb2.RoomData()
        blob = found[0]["RoomData"]
        data.ParseFromString(blob if isinstance(blob, bytes) else base64.b64decode(blob))
        owner = str(found[0].get("Reserved2") or "")
        nicks: dict[str, str] = {}
        if any(not m.name for m in data.members):
            wanted = ",".join("'" + m.wxid.replace("'", "''") + "'" for m in data.members)
            rows = self.query(
                "MicroMsg.db",
                f"SELECT UserName, NickName FROM Contact WHERE UserName IN ({wanted});",
            )
            nicks = {str(r["UserName"]): str(r["NickName"] or "") for r in rows}
        members = {m.wxid: m.name or nicks.get(m.wxid, "") for m in data.members}
        return members, list(data.admins), owner

    def close(self) -> None:
        for sock in (self.msg, self.cmd):
            if sock is not None:
                sock.close()
        self.msg = self.cmd = None


_MEMBERS = {"txt": "TextMsg", "file": "PathMsg", "m": "MemberMgmt", "query": "DbQuery"}
