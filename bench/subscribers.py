"""Scenario 10's subscribers: `COUNT` WebSocket connections to a gateway, each with one
`executionsChanged` subscription (graphql-transport-ws) to one of the given workflows, in
turn. Each keeps, per execution of every message's list, the first time it saw it
finished. On SIGTERM it writes
them as JSON to OUT and exits:
`{"subscribers": [{"workflow": id, "finished": {execution id: seconds from finishedAt to
receipt}}], "errors": [...]}`.

    python bench/subscribers.py ws://127.0.0.1:PORT/graphql TOKEN COUNT OUT WORKFLOW_ID...
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

QUERY = "subscription ($w: ID) { executionsChanged(workflowId: $w) { id finishedAt } }"
PROTOCOLS = [Subprotocol("graphql-transport-ws")]


class Subscriber:
    def __init__(self, workflow: str) -> None:
        self.workflow = workflow
        self.finished: dict[str, float] = {}

    async def run(self, url: str, token: str, errors: list[str]) -> None:
        async with connect(url, subprotocols=PROTOCOLS, max_queue=None) as socket:
            init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
            await socket.send(json.dumps(init))
            payload = {"query": QUERY, "variables": {"w": self.workflow}}
            await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            await self.listen(socket, errors)

    async def listen(self, socket: ClientConnection, errors: list[str]) -> None:
        async for frame in socket:
            received = datetime.now().astimezone()
            message = json.loads(frame)
            kind = message["type"]
            if kind == "ping":
                await socket.send(json.dumps({"type": "pong"}))
            elif kind == "next" and "errors" not in message["payload"]:
                for execution in message["payload"]["data"]["executionsChanged"]:
                    self.seen(execution, received)
            elif kind not in ("connection_ack", "pong"):
                errors.append(str(message)[:300])

    def seen(self, execution: dict[str, Any], received: datetime) -> None:
        finished = execution["finishedAt"]
        if finished is not None and execution["id"] not in self.finished:
            delay = received - datetime.fromisoformat(finished)
            self.finished[execution["id"]] = delay.total_seconds()


async def main(url: str, token: str, count: int, out: Path, workflows: list[str]) -> None:
    subscribers = [Subscriber(workflows[n % len(workflows)]) for n in range(count)]
    errors: list[str] = []
    tasks = [asyncio.create_task(s.run(url, token, errors)) for s in subscribers]
    stopped = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stopped.set)
    await stopped.wait()
    for task in tasks:
        if task.done() and task.exception() is not None:
            errors.append(repr(task.exception()))
        task.cancel()
    report = {
        "subscribers": [{"workflow": s.workflow, "finished": s.finished} for s in subscribers],
        "errors": errors,
    }
    out.write_text(json.dumps(report))


if __name__ == "__main__":
    url, token, count, out, *workflows = sys.argv[1:]
    asyncio.run(main(url, token, int(count), Path(out), workflows))
