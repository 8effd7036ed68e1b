"""A ping that reaches a connection while it closes does not break the close.

trio-websocket answers every ping from its reader task; once the client has sent its Close
frame, wsproto refuses to send the Pong (``LocalProtocolError``), and the reader task dies
with it (python-trio/trio-websocket#184). RFC 6455 §5.5.1: after its Close frame an endpoint
sends nothing more, so there is no Pong owed: leaving the session's block must not raise.
(The reader is gone, so the Close reply goes unread: the close completes within the
session's ``close_timeout``, as with a server that never answers a Close.)
"""

from __future__ import annotations

from functools import partial

import trio
import trio.testing
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Request

import trio_binance


async def ping_while_closing(stream: trio.SocketStream) -> None:
    """A server that answers the client's Close with a Ping first, then its own Close."""
    ws = WSConnection(ConnectionType.SERVER)
    while True:
        data = await stream.receive_some()
        if not data:
            return
        ws.receive_data(data)
        for event in ws.events():
            if isinstance(event, Request):
                await stream.send_all(ws.send(AcceptConnection()))
            elif isinstance(event, CloseConnection):
                # wsproto would not send it now either: write the frame (FIN + ping, 4 bytes).
                await stream.send_all(b"\x89\x04late")
                await stream.send_all(ws.send(event.response()))
                return


async def test_a_ping_during_the_close_handshake_is_not_an_error(
    autojump_clock: trio.testing.MockClock,
) -> None:
    async with trio.open_nursery() as server:
        serve = partial(trio.serve_tcp, ping_while_closing, 0, host="127.0.0.1")
        [listener] = await server.start(serve)
        port = listener.socket.getsockname()[1]
        async with trio_binance.connect(f"ws://127.0.0.1:{port}/ws-api/v3") as session:
            pass  # leaving the block closes the session: the server pings into the close
        assert session.closed
        server.cancel_scope.cancel()
