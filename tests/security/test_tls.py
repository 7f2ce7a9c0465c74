"""TLS is verified: a portal with a certificate the system does not trust is refused before any
request (and so before the token) leaves the workstation, and the user is told in plain words."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from instructor_tui.portal.connector import Unavailable
from instructor_tui.portal.http_client import PortalV1Connector
from instructor_tui.portal.messages import user_message
from instructor_tui.portal.retry import RetryPolicy

x509 = pytest.importorskip("cryptography.x509", reason="cryptography makes the self-signed certificate")


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def untrusted_portal(tmp_path: Path) -> Iterator[tuple[str, list[bytes]]]:
    """A TLS server on loopback with a self-signed certificate; it records every byte of HTTP it
    receives after a successful handshake (there should be none)."""
    cert, key = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    received: list[bytes] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                continue
            try:
                with context.wrap_socket(raw, server_side=True) as conn:
                    conn.settimeout(2)
                    received.append(conn.recv(65536))
                    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}")
            except (OSError, ssl.SSLError):
                raw.close()  # the client refused our certificate: the expected outcome

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", received
    stop.set()
    thread.join(5)
    listener.close()


async def test_an_untrusted_certificate_is_refused_and_the_token_never_sent(untrusted_portal) -> None:
    url, received = untrusted_portal
    connector = PortalV1Connector(url, token="s3cret-token", retry=RetryPolicy(attempts=1))
    try:
        with pytest.raises(Unavailable) as failure:
            await connector.whoami()
    finally:
        await connector.aclose()
    assert not any(b"s3cret-token" in chunk for chunk in received)
    assert received == []  # no HTTP request at all went through
    assert "s3cret-token" not in str(failure.value) and "s3cret-token" not in repr(failure.value)
    assert user_message(failure.value)  # said to the user in words, not a traceback


async def test_the_same_server_is_reached_when_its_certificate_is_trusted(untrusted_portal, tmp_path: Path) -> None:
    """The control case: the refusal above comes from the certificate, not from an unreachable server."""
    import httpx

    url, received = untrusted_portal
    context = ssl.create_default_context(cafile=str(tmp_path / "cert.pem"))
    async with httpx.AsyncClient(verify=context) as client:
        await client.get(f"{url}/api/v1/me", headers={"Authorization": "Bearer visible"})
    assert any(b"Bearer visible" in chunk for chunk in received)
