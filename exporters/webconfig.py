"""``--web.config.file``: TLS and basic auth for the collector's HTTP endpoints, in the Prometheus
exporter-toolkit format (the file node_exporter and snmp_exporter read)::

    tls_server_config:
      cert_file: server.crt            # with key_file: serve HTTPS (paths relative to this file)
      key_file: server.key
      client_ca_file: clients-ca.crt   # mTLS: CAs that sign client certificates
      client_auth_type: RequireAndVerifyClientCert
      min_version: TLS12               # TLS10 TLS11 TLS12 (default) TLS13; max_version likewise
    basic_auth_users:
      prometheus: $2y$10$...           # bcrypt hashes (htpasswd -nBC 10 "" | tr -d ':')

``client_auth_type`` as in the toolkit: ``NoClientCert`` (default), ``RequestClientCert``,
``RequireAnyClientCert``, ``VerifyClientCertIfGiven``, ``RequireAndVerifyClientCert``.  Python's TLS
verifies every client certificate it receives, so here ``RequestClientCert`` and ``VerifyClientCertIfGiven``
verify a certificate when one is sent (against ``client_ca_file``; without it ``RequestClientCert`` asks for
none), and ``RequireAnyClientCert`` requires a certificate that verifies: stricter than Go, never looser.

The certificate, key and client CA files are re-read when they change (checked at most once a second, on a
new TLS handshake): new connections get the new certificate, a broken new file is logged (naming the file)
and the previous certificate stays.  A basic-auth credential is verified with bcrypt once and the result
cached (keyed by a SHA-256 of the header), so a keep-alive scrape does not pay bcrypt each time; an
uncached one is checked in a worker thread, off the serving loop.  With ``health_without_auth``
(``--web.health-without-auth``) ``/-/healthy`` is answered without basic auth (TLS still applies).

Cipher suites: TLS 1.3's AES-256-GCM, ChaCha20-Poly1305 and AES-128-GCM; TLS 1.2's ECDHE (or DHE) with
AES-GCM or ChaCha20-Poly1305 (AEAD only), chosen in the **client's** order of preference, so Prometheus (Go)
gets AES-128-GCM on AES hardware as from a Go exporter (issue 18's CPU goal; ``tests/bench/web_bench``).

Any error is one :class:`WebConfigError` line naming the file and the field, never a key or a hash.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import re
import ssl
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bcrypt
import yaml

log = logging.getLogger(__name__)

CLIENT_AUTH_TYPES = (
    "NoClientCert",
    "RequestClientCert",
    "RequireAnyClientCert",
    "VerifyClientCertIfGiven",
    "RequireAndVerifyClientCert",
)
TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}
TLS_KEYS = ("cert_file", "key_file", "client_ca_file", "client_auth_type", "min_version", "max_version")
TLS12_CIPHERS = "@SECLEVEL=2:ECDHE+AESGCM:ECDHE+CHACHA20:DHE+AESGCM:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM"
"""TLS 1.2 suites: Python's defaults less the CBC ones (TLS 1.3 suites are OpenSSL's: all AEAD)."""
BCRYPT_HASH = re.compile(r"^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$")
RELOAD_CHECK_SECONDS = 1.0
AUTH_CACHE_SIZE = 1024
OPEN_PATHS = ("/-/healthy",)
"""Paths answered without basic auth when ``health_without_auth`` is set (TLS still applies)."""


class WebConfigError(ValueError):
    """An invalid web config: the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class TlsFiles:
    cert_file: Path
    key_file: Path
    client_ca_file: Path | None
    verify_mode: ssl.VerifyMode
    min_version: ssl.TLSVersion
    max_version: ssl.TLSVersion | None


class TlsServer:
    """The server's TLS contexts: the listener's, and the newest built from the files (swapped in per
    handshake through the SNI callback, which OpenSSL calls with or without a server name)."""

    def __init__(self, source: Path, files: TlsFiles, clock=time.monotonic) -> None:
        self.source = source
        self.files = files
        self.clock = clock
        self._lock = threading.Lock()
        self._stamp = self._file_stamp()
        self._current = self._build()
        self._checked = clock()
        self._listener: ssl.SSLContext | None = None

    def _paths(self) -> list[tuple[str, Path]]:
        paths = [("cert_file", self.files.cert_file), ("key_file", self.files.key_file)]
        if self.files.client_ca_file is not None:
            paths.append(("client_ca_file", self.files.client_ca_file))
        return paths

    def _file_stamp(self) -> tuple:
        stamp = []
        for field_name, path in self._paths():
            try:
                st = path.stat()
            except OSError as exc:
                raise WebConfigError(
                    f"{self.source}: tls_server_config.{field_name}: cannot read {path} ({exc.strerror})"
                ) from None
            stamp.append((st.st_ino, st.st_size, st.st_mtime_ns))
        return tuple(stamp)

    def _build(self) -> ssl.SSLContext:
        files = self.files
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        # The client's order wins, as with Go's exporter-toolkit: Prometheus offers AES-128-GCM first on
        # AES hardware (ChaCha20 first without), where Python's server order would pick AES-256-GCM.  So
        # that no client can choose anything weaker than before, TLS 1.2 is limited to Python's AEAD suites.
        ctx.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
        ctx.set_ciphers(TLS12_CIPHERS)
        ctx.minimum_version = files.min_version
        if files.max_version is not None:
            ctx.maximum_version = files.max_version
        try:
            ctx.load_cert_chain(files.cert_file, files.key_file)
        except (ssl.SSLError, OSError) as exc:
            reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
            raise WebConfigError(
                f"{self.source}: tls_server_config.cert_file/key_file: cannot load the certificate "
                f"{files.cert_file} with the key {files.key_file} ({reason})"
            ) from None
        if files.client_ca_file is not None:
            try:
                ctx.load_verify_locations(cafile=files.client_ca_file)
            except (ssl.SSLError, OSError) as exc:
                reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None) or type(exc).__name__
                raise WebConfigError(
                    f"{self.source}: tls_server_config.client_ca_file: cannot load {files.client_ca_file} "
                    f"({reason})"
                ) from None
        ctx.verify_mode = files.verify_mode
        return ctx

    def listener_context(self) -> ssl.SSLContext:
        """The context the server listens with; it hands each handshake the newest context."""
        if self._listener is None:
            self._listener = self._build()
            self._listener.sni_callback = self._on_hello
        return self._listener

    def current(self) -> ssl.SSLContext:
        """The newest good context, after re-reading the files if they changed (checked ≤ 1/s)."""
        now = self.clock()
        if now - self._checked < RELOAD_CHECK_SECONDS:
            return self._current
        with self._lock:
            self._checked = now
            try:
                stamp = self._file_stamp()
                if stamp != self._stamp:
                    self._current = self._build()
                    self._stamp = stamp
                    log.info("exporter: TLS certificate reloaded from %s", self.files.cert_file)
            except WebConfigError as exc:
                self._stamp = None  # retried at the next check
                log.error("exporter: TLS files not reloaded, keeping the previous certificate: %s", exc)
        return self._current

    def _on_hello(self, sslobj: ssl.SSLObject, _server_name: str | None, ctx: ssl.SSLContext) -> None:
        current = self.current()
        if current is not ctx:
            sslobj.context = current


class BasicAuth:
    """``basic_auth_users``: bcrypt-verified once per distinct credential, then cached (LRU)."""

    def __init__(self, users: dict[str, bytes]) -> None:
        self.users = users
        self._cache: OrderedDict[bytes, bool] = OrderedDict()
        # an unknown user is checked against this, at the cost of the configured hashes, so timing
        # does not tell which users exist
        cost = max(int(hashed.split(b"$")[2]) for hashed in users.values())
        self._unknown = bcrypt.hashpw(b"infrastrand-unknown-user", bcrypt.gensalt(min(cost, 14)))

    def cached(self, header: str) -> bool | None:
        key = hashlib.sha256(header.encode("latin-1")).digest()
        verdict = self._cache.get(key)
        if verdict is not None:
            self._cache.move_to_end(key)
        return verdict

    def verify(self, header: str) -> bool:
        """Check an ``Authorization`` header (blocking: bcrypt); the verdict is cached."""
        ok = self._check(header)
        key = hashlib.sha256(header.encode("latin-1")).digest()
        self._cache[key] = ok
        self._cache.move_to_end(key)
        while len(self._cache) > AUTH_CACHE_SIZE:
            self._cache.popitem(last=False)
        return ok

    def _check(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        if not sep:
            return False
        hashed = self.users.get(user)
        ok = bcrypt.checkpw(password.encode(), hashed if hashed is not None else self._unknown)
        return ok and hashed is not None


class WebConfig:
    """A loaded web config: ``tls`` (or None: plain HTTP) and ``auth`` (or None: no basic auth)."""

    def __init__(self, tls: TlsServer | None, auth: BasicAuth | None, health_without_auth: bool) -> None:
        self.tls = tls
        self.auth = auth
        self.health_without_auth = health_without_auth

    def verdict(self, path: str, headers: dict[str, str]) -> bool | None:
        """Whether a request may be served, or None when its credential has not been verified yet
        (then :meth:`authorized` checks it with bcrypt)."""
        if self.auth is None or (self.health_without_auth and path in OPEN_PATHS):
            return True
        header = headers.get("authorization")
        if not header:
            return False
        return self.auth.cached(header)

    async def authorized(self, path: str, headers: dict[str, str]) -> bool:
        """Whether a request may be served; an uncached credential is checked in a worker thread."""
        verdict = self.verdict(path, headers)
        if verdict is None:
            verdict = await asyncio.to_thread(self.auth.verify, headers["authorization"])
        return verdict


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WebConfigError(f"{where}: must be a mapping")
    return value


def _tls(path: Path, raw: dict[str, Any]) -> TlsServer | None:
    where = f"{path}: tls_server_config"
    unknown = sorted(set(raw) - set(TLS_KEYS))
    if unknown:
        raise WebConfigError(f"{where}.{unknown[0]}: unknown or unsupported field")
    for key, value in raw.items():
        if value is not None and not isinstance(value, str):
            raise WebConfigError(f"{where}.{key}: must be a string")
    if not any(raw.get(key) for key in TLS_KEYS):
        return None
    for key in ("cert_file", "key_file"):
        if not raw.get(key):
            raise WebConfigError(f"{where}.{key}: missing (cert_file and key_file are both needed for TLS)")
    auth_type = raw.get("client_auth_type") or "NoClientCert"
    if auth_type not in CLIENT_AUTH_TYPES:
        raise WebConfigError(
            f"{where}.client_auth_type: {auth_type!r} is not one of {', '.join(CLIENT_AUTH_TYPES)}"
        )
    ca = raw.get("client_ca_file")
    if ca and auth_type == "NoClientCert":
        raise WebConfigError(
            f"{where}.client_auth_type: client_ca_file is set but client_auth_type is NoClientCert"
        )
    if not ca and auth_type in (
        "RequireAnyClientCert",
        "VerifyClientCertIfGiven",
        "RequireAndVerifyClientCert",
    ):
        raise WebConfigError(f"{where}.client_ca_file: needed for client_auth_type {auth_type}")
    if auth_type in ("RequireAnyClientCert", "RequireAndVerifyClientCert"):
        mode = ssl.CERT_REQUIRED
    elif ca:
        mode = ssl.CERT_OPTIONAL
    else:
        mode = ssl.CERT_NONE
    versions: dict[str, ssl.TLSVersion | None] = {}
    for key, default in (("min_version", "TLS12"), ("max_version", None)):
        name = raw.get(key) or default
        if name is not None and name not in TLS_VERSIONS:
            raise WebConfigError(f"{where}.{key}: {name!r} is not one of {', '.join(TLS_VERSIONS)}")
        versions[key] = TLS_VERSIONS[name] if name else None
    base = path.parent
    files = TlsFiles(
        cert_file=base / raw["cert_file"],
        key_file=base / raw["key_file"],
        client_ca_file=base / ca if ca else None,
        verify_mode=mode,
        min_version=versions["min_version"] or ssl.TLSVersion.TLSv1_2,
        max_version=versions["max_version"],
    )
    return TlsServer(path, files)


def _users(path: Path, raw: dict[str, Any]) -> BasicAuth | None:
    users: dict[str, bytes] = {}
    for user, hashed in raw.items():
        if not isinstance(user, str) or not user or ":" in user:
            raise WebConfigError(
                f"{path}: basic_auth_users: user names must be non-empty strings without ':'"
            )
        if (
            not isinstance(hashed, str)
            or not BCRYPT_HASH.match(hashed)
            or not 4 <= int(hashed.split("$")[2]) <= 31
        ):
            raise WebConfigError(f"{path}: basic_auth_users.{user}: not a bcrypt hash")
        users[user] = hashed.encode()
    return BasicAuth(users) if users else None


def load(path: Path | str, *, health_without_auth: bool = False) -> WebConfig:
    """Read and check ``path``; certificates are loaded once here, so a bad one fails at start."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise WebConfigError(f"{path}: cannot read ({exc.strerror or exc})") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise WebConfigError(f"{path}: not valid YAML{where}") from None
    raw = _mapping(raw, str(path))
    unknown = sorted(set(raw) - {"tls_server_config", "basic_auth_users"})
    if unknown:
        raise WebConfigError(f"{path}: {unknown[0]}: unknown or unsupported field")
    tls = _tls(path, _mapping(raw.get("tls_server_config"), f"{path}: tls_server_config"))
    auth = _users(path, _mapping(raw.get("basic_auth_users"), f"{path}: basic_auth_users"))
    if tls is not None:
        tls.listener_context()  # fail now, not at the first handshake
    return WebConfig(tls, auth, health_without_auth)
