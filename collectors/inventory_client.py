"""The collector's HTTP client to the inventory: one long-lived connection pool, TLS, token rotation.

Every targets refresh and every observations flush goes through one :class:`InventoryClient`, which
keeps one ``httpx.AsyncClient`` (and its keep-alive connections) for the life of the process and closes
it on stop.  Building a client per request cost a TLS context, a connection and ~0.2 MiB each time, and
the collector's tuned GC freed them rarely: the demo's collector grew by ~14 MiB a minute.

Transport security (issue 18):

- ``--ca-file`` verifies the inventory's certificate against a private CA; ``--client-cert`` /
  ``--client-key`` present a client certificate (mTLS).  A file that cannot be loaded is an error naming
  the file (never its content); a certificate the CA does not trust is one line naming the CA file.
- The token is never sent over plain HTTP to a non-loopback address unless ``allow_insecure_http``.
- A token file is re-read when it changes (size, mtime or inode), so a rotated token is used from the
  next request without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

log = logging.getLogger(__name__)


class InventoryConfigError(ValueError):
    """The inventory connection cannot be set up as configured (message names the option and file)."""


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and any 127.0.0.0/8 or ::1 literal (brackets allowed)."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_transport(url: str, *, allow_insecure_http: bool) -> None:
    """Refuse to send a token in clear text over the network."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InventoryConfigError(f"--inventory-url {url!r}: expected http(s)://host[:port]")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise InventoryConfigError(
            f"--inventory-url {url}: refusing to send the collector token over plain HTTP to a "
            "non-loopback address; use https:// (with --ca-file for a private CA) or --allow-insecure-http"
        )


def ssl_context(
    ca_file: Path | None = None, client_cert: Path | None = None, client_key: Path | None = None
) -> ssl.SSLContext:
    """A verifying client context: the system CAs, or only ``ca_file``; optionally a client certificate."""
    if client_key is not None and client_cert is None:
        raise InventoryConfigError("--client-key needs --client-cert")
    try:
        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError) as exc:
        raise InventoryConfigError(
            f"--ca-file {ca_file}: cannot load CA certificates ({_reason(exc)})"
        ) from None
    if client_cert is not None:
        try:
            context.load_cert_chain(str(client_cert), str(client_key) if client_key else None)
        except (OSError, ssl.SSLError) as exc:
            files = f"{client_cert}" + (f" / --client-key {client_key}" if client_key else "")
            raise InventoryConfigError(
                f"--client-cert {files}: cannot load the client certificate ({_reason(exc)})"
            ) from None
    return context


def _reason(exc: BaseException) -> str:
    """A short reason without file content: the errno text or the OpenSSL reason code."""
    if isinstance(exc, ssl.SSLError):
        return exc.reason or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return type(exc).__name__


class TokenSource:
    """The collector token: a fixed value, or a file re-read whenever it changes."""

    def __init__(self, token: str | None = None, path: Path | None = None) -> None:
        if token is None and path is None:
            raise InventoryConfigError("no token: give --token, --token-file or INFRASTRAND_TOKEN")
        self.path = Path(path) if path is not None else None
        self._token = token or ""
        self._stamp: tuple[int, int, int] | None = None
        self.changes = 0  # rotations seen after the first read
        if self.path is not None:
            self.current()
            if not self._token:
                raise InventoryConfigError(f"--token-file {self.path}: empty or unreadable")

    def current(self) -> str:
        """The token now; a changed file is re-read (a missing or empty one keeps the last token)."""
        if self.path is None:
            return self._token
        try:
            st = os.stat(self.path)
            stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
            if stamp != self._stamp:
                text = self.path.read_text().strip()
                if text:
                    if self._token and text != self._token:
                        self.changes += 1
                        log.info("token file %s changed: using the new token", self.path)
                    self._token = text
                    self._stamp = stamp
        except OSError as exc:
            if self._stamp is not None:  # keep the last good token; say so once per change of state
                self._stamp = None
                log.warning("token file %s unreadable (%s); keeping the last token", self.path, _reason(exc))
        return self._token


def unbind(response: httpx.Response) -> httpx.Response:
    """The response, read and closed, without its reference cycle.

    httpx leaves every response in a cycle (``response.stream`` is a ``BoundAsyncStream`` holding the
    response), so reference counting never frees it, nor the ~40 request, header and pool objects it
    holds: only the cyclic GC does, and the collector's tuned GC (:mod:`collectors.runtime`, young
    generation collected every 100,000 allocations) let them pile up: RSS grew by ~20-30 MiB per
    1,000 refresh+flush cycles.  Once the body is read the stream is spent, so a plain stream over the
    same bytes replaces it and the response is freed as soon as the caller drops it.
    """
    if response.is_closed and not isinstance(response.stream, httpx.ByteStream):
        with contextlib.suppress(httpx.ResponseNotRead):  # closed unread: keep it as it is
            response.stream = httpx.ByteStream(response.content)
    return response


class InventoryClient:
    """One long-lived HTTP client to the inventory, shared by the targets refresh and the observations."""

    def __init__(
        self,
        base_url: str,
        token: TokenSource,
        *,
        ca_file: Path | None = None,
        client_cert: Path | None = None,
        client_key: Path | None = None,
        allow_insecure_http: bool = False,
        timeout: float = 10.0,
    ) -> None:
        check_transport(base_url, allow_insecure_http=allow_insecure_http)
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.ca_file = ca_file
        self.https = urlsplit(base_url).scheme == "https"
        self._ssl = ssl_context(ca_file, client_cert, client_key) if self.https else None
        self._timeout = timeout
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.clients_created = 0

    def url(self, path: str) -> str:
        return self.base_url + path

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:  # connections belong to one event loop
            self._client = httpx.AsyncClient(
                timeout=self._timeout,
                verify=self._ssl if self._ssl is not None else True,
                limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            )
            self._loop = loop
            self.clients_created += 1
        return self._client

    def _headers(self, extra: dict[str, str] | None) -> dict[str, str]:
        return {
            "Authorization": f"Token {self.token.current()}",
            "Accept": "application/json",
            **(extra or {}),
        }

    async def get(
        self, path: str, *, params: dict[str, str] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        response = await self._http().get(self.url(path), params=params, headers=self._headers(headers))
        return unbind(response)

    async def post(self, path: str, *, json: Any, timeout: float | None = None) -> httpx.Response:
        """POST ``json``; ``timeout`` (seconds) replaces the client's for this request."""
        extra = {"timeout": timeout} if timeout is not None else {}
        response = await self._http().post(self.url(path), json=json, headers=self._headers(None), **extra)
        return unbind(response)

    def describe(self, exc: BaseException) -> str:
        """One line for a failed request, naming the CA file on a certificate error; never a secret."""
        if isinstance(exc, httpx.HTTPStatusError):
            return f"HTTP {exc.response.status_code}"
        cause: BaseException | None = exc
        for _ in range(5):  # httpx wraps the ssl error in its own ConnectError
            if cause is None:
                break
            if isinstance(cause, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(cause):
                trust = f"--ca-file {self.ca_file}" if self.ca_file else "the system CAs (give --ca-file)"
                detail = getattr(cause, "verify_message", "") or "certificate verify failed"
                return f"TLS: the inventory's certificate is not trusted by {trust}: {detail}"
            if isinstance(cause, ssl.SSLError):
                return f"TLS error with the inventory: {cause.reason or type(cause).__name__}"
            cause = cause.__cause__ or cause.__context__
        text = str(exc) or f"{type(exc).__name__} (the inventory closed the connection)"
        return text[:200]

    async def aclose(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            if self._loop is asyncio.get_running_loop():
                await client.aclose()
