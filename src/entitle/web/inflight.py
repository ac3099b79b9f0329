"""How many requests a server process works on at once: few enough that none of them ever
waits for a database connection, so that the thread pool can never fill with threads that wait.

A request's database work runs in threads of the pool (anyio's 40 by default), in several
steps: the caller is read in one (a sync dependency), the route runs in another, its answer is
checked in a third. A GET keeps its connection from the first step to the route's. With more
requests than connections, the threads could all be taken by steps waiting for a connection
while the requests holding the connections waited for a thread for their next step: nothing
moved until the waits for a connection timed out (30 s, then 500s). 120 GETs at once did that
on both engines (the pool lends 20 connections).

:class:`InFlight` lets at most ``slots`` requests be at work at once; the others queue, in
order (none is refused). A request at work holds at most :data:`AT_ONCE` connections (its
session, and the ledger's own transactions or the limiter's beside it), the background job
threads as many each, and :func:`request_slots` leaves room in the pool for all of them: a
request at work never waits for a connection, and the pool's threads are never all taken by
requests (slots < 40). A request gives its slot back while its body is arriving (it holds no
transaction then: ``context.optional_actor``) and when its answer starts (its session is closed
by then: ``context.db_session``), so a slow client holds none."""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from sqlalchemy import Engine
from sqlalchemy.pool import QueuePool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

AT_ONCE = 2
"""The connections one request (or one job thread) holds at most at a time."""
SLOTS_WITHOUT_A_POOL = 8
"""Requests at work at once on an engine whose pool is not a queue (an in-memory SQLite)."""


def request_slots(engine: Engine, job_threads: int) -> int:
    """How many requests may be at work at once: what the pool lends beyond the job threads'
    connections, :data:`AT_ONCE` per request (at least one)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return SLOTS_WITHOUT_A_POOL
    return max(1, (pool.size() - AT_ONCE * job_threads) // AT_ONCE)


class InFlight:
    """ASGI middleware: at most ``slots`` HTTP requests at work at once; the others wait their
    turn (see the module's docstring)."""

    def __init__(self, app: ASGIApp, *, slots: int) -> None:
        self.app = app
        self.slots = slots
        self._gates: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]
        self._gates = WeakKeyDictionary()

    def _gate(self) -> asyncio.Semaphore:
        """The slots on this event loop (an app served by tests may run on several loops)."""
        loop = asyncio.get_running_loop()
        gate = self._gates.get(loop)
        if gate is None:
            gate = self._gates[loop] = asyncio.Semaphore(self.slots)
        return gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        slot = _Slot(self._gate())
        await slot.take()
        try:
            await self.app(scope, slot.receiving(receive), slot.sending(send))
        finally:
            slot.give_back()


class _Slot:
    """One request's slot: taken at its start, given back while its body is awaited (taken
    again when a part has come) and for good when its answer starts."""

    def __init__(self, gate: asyncio.Semaphore) -> None:
        self.gate = gate
        self.held = False
        self.answered = False

    async def take(self) -> None:
        if not self.held and not self.answered:
            await self.gate.acquire()
            self.held = True

    def give_back(self) -> None:
        if self.held:
            self.held = False
            self.gate.release()

    def receiving(self, receive: Receive) -> Receive:
        async def received() -> Message:
            self.give_back()
            message = await receive()
            await self.take()
            return message

        return received

    def sending(self, send: Send) -> Send:
        async def sent(message: Message) -> None:
            if message["type"] == "http.response.start":
                self.answered = True
                self.give_back()
            await send(message)

        return sent
