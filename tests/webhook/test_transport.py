"""What HTTP itself brings to a webhook call (docs/webhooks.md, Answers and The URL):
compressed bodies, a trailing slash after the key, and query escapes that are not UTF-8."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable

import pytest

from gateway.core.settings import Settings
from tests import signing
from tests.support import Gateway, running_gateway

SettingsFactory = Callable[..., Settings]

ECHO = """
key: echo
sync: true
nodes:
  - {key: reply, type: response, config: {statusCode: 200, body: {body: "{{$context.body}}", query: "{{$context.query}}", path: "{{$context.path}}"}}}
"""
BODY = b'{"order": 42, "note": "' + b"x" * 200 + b'"}'


def deflate(data: bytes, wbits: int) -> bytes:
    engine = zlib.compressobj(wbits=wbits)
    return engine.compress(data) + engine.flush()


@pytest.mark.parametrize(
    ("encoding", "content"),
    [
        ("gzip", gzip.compress(BODY)),  # what curl --compressed and most clients send
        ("x-gzip", gzip.compress(BODY)),  # gzip's old name (RFC 9110 §8.4.1.3)
        ("GZip", gzip.compress(BODY)),  # codings are case-insensitive
        ("deflate", deflate(BODY, zlib.MAX_WBITS)),  # zlib-wrapped, as RFC 9110 means it
        ("deflate", deflate(BODY, -zlib.MAX_WBITS)),  # raw deflate, as some senders send it
        ("gzip", gzip.compress(BODY[:10]) + gzip.compress(BODY[10:])),  # two gzip members
        ("deflate, gzip", gzip.compress(deflate(BODY, zlib.MAX_WBITS))),  # applied in order
        ("identity", BODY),  # no coding at all
        ("gzip, identity", gzip.compress(BODY)),  # identity changes nothing
    ],
)
async def test_compressed_bodies_are_decoded(
    gateway: Gateway, encoding: str, content: bytes
) -> None:
    await gateway.apply(ECHO)

    response = await gateway.post(
        "echo",
        content=content,
        headers={"content-type": "application/json", "content-encoding": encoding},
    )

    assert response.status_code == 200, response.text
    assert response.json()["body"]["order"] == 42


async def test_the_signature_is_checked_over_the_decoded_body(gateway: Gateway) -> None:
    # Senders sign the payload they serialise; compression is the transport's.
    await gateway.apply(
        ECHO.replace(
            "sync: true", "sync: true\ntrigger: {signature: {preset: github, secret: s3cret}}"
        )
    )

    response = await gateway.post(
        "echo",
        content=gzip.compress(BODY),
        headers={
            "content-type": "application/json",
            "content-encoding": "gzip",
            **signing.github("s3cret", BODY),
        },
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("encoding", "content", "status", "message"),
    [
        ("br", b"\x0b\x02\x80{}\x03", 415, "Content-Encoding 'br'"),  # brotli: not decoded
        ("gzip, zstd", b"", 415, "Content-Encoding 'zstd'"),  # any unknown coding in the list
        ("compress", b"", 415, "Content-Encoding 'compress'"),  # LZW, long obsolete
        ("gzip", b"not gzip at all", 400, "gzip body cannot be decoded"),  # not what it says
        ("gzip", gzip.compress(BODY)[:-12], 400, "ends before"),  # truncated in transit
        ("deflate", deflate(BODY, zlib.MAX_WBITS) + b"!", 400, "bytes follow"),  # trailing junk
    ],
)
async def test_bodies_that_cannot_be_decoded_are_refused(
    gateway: Gateway, encoding: str, content: bytes, status: int, message: str
) -> None:
    await gateway.apply(ECHO)

    response = await gateway.post(
        "echo",
        content=content,
        headers={"content-type": "application/json", "content-encoding": encoding},
    )

    assert response.status_code == status
    assert message in response.json()["message"]
    if status == 415:
        assert response.headers["accept-encoding"] == "gzip, deflate"
    assert await gateway.executions("echo") == []


async def test_a_zip_bomb_is_refused_at_the_limit_of_its_decoded_size(
    settings_factory: SettingsFactory,
) -> None:
    # 4 KiB of gzip that would inflate to 64 MiB: the limit applies to what it decodes to.
    bomb = gzip.compress(b"\0" * (64 << 20), compresslevel=9)
    async with running_gateway(settings_factory(body_limit=1 << 20)) as gateway:
        await gateway.apply(ECHO)

        response = await gateway.post(
            "echo",
            content=bomb,
            headers={"content-type": "application/json", "content-encoding": "gzip"},
        )

    assert len(bomb) < 100_000
    assert response.status_code == 413
    assert response.json()["message"] == "the decoded request body is larger than 1048576 bytes"


async def test_a_body_decoding_to_exactly_the_limit_is_accepted(
    settings_factory: SettingsFactory,
) -> None:
    body = b'"' + b"a" * 1022 + b'"'
    async with running_gateway(settings_factory(body_limit=1024)) as gateway:
        await gateway.apply(ECHO)
        fits = await gateway.post(
            "echo",
            content=gzip.compress(body),
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )
        over = await gateway.post(
            "echo",
            content=gzip.compress(body + b" "),
            headers={"content-encoding": "gzip", "content-type": "application/json"},
        )

    assert (fits.status_code, over.status_code) == (200, 413)


async def test_a_trailing_slash_answers_as_the_trigger_without_a_redirect(gateway: Gateway) -> None:
    await gateway.apply(ECHO)
    url = await gateway.url("echo")

    response = await gateway.client.post(url + "/", json={"order": 1})

    assert response.status_code == 200
    assert response.json()["body"] == {"order": 1}
    assert response.json()["path"] == url + "/"


@pytest.mark.parametrize(
    "suffix",
    [
        "//",  # two slashes are not the key
        "/more",  # nor is a deeper path
    ],
)
async def test_other_paths_under_a_key_are_the_webhooks_404(gateway: Gateway, suffix: str) -> None:
    await gateway.apply(ECHO)

    response = await gateway.client.post(await gateway.url("echo") + suffix, json={})

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize(
    "path",
    [
        "/api/webhook:trigger/",  # no key at all
        "/api/webhook:trigger//",  # an empty key and a slash
    ],
)
async def test_the_webhook_prefix_without_a_key_is_the_webhooks_404(
    gateway: Gateway, path: str
) -> None:
    response = await gateway.client.post(path, json={})

    assert (response.status_code, response.json()["error"]) == (404, "not_found")


async def test_no_route_redirects_a_trailing_slash(gateway: Gateway) -> None:
    response = await gateway.client.post("/graphql/", json={"query": "{__typename}"})

    assert response.status_code == 404
    assert response.text


async def test_a_query_escape_that_is_not_utf8_stays_as_sent(gateway: Gateway) -> None:
    # Node's qs (NocoBase) keeps `%FF`; decoding it to U+FFFD would lose what was sent.
    # Every case against Node's qs itself: tests/webhook/test_parsing.py.
    await gateway.apply(ECHO)

    response = await gateway.client.post(f"{await gateway.url('echo')}?a=%FF&b=%C3%A9", json={})

    assert response.json()["query"] == {"a": "%FF", "b": "é"}


SNS = """
key: sns
sync: true
trigger:
  request:
    body:
      - {key: "", type: json}
      - {key: Message, type: json}
      - {key: Type, required: true}
nodes:
  - {key: reply, type: response, config: {statusCode: 200, body: {type: "{{$context.body.Type}}", order: "{{$context.body.Message.order}}"}}}
"""


async def test_json_sent_as_text_plain_is_read_with_a_json_rule(gateway: Gateway) -> None:
    # AWS SNS posts its JSON envelope as text/plain, with the message as JSON in a string.
    await gateway.apply(SNS)
    envelope = b'{"Type": "Notification", "MessageId": "22b80b92", "Message": "{\\"order\\": 42}"}'

    response = await gateway.post(
        "sns", content=envelope, headers={"content-type": "text/plain; charset=UTF-8"}
    )

    assert (response.status_code, response.json()) == (200, {"type": "Notification", "order": 42})
