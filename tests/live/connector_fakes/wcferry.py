"""A fake WeChatFerry RPC server on 127.0.0.1, speaking the protocol of the ``wcferry``
package: protobuf ``Request``/``Response`` (``wcferry.wcf_pb2``) on an nng Pair1 socket at
``port``, WeChat's messages as ``Response.wxmsg`` on a Pair1 socket at ``port + 1``.

Learned from the package's own client (``wcferry/client.py`` of wcferry 39.6: the calls,
the fields each sets, status 0 for a sent message and 1 for a managed member, member lists
read from ``MicroMsg.db`` as a ``RoomData`` blob) and WeChat's system lines as exports
show them. The content here is our own.

Like the real server it echoes what the account sends back as its own message
(``is_self``). ``drop()`` closes both sockets and listens again; messages sent on the old
connection are sent again on the next (the server cannot know which ones arrived).
"""

from __future__ import annotations

import itertools
import re
import socket
import threading
import time
from collections import deque
from typing import Any

import pynng
from wcferry import wcf_pb2

ME = "wxid_qz_owner"
_ROOM_SQL = re.compile(r"FROM ChatRoom WHERE ChatRoomName = '(.+?)'")
_ALL_ROOMS_SQL = re.compile(r"SELECT ChatRoomName, RoomData, Reserved2 FROM ChatRoom;")
_CONTACT_SQL = re.compile(r"FROM Contact WHERE UserName IN \((.*)\)")


def _free_pair() -> int:
    """A port p with p and p + 1 free (WeChatFerry takes both)."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        if port >= 65535:
            continue
        try:
            with socket.socket() as second:
                second.bind(("127.0.0.1", port + 1))
            return port
        except OSError:
            continue
    raise RuntimeError("no two consecutive free ports")


def wxmsg(
    msg_id: int,
    room: str,
    sender: str,
    content: str,
    *,
    at: int,
    type_: int = 1,
    xml: str = "",
    is_self: bool = False,
) -> Any:
    return wcf_pb2.WxMsg(
        is_self=is_self,
        is_group=room.endswith("@chatroom"),
        id=msg_id,
        type=type_,
        ts=at,
        roomid=room,
        content=content,
        sender=sender,
        sign="",
        xml=xml or "<msgsource><silence>0</silence></msgsource>",
    )


def system(msg_id: int, room: str, content: str, *, at: int) -> Any:
    return wxmsg(msg_id, room, room, content, at=at, type_=10000)


class FakeWcf:
    def __init__(self, *, me: str = ME, owner: str = ME, admins: tuple[str, ...] = ()) -> None:
        self.me = me
        self.owner = owner
        self.admins = list(admins)
        self.rooms: dict[str, dict[str, str]] = {}  # room → wxid → group nickname
        self.nicknames: dict[str, str] = {}  # Contact.NickName
        self.port = _free_pair()
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.call_times: list[float] = []  # when each call came (a benchmark's clock)
        self.connections = 0
        self._pending: deque[bytes] = deque()
        self._sent: list[bytes] = []
        self._ids = itertools.count(9_000_000_000)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        # report() wakes the pusher at once: no polling interval between a message and
        # its push (what a benchmark's floor measures is the transport, not a sleep)
        self._ready = threading.Condition(self._lock)
        self._sending = threading.Lock()  # a push under way; drop() waits for it
        self._threads: list[threading.Thread] = []
        self.cmd: pynng.Pair1 | None = None
        self.msg: pynng.Pair1 | None = None

    # -- running ----------------------------------------------------------------------
    def __enter__(self) -> FakeWcf:
        self._listen()
        for target in (self._serve, self._push):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        with self._ready:
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(5)
        self._close()

    def _listen(self) -> None:
        self.cmd = pynng.Pair1(recv_timeout=100, send_timeout=1000)
        self.cmd.listen(f"tcp://127.0.0.1:{self.port}")
        self.msg = pynng.Pair1(recv_timeout=100, send_timeout=100)
        self.msg.add_post_pipe_connect_cb(self._connected)
        self.msg.listen(f"tcp://127.0.0.1:{self.port + 1}")

    def _connected(self, pipe: Any) -> None:
        with self._ready:
            self.connections += 1
            self._ready.notify_all()

    def _close(self) -> None:
        for sock in (self.cmd, self.msg):
            if sock is not None:
                sock.close()

    def drop(self) -> None:
        """Close both sockets and listen again; what went out on them is sent again."""
        with self._sending, self._lock:
            self._close()
            self._pending.extendleft(reversed(self._sent))
            self._sent.clear()
            self._listen()

    def wait_connected(self, count: int = 1, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while self.connections < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"no connection {count} within {timeout} s")
            time.sleep(0.02)

    @property
    def unsent(self) -> int:
        """Messages reported and not pushed yet (the reader's buffer full, or no reader)."""
        with self._lock:
            return len(self._pending)

    def report(self, message: Any) -> None:
        data = wcf_pb2.Response(wxmsg=message).SerializeToString()
        with self._ready:
            self._pending.append(data)
            self._ready.notify()

    def _push(self) -> None:
        """Each message as soon as it is reported, one nng message each, as the real server
        sends them; the send happens outside the lock, so report() never waits behind it."""
        while not self._stop.is_set():
            with self._ready:  # a blocking wait for work, woken by report() or a connection
                self._ready.wait_for(
                    lambda: (self._pending and self.connections) or self._stop.is_set(), 0.5
                )
            with self._sending:
                with self._ready:
                    if self._stop.is_set() or not (self._pending and self.connections):
                        continue
                    data, sock = self._pending[0], self.msg
                try:
                    sock.send(data)  # type: ignore[union-attr]
                except pynng.NNGException:  # nobody connected now (a drop): try again
                    failed = True
                else:
                    failed = False
                    with self._ready:
                        self._pending.popleft()
                        self._sent.append(data)
            if failed:
                self._stop.wait(0.01)

    def _serve(self) -> None:
        while not self._stop.is_set():
            sock = self.cmd
            try:
                data = sock.recv() if sock is not None else None
            except pynng.Timeout:  # a blocking receive that gives the stop a look
                continue
            except pynng.NNGException:  # closed by drop(): the new socket in a moment
                self._stop.wait(0.01)
                continue
            if data is None:
                continue
            req = wcf_pb2.Request()
            req.ParseFromString(data)
            rsp = self._answer(req)
            rsp.func = req.func
            try:
                sock.send(rsp.SerializeToString())  # type: ignore[union-attr]
            except pynng.NNGException:
                continue

    # -- the calls --------------------------------------------------------------------
    def called(self, func: str) -> list[dict[str, Any]]:
        return [args for name, args in self.calls if name == func]

    def _answer(self, req: Any) -> Any:
        name = wcf_pb2.Functions.Name(req.func)
        field = req.WhichOneof("msg")
        args: dict[str, Any] = {}
        if field in ("txt", "file", "m", "query"):
            sub = getattr(req, field)
            args = {f.name: v for f, v in sub.ListFields()}
        self.calls.append((name, args))
        self.call_times.append(time.time())
        f = wcf_pb2
        if req.func == f.FUNC_IS_LOGIN:
            return wcf_pb2.Response(status=1)
        if req.func == f.FUNC_GET_SELF_WXID:
            return wcf_pb2.Response(str=self.me)
        if req.func in (f.FUNC_ENABLE_RECV_TXT, f.FUNC_DISABLE_RECV_TXT):
            return wcf_pb2.Response(status=0)
        if req.func in (f.FUNC_SEND_TXT, f.FUNC_SEND_FILE):
            receiver = req.txt.receiver if req.func == f.FUNC_SEND_TXT else req.file.receiver
            content = req.txt.msg if req.func == f.FUNC_SEND_TXT else req.file.path
            kind = 1 if req.func == f.FUNC_SEND_TXT else 49
            self.report(wxmsg(next(self._ids), receiver, self.me, content, at=int(time.time()),
                              type_=kind, is_self=True))  # fmt: skip
            return wcf_pb2.Response(status=0)
        if req.func == f.FUNC_DEL_ROOM_MEMBERS:
            return self._manage(req.m.roomid, req.m.wxids.split(","), remove=True)
        if req.func in (f.FUNC_ADD_ROOM_MEMBERS, f.FUNC_INV_ROOM_MEMBERS):
            return self._manage(req.m.roomid, req.m.wxids.split(","), remove=False)
        if req.func == f.FUNC_EXEC_DB_QUERY:
            return wcf_pb2.Response(rows=self._query(req.query.sql))
        return wcf_pb2.Response(status=-1)

    def _manage(self, room: str, wxids: list[str], *, remove: bool) -> Any:
        if self.me != self.owner and self.me not in self.admins:
            return wcf_pb2.Response(status=-1)
        members = self.rooms.setdefault(room, {})
        for wxid in wxids:
            if remove:
                name = members.pop(wxid, "") or self.nicknames.get(wxid, wxid)
                line = f'你将"{name}"移出了群聊'
                self.report(system(next(self._ids), room, line, at=int(time.time())))
            else:
                members[wxid] = ""
        return wcf_pb2.Response(status=1)

    def _query(self, sql: str) -> Any:
        rows = wcf_pb2.DbRows()
        room = _ROOM_SQL.search(sql)
        if room and room[1] in self.rooms:
            self._room_row(rows, room[1])
        if _ALL_ROOMS_SQL.search(sql):  # every group, as the connector asks at connect
            for roomid in list(self.rooms):
                self._room_row(rows, roomid, named=True)
        contact = _CONTACT_SQL.search(sql)
        if contact:
            for wxid in re.findall(r"'(.*?)'", contact[1]):
                row = rows.rows.add()
                row.fields.add(type=3, column="UserName", content=wxid.encode())
                nick = self.nicknames.get(wxid, "")
                row.fields.add(type=3, column="NickName", content=nick.encode())
        return rows

    def _room_row(self, rows: Any, roomid: str, *, named: bool = False) -> None:
        data = wcf_pb2.RoomData(admins=self.admins)
        for wxid, name in self.rooms[roomid].items():
            member = data.members.add(wxid=wxid, state=0)
            if name:
                member.name = name
        row = rows.rows.add()
        if named:
            row.fields.add(type=3, column="ChatRoomName", content=roomid.encode())
        row.fields.add(type=4, column="RoomData", content=data.SerializeToString())
        row.fields.add(type=3, column="Reserved2", content=self.owner.encode())
