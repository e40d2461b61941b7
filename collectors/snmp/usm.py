"""SNMPv3 User-based Security Model (RFC 3414) primitives: users, keys, HMACs and privacy.

- Authentication: HMAC-MD5-96, HMAC-SHA-96 (RFC 3414) and HMAC-SHA-2 (RFC 7860: SHA-224/256/384/512
  truncated to 16/24/32/48 octets).
- Privacy: DES-CBC (RFC 3414 §8), AES-128-CFB (RFC 3826), AES-192/256-CFB with the Blumenthal draft key
  extension (``"AES-192"``/``"AES-256"``, net-snmp's and snmp_exporter's AES192/AES256) and with the
  Reeder draft extension Cisco uses (``"AES-192-C"``/``"AES-256-C"``).
- Keys: password -> key (1 MiB of the repeated password hashed, RFC 3414 A.2) once per (hash,
  password), kept in a :class:`KeyCache` (and across restarts in a
  :class:`~collectors.snmp.keystore.KeyStore`), unless the inventory shipped the master key itself;
  localisation to an engine ID (``H(Ku | engineID | Ku)``)
  once per (user, engine ID), kept by the caller with its engine state (:class:`LocalKeys`).

Ciphers come from the ``cryptography`` package; HMACs from :mod:`hashlib` states of the padded key
(:class:`Hmac`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

if TYPE_CHECKING:
    from collectors.snmp.keystore import KeyStore

AUTH_PROTOCOLS: dict[str, tuple[str, int]] = {
    "MD5": ("md5", 12),
    "SHA": ("sha1", 12),
    "SHA-224": ("sha224", 16),
    "SHA-256": ("sha256", 24),
    "SHA-384": ("sha384", 32),
    "SHA-512": ("sha512", 48),
}
"""Authentication protocol -> (hashlib name, truncated MAC length in octets)."""

PRIV_PROTOCOLS: dict[str, tuple[int, str]] = {
    "DES": (16, ""),
    "AES-128": (16, ""),
    "AES-192": (24, "blumenthal"),
    "AES-256": (32, "blumenthal"),
    "AES-192-C": (24, "reeder"),
    "AES-256-C": (32, "reeder"),
}
"""Privacy protocol -> (localized key octets needed, key extension when the hash is too short).

DES uses the first 8 octets as the key and the next 8 as the pre-IV."""

_KU_SOURCE = 1_048_576  # octets of repeated password hashed by password-to-key
SAVE_DELAY = 2.0
"""Seconds after the last new or forgotten key before the key store is rewritten (one write per burst)."""


class UsmError(ValueError):
    """A USM user that cannot be used (unknown protocol, privacy without authentication, no password)."""


@dataclass(frozen=True, slots=True)
class UsmUser:
    """One SNMPv3 user's credentials as the wire path uses them (passwords kept out of repr).

    ``context_engine_id`` ``None`` means the agent's own engine ID (the usual case).
    ``auth_master_key``/``priv_master_key`` are the passwords' RFC 3414 master keys (Ku, computed by the
    inventory when the credential is saved): when given they are used instead of hashing the password.
    """

    username: bytes
    auth_protocol: str | None = None
    auth_password: bytes | None = field(default=None, repr=False)
    priv_protocol: str | None = None
    priv_password: bytes | None = field(default=None, repr=False)
    context_name: bytes = b""
    context_engine_id: bytes | None = None
    auth_master_key: bytes | None = field(default=None, repr=False)
    priv_master_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        for name in ("username", "auth_password", "priv_password", "context_name", "context_engine_id"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, value.encode())
        if self.auth_protocol is not None:
            if self.auth_protocol not in AUTH_PROTOCOLS:
                raise UsmError(f"unknown SNMPv3 auth protocol {self.auth_protocol!r}")
            if not self.auth_password and not self.auth_master_key:
                raise UsmError(f"SNMPv3 user {self.username!r}: auth protocol without auth key")
        if self.priv_protocol is not None:
            if self.priv_protocol not in PRIV_PROTOCOLS:
                raise UsmError(f"unknown SNMPv3 priv protocol {self.priv_protocol!r}")
            if self.auth_protocol is None:
                raise UsmError(f"SNMPv3 user {self.username!r}: privacy needs authentication")
            if not self.priv_password and not self.priv_master_key:
                raise UsmError(f"SNMPv3 user {self.username!r}: priv protocol without priv key")
        for name in ("auth_master_key", "priv_master_key"):
            value = getattr(self, name)
            if value is None:
                continue
            if self.auth_protocol is None:
                raise UsmError(f"SNMPv3 user {self.username!r}: {name} without auth protocol")
            size = hashlib.new(AUTH_PROTOCOLS[self.auth_protocol][0]).digest_size
            if len(value) != size:
                raise UsmError(
                    f"SNMPv3 user {self.username!r}: {name} has {len(value)} octets, "
                    f"{self.auth_protocol} needs {size}"
                )

    @property
    def flags(self) -> int:
        """msgFlags of a request: reportable, plus auth (0x01) and priv (0x02) as configured."""
        return 0x04 | (0x01 if self.auth_protocol else 0) | (0x02 if self.priv_protocol else 0)


# ---------------------------------------------------------------------------------------------- keys


def password_to_key(hash_name: str, password: bytes) -> bytes:
    """Ku: the hash of 1 MiB of the repeated password (RFC 3414 A.2.1/A.2.2, RFC 7860 4.1)."""
    if not password:
        raise UsmError("empty SNMPv3 password")
    repeated = password * (_KU_SOURCE // len(password) + 1)
    return hashlib.new(hash_name, memoryview(repeated)[:_KU_SOURCE]).digest()


def master_key(auth_protocol: str, password: bytes) -> bytes:
    """Ku of ``password`` for ``auth_protocol`` (``"SHA-256"``...): what an inventory ships so that
    collectors skip the 1 MiB hash (the key does not depend on the agent's engine ID)."""
    if auth_protocol not in AUTH_PROTOCOLS:
        raise UsmError(f"unknown SNMPv3 auth protocol {auth_protocol!r}")
    return password_to_key(AUTH_PROTOCOLS[auth_protocol][0], password)


def localize(hash_name: str, ku: bytes, engine_id: bytes) -> bytes:
    """Kul = H(Ku | engineID | Ku) (RFC 3414 2.6)."""
    return hashlib.new(hash_name, ku + engine_id + ku).digest()


def localized_priv_key(hash_name: str, protocol: str, ku: bytes, engine_id: bytes) -> bytes:
    """The privacy key localized to ``engine_id`` and extended to the cipher's length when needed."""
    need, extension = PRIV_PROTOCOLS[protocol]
    key = localize(hash_name, ku, engine_id)
    while len(key) < need:
        if extension == "blumenthal":  # Kul | H(Kul) (draft-blumenthal-aes-usm-04 3.1.2.1)
            key += hashlib.new(hash_name, key).digest()
        else:  # Reeder: Kul | localize(password_to_key(Kul)) (draft-reeder-snmpv3-usm-3desede 2.1)
            key += localize(hash_name, password_to_key(hash_name, key), engine_id)
    return key[:need]


@dataclass(frozen=True, slots=True)
class LocalKeys:
    """A user's keys localized to one engine ID (``priv`` empty without privacy)."""

    engine_id: bytes
    auth: bytes = field(repr=False)
    priv: bytes = field(repr=False)


class KeyCache:
    """Password-to-key results per (hash, password); the 1 MiB hashes run in a thread, once each.

    hashlib releases the GIL while it hashes, so a start-up with many credential sets does not stall
    the event loop (HTTP keeps answering).  :meth:`forget` drops a user's entries when its credentials
    change or go away.  With a :class:`~collectors.snmp.keystore.KeyStore` the results also outlive the
    process: a miss looks there first, and the entries in use are written back (in the worker thread,
    :data:`SAVE_DELAY` seconds after the last change, and at :meth:`close`).
    """

    def __init__(self, store: KeyStore | None = None) -> None:
        self.store = store
        self._ku: dict[tuple[str, bytes], bytes] = {}
        self._running: dict[tuple[str, bytes], asyncio.Future] = {}
        self._thread: ThreadPoolExecutor | None = None
        self._stored: dict[str, bytes] | None = None  # the store's entries not taken yet (loaded once)
        self._name: Callable[[str, bytes], str] | None = None
        self._save: asyncio.TimerHandle | None = None
        self._version = self._written = 0  # changes of ``_ku`` made / written to the store

    def _run(self, fn, *args) -> asyncio.Future:
        """Run a key derivation in the one worker thread: the loop's thread keeps the other core."""
        if self._thread is None:
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="usm-keys")
        return asyncio.get_running_loop().run_in_executor(self._thread, fn, *args)

    def __len__(self) -> int:
        return len(self._ku)

    async def ku(self, hash_name: str, password: bytes) -> bytes:
        key = (hash_name, password)
        hit = self._ku.get(key)
        if hit is not None:
            return hit
        if self.store is not None:
            hit = self._from_store(hash_name, password)
            if hit is not None:
                self._ku[key] = hit
                return hit
        running = self._running.get(key)
        if running is None:  # the first asker computes it; concurrent askers wait for the same result
            running = self._running[key] = self._run(password_to_key, hash_name, password)
            try:
                self._ku[key] = await running
            finally:
                del self._running[key]
            self._changed()
            return self._ku[key]
        return await asyncio.shield(running)

    def _from_store(self, hash_name: str, password: bytes) -> bytes | None:
        if self._stored is None:
            self._stored = self.store.load()
            self._name = self.store.namer()
        return self._stored.pop(self._name(hash_name, password), None)

    def _changed(self) -> None:
        """Note a change of the entries in use; write them to the store a little later."""
        if self.store is None:
            return
        self._version += 1
        if self._save is None:
            with contextlib.suppress(RuntimeError):  # no loop (forgotten outside one): close() writes
                self._save = asyncio.get_running_loop().call_later(SAVE_DELAY, self._write_later)

    def _write_later(self) -> None:
        self._save = None
        self._run(self._write, dict(self._ku), self._version)

    def _write(self, entries: dict[tuple[str, bytes], bytes], version: int) -> None:
        name = self.store.namer()
        self.store.save({name(h, password): ku for (h, password), ku in entries.items()})
        self._written = version

    async def local_keys(self, user: UsmUser, engine_id: bytes) -> LocalKeys:
        """``user``'s keys localized to ``engine_id`` (authNoPriv: empty priv; noAuth: both empty)."""
        if user.auth_protocol is None:
            return LocalKeys(engine_id, b"", b"")
        hash_name = AUTH_PROTOCOLS[user.auth_protocol][0]
        ku = user.auth_master_key or await self.ku(hash_name, user.auth_password)
        auth = localize(hash_name, ku, engine_id)
        priv = b""
        if user.priv_protocol is not None:
            ku = user.priv_master_key or await self.ku(hash_name, user.priv_password)
            if PRIV_PROTOCOLS[user.priv_protocol][1] == "reeder":  # one more 1 MiB hash: in the thread
                priv = await self._run(localized_priv_key, hash_name, user.priv_protocol, ku, engine_id)
            else:
                priv = localized_priv_key(hash_name, user.priv_protocol, ku, engine_id)
        return LocalKeys(engine_id, auth, priv)

    def close(self) -> None:
        """Stop the worker thread (queued derivations are dropped, a running one finishes) and write
        the entries in use to the store if they changed since the last write."""
        if self._save is not None:
            self._save.cancel()
            self._save = None
        if self._thread is not None:
            self._thread.shutdown(wait=True, cancel_futures=True)
            self._thread = None
        if self.store is not None and self._written != self._version:
            self._write(dict(self._ku), self._version)

    def forget(self, user: UsmUser) -> None:
        """Drop the password-to-key results of ``user``'s passwords (recomputed if still needed)."""
        if user.auth_protocol is None:
            return
        hash_name = AUTH_PROTOCOLS[user.auth_protocol][0]
        for password in (user.auth_password, user.priv_password):
            if password and self._ku.pop((hash_name, password), None) is not None:
                self._changed()


# ---------------------------------------------------------------------------------------------- auth


class Hmac:
    """The truncated HMAC (RFC 2104) of one key, with the hashes of the padded key precomputed.

    Each message then costs two hash-state copies instead of hashing the key pads again, and the message
    can be fed in parts (no joined copy with its authentication parameters zeroed).
    """

    __slots__ = ("_inner", "_outer", "length")

    def __init__(self, protocol: str, key: bytes) -> None:
        hash_name, self.length = AUTH_PROTOCOLS[protocol]
        inner = hashlib.new(hash_name)
        if len(key) > inner.block_size:
            key = hashlib.new(hash_name, key).digest()
        key = key.ljust(inner.block_size, b"\0")
        inner.update(key.translate(_IPAD))
        outer = hashlib.new(hash_name, key.translate(_OPAD))
        self._inner, self._outer = inner, outer

    def digest(self, *parts: bytes | memoryview) -> bytes:
        """The truncated MAC of the concatenation of ``parts``."""
        inner = self._inner.copy()
        for part in parts:
            inner.update(part)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()[: self.length]

    def verify(self, data: bytes, start: int) -> bool:
        """Is the MAC at ``data[start:start + length]`` that of ``data`` with those octets zeroed?"""
        n = self.length
        view = memoryview(data)
        mac = self.digest(view[:start], _ZEROS[n], view[start + n :])
        return hmac.compare_digest(mac, data[start : start + n])


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_ZEROS = {n: bytes(n) for _, n in AUTH_PROTOCOLS.values()}


def sign(protocol: str, key: bytes, message: bytes) -> bytes:
    """The truncated HMAC of a whole message whose authentication parameters are zero octets."""
    hash_name, length = AUTH_PROTOCOLS[protocol]
    return hmac.digest(key, message, hash_name)[:length]


# ---------------------------------------------------------------------------------------------- privacy


class Privacy:
    """Encryption and decryption of scoped PDUs with one localized privacy key.

    AES uses an AES block encryptor of the key (AES-ECB is stateless between block-aligned updates):
    CFB is computed from it block by block, which for a request's few blocks is cheaper than building a
    cipher object per message, and a response's whole key stream is one call.  The encryptors (~0.9 KB
    of OpenSSL state each) are shared in a bounded cache (:data:`ECB_CACHE_SIZE` keys, oldest dropped
    first) rather than kept per device: a walk's messages follow each other, so an encryptor is built
    about once per walk however many devices there are.  DES-CBC works the same way on cached DES-ECB
    contexts: C_i = E(P_i xor C_i-1) block by block, and P_i = D(C_i) xor C_i-1 in one call.
    """

    __slots__ = ("key", "protocol")

    def __init__(self, protocol: str, key: bytes) -> None:
        self.protocol = protocol
        self.key = key

    def encrypt(self, boots: int, time: int, salt: int, plaintext: bytes) -> tuple[bytes, bytes]:
        """(ciphertext, msgPrivacyParameters) of a scoped PDU; ``salt`` is the sender's counter."""
        key = self.key
        if self.protocol == "DES":
            params = boots.to_bytes(4, "big") + (salt & 0xFFFFFFFF).to_bytes(4, "big")
            iv = bytes(a ^ b for a, b in zip(params, key[8:16], strict=True))
            padded = plaintext + bytes(8 - len(plaintext) % 8)  # RFC 3414 8.1.1.2: padding of any value
            return _cbc_encrypt(_ecb(_DES_ENCRYPT, key[:8]), iv, padded), params
        params = (salt & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")
        iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + params
        return _cfb_encrypt(_ecb(_AES, key), iv, plaintext), params

    def decrypt(self, boots: int, time: int, params: bytes, ciphertext: bytes) -> bytes:
        """The plaintext scoped PDU (DES: with its padding); raises ValueError on bad parameters."""
        if len(params) != 8:
            raise ValueError("privacy parameters are not 8 octets")
        if self.protocol == "DES":
            if len(ciphertext) % 8:
                raise ValueError("DES ciphertext is not a multiple of 8 octets")
            key = self.key
            iv = bytes(a ^ b for a, b in zip(params, key[8:16], strict=True))
            n = len(ciphertext)
            if not n:
                return b""
            decrypted = _ecb(_DES_DECRYPT, key[:8])(ciphertext)
            return (int.from_bytes(decrypted) ^ int.from_bytes(iv + ciphertext[: n - 8])).to_bytes(n)
        # P_i = C_i xor E(C_i-1): every C_i-1 is known up front, so the key stream is one call
        n = len(ciphertext)
        if not n:
            return b""
        iv = boots.to_bytes(4, "big") + time.to_bytes(4, "big") + params
        stream = _ecb(_AES, self.key)(iv + ciphertext[: (n - 1) // 16 * 16])
        return (int.from_bytes(ciphertext) ^ int.from_bytes(stream[:n])).to_bytes(n)


ECB_CACHE_SIZE = 1024
_AES, _DES_ENCRYPT, _DES_DECRYPT = 0, 1, 2
_ecbs: dict[tuple[int, bytes], Callable[[bytes], bytes]] = {}


def _ecb(kind: int, key: bytes) -> Callable[[bytes], bytes]:
    """The ``update`` of a reusable ECB context of ``key`` (see :class:`Privacy`); ECB is stateless
    between block-aligned updates."""
    block = _ecbs.get((kind, key))
    if block is None:
        if len(_ecbs) >= ECB_CACHE_SIZE:
            del _ecbs[next(iter(_ecbs))]
        if kind == _AES:
            cipher = Cipher(algorithms.AES(key), modes.ECB())
        else:  # k1 = k2 = k3: single DES
            cipher = Cipher(TripleDES(key * 3), modes.ECB())
        context = cipher.encryptor() if kind != _DES_DECRYPT else cipher.decryptor()
        block = _ecbs[(kind, key)] = context.update
    return block


def _cbc_encrypt(block, iv: bytes, padded: bytes) -> bytes:
    """DES-CBC (RFC 3414 8.1.1.2): C_i = E(P_i xor C_i-1), C_0 = IV; ``padded`` is block-aligned."""
    from_bytes = int.from_bytes
    out = []
    prev = iv
    for i in range(0, len(padded), 8):
        prev = block((from_bytes(padded[i : i + 8]) ^ from_bytes(prev)).to_bytes(8))
        out.append(prev)
    return b"".join(out)


def _cfb_encrypt(block, iv: bytes, plaintext: bytes) -> bytes:
    """AES in CFB-128 mode (RFC 3826 3.1.3): C_i = P_i xor E(C_i-1), C_0 = IV; no padding."""
    from_bytes = int.from_bytes
    out = []
    prev = iv
    whole = len(plaintext) // 16 * 16
    for i in range(0, whole, 16):
        prev = (from_bytes(plaintext[i : i + 16]) ^ from_bytes(block(prev))).to_bytes(16)
        out.append(prev)
    rest = len(plaintext) - whole
    if rest:
        stream = block(prev)[:rest]
        out.append((from_bytes(plaintext[whole:]) ^ from_bytes(stream)).to_bytes(rest))
    return b"".join(out)


def encrypt(
    protocol: str, key: bytes, boots: int, time: int, salt: int, plaintext: bytes
) -> tuple[bytes, bytes]:
    """(ciphertext, msgPrivacyParameters) of a scoped PDU; ``salt`` is the sender's counter."""
    return Privacy(protocol, key).encrypt(boots, time, salt, plaintext)


def decrypt(protocol: str, key: bytes, boots: int, time: int, params: bytes, ciphertext: bytes) -> bytes:
    """The plaintext scoped PDU (DES: with its padding); raises ValueError on bad parameters."""
    return Privacy(protocol, key).decrypt(boots, time, params, ciphertext)


# ---------------------------------------------------------------------------------------------- reports

REPORT_REASONS: dict[bytes, str] = {
    bytes.fromhex("2b060106030f01010100"): "unsupportedSecLevel",
    bytes.fromhex("2b060106030f01010200"): "notInTimeWindow",
    bytes.fromhex("2b060106030f01010300"): "unknownUserName",
    bytes.fromhex("2b060106030f01010400"): "unknownEngineID",
    bytes.fromhex("2b060106030f01010500"): "wrongDigest",
    bytes.fromhex("2b060106030f01010600"): "decryptionError",
    bytes.fromhex("2b060106030b02010100"): "unknownSecurityModel",
    bytes.fromhex("2b060106030b02010200"): "invalidMsg",
    bytes.fromhex("2b060106030b02010300"): "unknownPDUHandler",
    bytes.fromhex("2b060106030c010400"): "unavailableContext",
    bytes.fromhex("2b060106030c010500"): "unknownContext",
}
"""The counter OID of a Report's first varbind -> the reason a walk reports (RFC 3414 3.2, RFC 3412,
RFC 3413 snmpUnavailableContexts/snmpUnknownContexts); any other report reads ``"report"``."""
