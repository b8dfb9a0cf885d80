"""Store N more workflows (`python bench/many.py DATABASE_URL N`) through the same service
code as `gateway apply`, in batches, for the many-workflows scenarios."""

from __future__ import annotations

import asyncio
import sys

from gateway.core.settings import load_settings
from gateway.store.db import close_store, open_store
from gateway.workflows.apply import apply_documents
from gateway.workflows.documents import Source

BATCH = 500


def document(n: int) -> dict[str, object]:
    return {
        "key": f"filler-{n:05d}",
        "sync": True,
        "trigger": {"request": {"body": [{"key": "order.id"}, {"key": "customer.email"}]}},
        "nodes": [
            {
                "key": "check",
                "type": "condition",
                "config": {
                    "rejectOnFalse": False,
                    "calculation": {
                        "group": {
                            "type": "and",
                            "calculations": [
                                {"calculator": "equal", "operands": ["{{$context.body.n}}", n]}
                            ],
                        }
                    },
                },
                "branches": {
                    "1": [{"key": "yes", "type": "response", "config": {"body": {"n": n}}}],
                    "0": [{"key": "no", "type": "response", "config": {"statusCode": 202}}],
                },
            }
        ],
    }


async def main(url: str, count: int) -> None:
    settings = load_settings(database_url=url)
    await open_store(settings)
    try:
        for start in range(0, count, BATCH):
            sources = [
                Source(f"filler-{n}", document(n)) for n in range(start, min(count, start + BATCH))
            ]
            await apply_documents(sources, settings)
    finally:
        await close_store()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
