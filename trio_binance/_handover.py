"""Messages from trio-websocket's reader task straight to a handler: no task step per message.

trio-websocket's reader sends each message into a memory channel and yields after every one,
so whoever reads the channel pays a task step per message. :func:`install` puts a
:class:`Handover` in front of the connection's two channel ends (private attributes of
trio-websocket 0.12: ``_send_channel``, which the reader sends to and the close paths close,
and ``_recv_channel``, which ``get_message`` reads and the 1009 path closes). Until a handler is
set, messages go through the channel exactly as before; once one is set, the reader calls it
with each message, in the reader task, and the channel is left empty.
"""

from __future__ import annotations

from collections.abc import Callable

import trio
import trio_websocket

Handler = Callable[[str | bytes], None]


class Handover:
    """Where the reader's messages go: the channel, or the handler once one is set.

    ``ended`` is set when the connection closes either channel end (a close frame, a lost
    connection, a message over the size limit) or the handler raises (``failure``); from
    then on messages are dropped, as trio-websocket drops them once its channel is closed.
    """

    def __init__(
        self,
        send_channel: trio.MemorySendChannel[str | bytes],
        receive_channel: trio.MemoryReceiveChannel[str | bytes],
    ) -> None:
        self.send_channel = send_channel
        self.receive_channel = receive_channel
        self.handler: Handler | None = None
        self.failure: Exception | None = None
        self.ended = trio.Event()

    def take_queued(self, handle: Handler) -> None:
        """Hand what the channel holds to ``handle``, then the messages to come."""
        while True:
            try:
                message = self.receive_channel.receive_nowait()
            except (trio.WouldBlock, trio.EndOfChannel, trio.ClosedResourceError):
                break
            handle(message)
        self.handler = handle

    # --- what the reader sees in place of its channel's send end ---

    async def send(self, message: str | bytes) -> None:
        if self.ended.is_set():
            return
        if self.handler is None:
            await self.send_channel.send(message)
            return
        try:
            self.handler(message)
        except Exception as exc:  # the handler's own failure: the caller of deliver gets it
            self.failure = exc
            self.ended.set()

    async def aclose(self) -> None:
        self.ended.set()
        await self.send_channel.aclose()


class _ReceiveEnd:
    """The channel's receive end as ``get_message`` and the close paths use it."""

    def __init__(self, handover: Handover) -> None:
        self._handover = handover

    async def receive(self) -> str | bytes:
        return await self._handover.receive_channel.receive()

    async def aclose(self) -> None:
        self._handover.ended.set()
        await self._handover.receive_channel.aclose()


def install(ws: trio_websocket.WebSocketConnection) -> Handover | None:
    """Put a :class:`Handover` in front of ``ws``'s message channel and return it; ``None``
    if this trio-websocket keeps its channel some other way (the caller then reads it)."""
    send_channel = getattr(ws, "_send_channel", None)
    receive_channel = getattr(ws, "_recv_channel", None)
    if not (
        isinstance(send_channel, trio.MemorySendChannel)
        and isinstance(receive_channel, trio.MemoryReceiveChannel)
    ):
        return None
    handover = Handover(send_channel, receive_channel)
    ws._send_channel = handover  # type: ignore[assignment]
    ws._recv_channel = _ReceiveEnd(handover)  # type: ignore[assignment]
    return handover
