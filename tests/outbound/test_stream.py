"""The outbound client's connections on asyncio's transports (`outbound/stream.py`), on
both event loops the server may run (asyncio's and uvloop's): plain and TLS calls, kept
connections, a connection the peer closed while idle, large answers. Real servers on
127.0.0.x; TLS with a certificate authority made for the test."""

from __future__ import annotations

import asyncio
import datetime
import ssl
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
import uvloop
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from gateway.outbound.client import MAX_RESPONSE, Call, Outbound, Reply, RequestFailed, Transport
from gateway.outbound.guard import AllowList
from tests.httpserver import Answer, Received, TestServer

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


def on(loop: str, main: Coroutine[Any, Any, Any]) -> Any:
    with asyncio.Runner(loop_factory=LOOPS[loop]) as runner:
        return runner.run(main)


def get(url: str) -> Call:
    return Call("GET", url, [], [], None, 10.0)


class Authority:
    """A certificate authority and the contexts of a server it signed and a client that
    trusts it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test authority")])
        self.cert = (
            self._builder(name, name, self.key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    @staticmethod
    def _builder(subject: x509.Name, issuer: x509.Name, key: Any) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
        )

    def server(self, host: str) -> ssl.SSLContext:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
        cert = (
            self._builder(subject, self.cert.subject, key.public_key())
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        chain = self.directory / f"{host}.pem"
        chain.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
            + cert.public_bytes(serialization.Encoding.PEM)
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(chain)
        return context

    def client(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        context.load_verify_locations(
            cadata=self.cert.public_bytes(serialization.Encoding.PEM).decode()
        )
        return context


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return Authority(tmp_path_factory.mktemp("tls"))


async def echo_path(request: Received) -> Answer:
    return Answer(200, {"path": request.target})


@pytest.mark.parametrize("loop", LOOPS)
def test_https_names_the_host_and_connects_to_the_checked_address(
    loop: str, authority: Authority
) -> None:
    async def main() -> tuple[list[Reply], int]:
        server_context = authority.server("localhost")
        async with TestServer(echo_path, "127.0.0.1", keep_alive=True, tls=server_context) as s:
            client = Outbound(AllowList.parse(["127.0.0.0/8"]), Transport(authority.client()))
            try:
                replies = [await client.send(get(s.url(f"/{n}", "localhost"))) for n in range(3)]
            finally:
                await client.aclose()
            return replies, s.connections

    replies, connections = on(loop, main())
    assert [(r.status, r.body) for r in replies] == [
        (200, b'{"path": "/0"}'),
        (200, b'{"path": "/1"}'),
        (200, b'{"path": "/2"}'),
    ]
    assert connections == 1  # one TLS connection, kept


@pytest.mark.parametrize("loop", LOOPS)
def test_a_certificate_for_another_name_is_not_trusted(loop: str, authority: Authority) -> None:
    async def main() -> RequestFailed:
        server_context = authority.server("other.example")
        async with TestServer(echo_path, "127.0.0.1", tls=server_context) as server:
            client = Outbound(AllowList.parse(["127.0.0.0/8"]), Transport(authority.client()))
            try:
                with pytest.raises(RequestFailed) as failed:
                    await client.send(get(server.url("/", "localhost")))
            finally:
                await client.aclose()
            return failed.value

    failure = on(loop, main())
    assert failure.kind == "network"
    assert "TLS certificate not trusted" in str(failure)


@pytest.mark.parametrize("loop", LOOPS)
def test_a_connection_the_peer_closed_while_idle_is_not_reused(loop: str) -> None:
    async def main() -> tuple[list[int], int]:
        async with TestServer(echo_path, "127.0.0.2", keep_alive=True) as server:
            client = Outbound(AllowList.parse(["127.0.0.0/8"]))
            try:
                statuses = [(await client.send(get(server.url("/first")))).status]
                await server.drop()  # as a server whose keep-alive ran out
                for _turn in range(10):  # the client's loop takes in the peer's close
                    await asyncio.sleep(0)
                statuses.append((await client.send(get(server.url("/second")))).status)
            finally:
                await client.aclose()
            return statuses, server.connections

    statuses, connections = on(loop, main())
    assert statuses == [200, 200]
    assert connections == 2


@pytest.mark.parametrize("loop", LOOPS)
def test_large_answers_are_read_whole_up_to_the_bound(loop: str) -> None:
    sizes = {"/large": 3 * 1024 * 1024, "/too-large": MAX_RESPONSE + 1}

    async def answer(request: Received) -> Answer:
        return Answer(200, b"x" * sizes[request.target])

    async def main() -> tuple[Reply, RequestFailed, Reply]:
        async with TestServer(answer, "127.0.0.2", keep_alive=True) as server:
            client = Outbound(AllowList.parse(["127.0.0.0/8"]))
            try:
                large = await client.send(get(server.url("/large")))
                with pytest.raises(RequestFailed) as failed:
                    await client.send(get(server.url("/too-large")))
                again = await client.send(get(server.url("/large")))
            finally:
                await client.aclose()
            return large, failed.value, again

    large, failure, again = on(loop, main())
    assert large.body == again.body == b"x" * sizes["/large"]
    assert f"larger than {MAX_RESPONSE} bytes" in str(failure)


def test_the_default_transport_uses_the_asyncio_streams() -> None:
    from gateway.outbound.stream import AsyncioBackend

    pool = Transport()._pool
    assert isinstance(pool._network_backend, AsyncioBackend)  # httpx builds its own otherwise
