"""The reference point: a bare Starlette endpoint that reads a JSON body and answers `ok`,
served with the same uvicorn settings as the gateway."""

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route


async def hook(request: Request) -> PlainTextResponse:
    await request.json()
    return PlainTextResponse("ok")


app = Starlette(routes=[Route("/hook", hook, methods=["POST"])])
