"""Per-device crypto state of the v3 wire path stays small: the AES encryptors (~0.9 KB of OpenSSL state
each) live in a bounded shared cache, not in each peer; the HMAC with precomputed pads equals RFC 2104."""

from __future__ import annotations

import hmac
import os

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.decrepit.ciphers.modes import CFB
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from collectors.snmp import usm
from collectors.snmp.engines import Peer
from collectors.snmp.usm import AUTH_PROTOCOLS, Hmac, LocalKeys, Privacy, UsmUser


def cfb(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), CFB(iv))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


def test_aes_encryptors_are_bounded_and_results_stay_right(monkeypatch):
    monkeypatch.setattr(usm, "ECB_CACHE_SIZE", 8)
    monkeypatch.setattr(usm, "_ecbs", {})
    for i in range(40):  # five times the bound, each key used twice (a walk's messages)
        key = os.urandom(16 + 8 * (i % 3))
        privacy = Privacy(["AES-128", "AES-192", "AES-256"][i % 3], key)
        plain = os.urandom(1 + 37 * i)
        for _ in range(2):
            encrypted, params = privacy.encrypt(7, 1234 + i, i, plain)
            iv = (7).to_bytes(4, "big") + (1234 + i).to_bytes(4, "big") + params
            assert encrypted == cfb(key, iv, plain, True)
            assert privacy.decrypt(7, 1234 + i, params, encrypted) == plain == cfb(key, iv, encrypted, False)
        assert len(usm._ecbs) <= 8


def test_des_cbc_on_cached_ecb_contexts_equals_cbc(monkeypatch):
    monkeypatch.setattr(usm, "ECB_CACHE_SIZE", 8)
    monkeypatch.setattr(usm, "_ecbs", {})
    for i in range(20):
        key = os.urandom(16)  # DES key, then pre-IV (RFC 3414 8.1.1.1)
        privacy = Privacy("DES", key)
        plain = os.urandom(1 + 53 * i)
        encrypted, params = privacy.encrypt(3, 99, i, plain)
        iv = bytes(a ^ b for a, b in zip(params, key[8:], strict=True))
        padded = plain + bytes(8 - len(plain) % 8)
        cbc = Cipher(TripleDES(key[:8] * 3), modes.CBC(iv))
        assert encrypted == cbc.encryptor().update(padded)
        assert privacy.decrypt(3, 99, params, encrypted) == padded == cbc.decryptor().update(encrypted)
        assert len(usm._ecbs) <= 8


def test_peer_keeps_no_cipher_context():
    user = UsmUser(b"ops", "SHA-256", b"auth-pass", "AES-256", b"priv-pass")
    peer = Peer(user)
    peer.engine_id = b"engine"
    peer.use_keys(LocalKeys(b"engine", os.urandom(32), os.urandom(32)))
    assert set(peer.privacy.__slots__) == {"key", "protocol"}


def test_hmac_with_precomputed_pads_equals_rfc_2104():
    for protocol, (hash_name, length) in AUTH_PROTOCOLS.items():
        for key_len in (16, 64, 129):  # shorter than, equal to and longer than a block
            key = os.urandom(key_len)
            data = os.urandom(300)
            want = hmac.digest(key, data, hash_name)[:length]
            signer = Hmac(protocol, key)
            assert signer.digest(data) == want
            assert signer.digest(data[:100], memoryview(data)[100:]) == want
            zeroed = data[:50] + bytes(length) + data[50 + length :]
            signed = data[:50] + hmac.digest(key, zeroed, hash_name)[:length] + data[50 + length :]
            assert signer.verify(signed, 50) and not signer.verify(data, 50)
