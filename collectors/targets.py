"""Poll targets (contract 1): parsing, `--shard I/N`, the inventory client with ETag, the disk cache.

The inventory answers `GET /api/collector/targets/?group=G` with an ETag; the collector sends
`If-None-Match` and keeps its list on 304.  Every good list is cached on disk, encrypted with a key
derived from the collector token (the list holds communities and v3 keys), so a restarted collector
polls its devices even while the inventory is away.  A refresh answers ``None`` while no list is known
at all (inventory away and no readable cache, or an unknown group), so the runner is not ready rather
than ready with 0 targets.  A targets file (YAML or JSON, same keys) replaces the inventory for
standalone use and is re-read when it changes, parsed in a worker thread with the C YAML loader.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from cryptography.fernet import Fernet, InvalidToken

from collectors.inventory_client import InventoryClient

log = logging.getLogger(__name__)

VERSIONS = ("1", "2c", "3")
AUTH_PROTOCOLS = (None, "MD5", "SHA", "SHA-224", "SHA-256", "SHA-384", "SHA-512")
PRIV_PROTOCOLS = (None, "DES", "AES-128", "AES-192", "AES-256", "AES-192-C", "AES-256-C")
MASTER_KEY_SIZES = {"MD5": 16, "SHA": 20, "SHA-224": 28, "SHA-256": 32, "SHA-384": 48, "SHA-512": 64}
"""Octets of a master key (the auth protocol's digest) per auth protocol."""
DEFAULT_MODULES = ("system", "if_mib")
TARGETS_PATH = "/api/collector/targets/"
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader: ~5x faster than the pure-Python one on a 2,000-target file."""


class TargetError(ValueError):
    """A target list entry is invalid; the message names the entry and the field."""


@dataclass(frozen=True, slots=True)
class V3Credentials:
    username: str
    auth_protocol: str | None = field(default=None, repr=False)
    auth_key: str | None = field(default=None, repr=False)
    priv_protocol: str | None = field(default=None, repr=False)
    priv_key: str | None = field(default=None, repr=False)
    context: str = ""
    auth_master_key: bytes | None = field(default=None, repr=False)
    priv_master_key: bytes | None = field(default=None, repr=False)
    """The passwords' RFC 3414 master keys (Ku) when the inventory ships them (hex in contract 1)."""


@dataclass(frozen=True, slots=True)
class Target:
    """One device to poll, as contract 1 describes it (secrets kept out of repr)."""

    name: str
    address: str
    id: int | None = None
    port: int = 161
    version: str = "2c"
    community: str | None = field(default=None, repr=False)
    v3: V3Credentials | None = field(default=None, repr=False)
    timeout: float = 5.0
    retries: int = 3
    max_repetitions: int = 25
    interval: float = 60.0
    modules: tuple[str, ...] = DEFAULT_MODULES
    labels: tuple[tuple[str, str], ...] = ()
    addresses: tuple[str, ...] = ()  # the device's other documented IPs (traps from them are its own)

    def credential_scope(self) -> str:
        """Identifies the credentials, for sharing pysnmp engines between devices that use the same."""
        if self.v3 is None:
            return f"community:{self.version}"
        v = self.v3
        return "|".join(
            str(x) for x in ("v3", v.username, v.auth_protocol, v.auth_key, v.priv_protocol, v.priv_key)
        )


def _num(entry: dict, key: str, default: Any, kind: type, where: str) -> Any:
    value = entry.get(key)
    if value is None:
        return default
    try:
        out = kind(value)
    except (TypeError, ValueError):
        raise TargetError(f"{where}: field {key!r}: expected a number, got {value!r}") from None
    if out < 0 or (key in ("interval", "timeout", "max_repetitions") and out <= 0):
        raise TargetError(f"{where}: field {key!r}: must be positive, got {value!r}")
    return out


def _master_key(raw: dict, key: str, where: str) -> bytes | None:
    """An optional hex master key of a v3 entry, checked against its auth protocol's digest size."""
    value = raw.get(key)
    if value is None:
        return None
    try:
        out = bytes.fromhex(value)
    except (TypeError, ValueError):
        raise TargetError(f"{where}: field 'v3.{key}': expected hex") from None
    protocol = raw.get("auth_protocol")
    if len(out) != MASTER_KEY_SIZES.get(protocol, -1):
        raise TargetError(
            f"{where}: field 'v3.{key}': {len(out)} octets do not fit auth protocol {protocol!r}"
        )
    return out


def parse_target(entry: Any, where: str) -> Target:
    """One contract-1 target entry; raises TargetError naming `where` and the field."""
    if not isinstance(entry, dict):
        raise TargetError(f"{where}: expected a mapping")
    for key in ("name", "address"):
        if not isinstance(entry.get(key), str) or not entry[key]:
            raise TargetError(f"{where}: field {key!r}: required non-empty string")
    where = f"{where} ({entry['name']})"
    address = entry["address"].strip()
    if address.startswith("[") and address.endswith("]"):  # an IPv6 literal as in a URL: "[::1]"
        address = address[1:-1].strip()
    if not address:
        raise TargetError(f"{where}: field 'address': required non-empty string")
    version = str(entry.get("version") or "2c")
    if version not in VERSIONS:
        raise TargetError(f"{where}: field 'version': {version!r} is not one of {', '.join(VERSIONS)}")
    v3 = None
    if version == "3":
        raw = entry.get("v3")
        if not isinstance(raw, dict) or not raw.get("username"):
            raise TargetError(f"{where}: field 'v3': SNMPv3 needs v3.username")
        if raw.get("auth_protocol") not in AUTH_PROTOCOLS:
            raise TargetError(f"{where}: field 'v3.auth_protocol': unknown {raw.get('auth_protocol')!r}")
        if raw.get("priv_protocol") not in PRIV_PROTOCOLS:
            raise TargetError(f"{where}: field 'v3.priv_protocol': unknown {raw.get('priv_protocol')!r}")
        v3 = V3Credentials(
            username=str(raw["username"]),
            auth_protocol=raw.get("auth_protocol"),
            auth_key=raw.get("auth_key"),
            priv_protocol=raw.get("priv_protocol"),
            priv_key=raw.get("priv_key"),
            context=str(raw.get("context") or ""),
            auth_master_key=_master_key(raw, "auth_master_key", where),
            priv_master_key=_master_key(raw, "priv_master_key", where),
        )
    elif entry.get("community") is None:
        raise TargetError(f"{where}: field 'community': required for SNMP v{version}")
    modules = entry.get("modules") or list(DEFAULT_MODULES)
    if not isinstance(modules, list) or not all(isinstance(m, str) for m in modules):
        raise TargetError(f"{where}: field 'modules': expected a list of module names")
    labels = entry.get("labels") or {}
    if not isinstance(labels, dict):
        raise TargetError(f"{where}: field 'labels': expected a mapping")
    addresses = entry.get("addresses") or []
    if not isinstance(addresses, list) or not all(isinstance(a, str) and a for a in addresses):
        raise TargetError(f"{where}: field 'addresses': expected a list of addresses")
    return Target(
        name=entry["name"],
        address=address,
        id=entry.get("id"),
        port=_num(entry, "port", 161, int, where),
        version=version,
        community=None if version == "3" else str(entry["community"]),
        v3=v3,
        timeout=_num(entry, "timeout", 5.0, float, where),
        retries=_num(entry, "retries", 3, int, where),
        max_repetitions=_num(entry, "max_repetitions", 25, int, where),
        interval=_num(entry, "interval", 60.0, float, where),
        modules=tuple(modules),
        labels=tuple(sorted((str(k), "" if v is None else str(v)) for k, v in labels.items())),
        addresses=tuple(addresses),
    )


def parse_targets(document: Any, source: str) -> list[Target]:
    """A contract-1 document (`{"group", "targets": [...]}`) as Targets; names must be unique."""
    if not isinstance(document, dict) or not isinstance(document.get("targets"), list):
        raise TargetError(f"{source}: expected a mapping with a 'targets' list")
    targets = [parse_target(e, f"{source}: targets[{i}]") for i, e in enumerate(document["targets"])]
    seen: set[str] = set()
    for t in targets:
        if t.name in seen:
            raise TargetError(f"{source}: duplicate target name {t.name!r}")
        seen.add(t.name)
    return targets


# --- sharding ----------------------------------------------------------------------------------------


def shard_of(name: str, shards: int) -> int:
    """Prometheus' hashmod: md5 of the name, bytes 8..16 as a big-endian integer, modulo N."""
    return int.from_bytes(hashlib.md5(name.encode()).digest()[8:16], "big") % shards


def parse_shard(text: str) -> tuple[int, int]:
    """`I/N` with 0 <= I < N."""
    try:
        i, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected I/N, e.g. 0/2") from None
    if n < 1 or not 0 <= i < n:
        raise ValueError(f"--shard {text!r}: need 0 <= I < N")
    return i, n


def select_shard(targets: list[Target], shard: tuple[int, int] | None) -> list[Target]:
    if shard is None:
        return targets
    i, n = shard
    return [t for t in targets if shard_of(t.name, n) == i]


# --- sources -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class SourceState:
    """How the last refresh went (exposed as collector metrics)."""

    inventory_up: bool = False
    last_success: float = 0.0
    from_cache: bool = False
    last_error: str = ""


class FileSource:
    """A targets file (YAML or JSON), re-read when its modification time changes.

    Reading and parsing run in a worker thread with the C YAML loader: a 2,000-target file took ~3.5 s
    of CPU on the event loop with the pure-Python loader, stalling every poll each time it changed.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.state = SourceState()
        self._mtime: float | None = None
        self._targets: list[Target] = []

    def load(self) -> list[Target]:
        """Read and parse the file (blocking: call it off the event loop).

        JSON is tried first (~5 ms for 2,000 targets), then YAML with libyaml (~0.8 s; the pure-Python
        loader took ~4.5 s).
        """
        text = self.path.read_bytes()
        try:
            document = json.loads(text)
        except ValueError:
            try:
                document = yaml.load(text, Loader=YAML_LOADER)
            except yaml.YAMLError as exc:
                raise TargetError(f"{self.path}: not valid YAML or JSON: {exc}") from None
        return parse_targets(document, str(self.path))

    async def refresh(self) -> list[Target]:
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            self._targets = await asyncio.to_thread(self.load)
            self._mtime = mtime
            self.state.last_success = time.time()
        return self._targets


@dataclass(frozen=True, slots=True)
class Membership:
    """An HA member's heartbeat, sent with every targets request: the inventory renews its lease and
    answers only the devices assigned to it (``--member-address``)."""

    name: str
    address: str
    refresh: float

    def params(self) -> dict[str, str]:
        return {"member": self.name, "address": self.address, "refresh": f"{self.refresh:g}"}


class Handover:
    """An HA member keeps polling and serving the devices it just lost for ``grace`` seconds.

    When a device moves to another member (a peer came back), Prometheus or vmagent keeps scraping this
    member for it until its next http_sd refresh; dropped at once, those scrapes would fail (404).  So
    :meth:`targets` adds the devices lost less than ``grace`` ago to the assigned ones (a short double
    poll with the new owner); set it above the scrapers' http_sd refresh interval.
    """

    def __init__(self, grace: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.grace = grace
        self.clock = clock
        self._last: dict[str, Target] = {}
        self._leaving: dict[str, tuple[Target, float]] = {}  # name -> (last target, when it was lost)

    def targets(self, assigned: list[Target]) -> list[Target]:
        now = self.clock()
        names = {t.name for t in assigned}
        for name, target in self._last.items():
            if name not in names and name not in self._leaving:
                self._leaving[name] = (target, now)
        for name in [n for n, (_t, lost) in self._leaving.items() if n in names or now - lost >= self.grace]:
            del self._leaving[name]
        self._last = {t.name: t for t in assigned}
        return [*assigned, *(target for target, _lost in self._leaving.values())]


class UnknownGroup(ValueError):
    """The inventory does not know the collector group (a misspelled or deleted ``--group``)."""


class InventorySource:
    """The inventory's targets endpoint with ETag, falling back to the encrypted on-disk cache."""

    def __init__(
        self,
        client: InventoryClient,
        group: str | None,
        cache_dir: Path,
        *,
        error_log_interval: float = 300.0,
        member: Membership | None = None,
    ) -> None:
        self.client = client
        self.member = member
        self.url = client.url(TARGETS_PATH)
        self.group = group
        self.cache_path = Path(cache_dir) / f"targets-{group or 'all'}.json.enc"
        self.state = SourceState()
        self.group_unknown = False  # the inventory answered 404 for the group: not ready
        self._token = ""
        self._fernet: Fernet | None = None
        self._etag: str | None = None
        self._targets: list[Target] | None = None
        self._error_log_interval = error_log_interval
        self._last_error_log = 0.0
        self._last_reason = ""

    def _cache_key(self) -> Fernet:
        """The cache's key, derived from the current token; a rotated token forces a full fetch."""
        token = self.client.token.current()
        if token != self._token or self._fernet is None:
            if self._token:
                self._etag = None  # a 200 rewrites the cache under the new token's key
            self._token = token
            self._fernet = Fernet(
                base64.urlsafe_b64encode(hashlib.sha256(b"infrastrand-cache:" + token.encode()).digest())
            )
        return self._fernet

    def _load_cache(self) -> list[Target] | None:
        try:
            blob = self._cache_key().decrypt(self.cache_path.read_bytes())
            cached = json.loads(blob)
            return parse_targets(cached["document"], f"cache {self.cache_path}")
        except FileNotFoundError:
            return None
        except (OSError, InvalidToken, ValueError, KeyError, TypeError) as exc:
            log.warning("targets cache %s unreadable (%s); ignoring it", self.cache_path, type(exc).__name__)
            return None

    def _save_cache(self, document: Any) -> None:
        """Write the cache atomically; a failure is logged and the fresh list is kept regardless."""
        tmp = self.cache_path.with_suffix(".tmp")
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            blob = self._cache_key().encrypt(json.dumps({"etag": self._etag, "document": document}).encode())
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, self.cache_path)
        except OSError as exc:
            log.warning("targets cache %s not written (%s); polling the fresh list", self.cache_path, exc)

    def _log_failure(self, reason: str) -> None:
        now = time.monotonic()
        due = now - self._last_error_log >= self._error_log_interval or not self._last_error_log
        if due or reason != self._last_reason:
            self._last_error_log = now
            self._last_reason = reason
            if self._targets is None:
                polling = "no targets known yet"
            else:
                polling = f"polling {'cached' if self.state.from_cache else 'the last known'} targets"
            if self.group_unknown:
                log.warning("inventory %s: %s; not ready; %s", self.url, reason, polling)
            else:
                log.warning("inventory %s unreachable (%s); %s", self.url, reason, polling)

    async def refresh(self) -> list[Target] | None:
        """The current list: fresh, unchanged on 304, else the last known or cached one (None: none)."""
        self._cache_key()  # notices a rotated token before the request
        headers = {"If-None-Match": self._etag} if self._etag and self._targets is not None else None
        params = {"group": self.group} if self.group else None
        if params is not None and self.member is not None:
            params.update(self.member.params())
        try:
            response = await self.client.get(TARGETS_PATH, params=params, headers=headers)
            if response.status_code == 304 and self._targets is not None:
                self._mark_up()
                return self._targets
            if response.status_code == 404 and self.group:
                raise UnknownGroup(f"unknown collector group {self.group!r} (HTTP 404)")
            response.raise_for_status()
            document = response.json()
            targets = parse_targets(document, self.url)
        except (httpx.HTTPError, OSError, ValueError) as exc:
            # OSError: an ssl.SSLError (e.g. a TLS 1.3 "certificate required" alert) can escape httpx
            reason = self.client.describe(exc) if isinstance(exc, httpx.HTTPError | OSError) else str(exc)
            self.state.inventory_up = False
            self.state.last_error = reason[:200]
            self.group_unknown = isinstance(exc, UnknownGroup)
            if self._targets is None:
                self._targets = self._load_cache()
                self.state.from_cache = self._targets is not None
            self._log_failure(reason[:200])
            return self._targets
        self.group_unknown = False
        self._etag = response.headers.get("ETag")
        self._targets = targets
        self._save_cache(document)
        self._mark_up()
        return targets

    def _mark_up(self) -> None:
        if not self.state.inventory_up and self._last_error_log:
            log.info("inventory %s reachable again", self.url)
        self.state.inventory_up = True
        self.state.from_cache = False
        self.state.last_success = time.time()
        self.state.last_error = ""
        self._last_reason = ""
