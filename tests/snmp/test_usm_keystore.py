"""SNMPv3 master keys (Ku) across restarts: the encrypted key store and the key cache that uses it.

A hit is proven by the cache never starting its derivation thread (it is created for the first
password-to-key hash only); a miss by the thread and by the value equal to RFC 3414's password-to-key.
"""

from __future__ import annotations

import asyncio
import logging
import stat
from pathlib import Path

from collectors.snmp.keystore import KeyStore
from collectors.snmp.usm import KeyCache, UsmUser, password_to_key
from tests.bench.__main__ import stop_agent
from tests.bench.usm_bench import start_agent
from tests.collectors.test_runner import Runner, up_line
from tests.collectors.test_targets import TOKEN, Inventory

SECRET = b"collector-token-1"


def store(path: Path, secret: bytes = SECRET) -> KeyStore:
    return KeyStore(path / "usm-keys.enc", lambda: secret)


def user(auth: str = "SHA-256", auth_pw: bytes = b"auth-pass-1", priv_pw: bytes = b"priv-pass-1") -> UsmUser:
    return UsmUser(b"ops", auth, auth_pw, "AES-128", priv_pw)


def keys_of(cache: KeyCache, u: UsmUser, engine_id: bytes = b"\x80\x00\x1f\x88\x04engine") -> tuple:
    async def run():
        k = await cache.local_keys(u, engine_id)
        return k.auth, k.priv

    return asyncio.run(run())


def run_once(path: Path, u: UsmUser, secret: bytes = SECRET) -> tuple[tuple, bool]:
    """One collector life: the user's keys from a fresh cache on the store, closed (written) after.
    Returns the keys and whether any password-to-key hash was computed."""
    cache = KeyCache(store(path, secret))
    keys = keys_of(cache, u)
    derived = cache._thread is not None
    cache.close()
    return keys, derived


def test_second_start_takes_ku_from_the_store(tmp_path):
    u = user()
    first, derived = run_once(tmp_path, u)
    assert derived
    second, derived = run_once(tmp_path, u)
    assert not derived and second == first
    assert keys_of(KeyCache(), u) == first  # the same keys as a cache without a store


def test_store_file_is_0600_encrypted_and_names_no_password(tmp_path):
    u = user()
    run_once(tmp_path, u)
    path = tmp_path / "usm-keys.enc"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = path.read_bytes()
    ku = password_to_key("sha256", u.auth_password)
    for secret in (u.auth_password, u.priv_password, ku, ku.hex().encode(), SECRET):
        assert secret not in blob
    # a left-over temporary file with a wider mode does not widen the store's
    tmp = tmp_path / "usm-keys.enc.tmp"
    tmp.write_bytes(b"x")
    tmp.chmod(0o644)
    run_once(tmp_path, user(auth_pw=b"another-pass"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_changed_password_or_protocol_misses_and_drops_the_old_entry(tmp_path):
    u = user()
    run_once(tmp_path, u)
    for changed in (user(auth_pw=b"auth-pass-2"), user(auth="SHA-512")):
        cache = KeyCache(store(tmp_path))
        keys_of(cache, u)
        assert cache._thread is None  # still stored
        cache.forget(u)  # what the scheduler does with a changed target
        keys = keys_of(cache, changed)
        assert cache._thread is not None  # derived: the password or hash differs
        cache.close()
        hash_name = {"SHA-256": "sha256", "SHA-512": "sha512"}[changed.auth_protocol]
        assert keys[0] != keys_of(KeyCache(), u)[0]
        assert keys == keys_of(KeyCache(), changed)
        entries = store(tmp_path).load()
        name = store(tmp_path).namer()
        assert name(hash_name, changed.auth_password) in entries
        assert name("sha256", u.auth_password) not in entries  # forgotten, so left out of the write
        assert len(entries) == 2  # the changed user's auth and priv keys only
        run_once(tmp_path, u)  # back to the first user for the next change


def test_other_secret_or_damaged_file_is_a_miss_without_key_material_in_the_log(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    u = user()
    first, _ = run_once(tmp_path, u)
    again, derived = run_once(tmp_path, u, secret=b"rotated-token")
    assert derived and again == first
    (tmp_path / "usm-keys.enc").write_bytes(b"damaged")
    again, derived = run_once(tmp_path, u)
    assert derived and again == first
    assert "unreadable (InvalidToken)" in caplog.text
    ku = password_to_key("sha256", u.auth_password)
    for secret in (
        u.auth_password.decode(),
        u.priv_password.decode(),
        ku.hex(),
        first[0].hex(),
        first[1].hex(),
    ):
        assert secret not in caplog.text


def test_keys_are_written_soon_after_derivation_not_only_at_close(tmp_path, monkeypatch):
    monkeypatch.setattr("collectors.snmp.usm.SAVE_DELAY", 0.0)
    u = user()
    path = tmp_path / "usm-keys.enc"

    async def run() -> bool:
        cache = KeyCache(store(tmp_path))
        await cache.local_keys(u, b"engine")
        for _ in range(2000):  # bounded: the write is queued behind nothing in the worker thread
            if path.exists():
                break
            await asyncio.sleep(0.01)
        written = path.exists()
        cache.close()
        return written

    assert asyncio.run(run())
    assert len(store(tmp_path).load()) == 2


def test_event_loop_runs_other_callbacks_while_keys_are_derived():
    """Counting, not timing: each 1 MiB hash takes ~1 ms of CPU in the worker thread; a loop blocked by
    it would tick about once per derivation, a free loop many times."""
    users = [user(auth_pw=b"a-%d" % i, priv_pw=b"p-%d" % i) for i in range(16)]

    async def run() -> int:
        cache = KeyCache()
        work = asyncio.gather(*(cache.local_keys(u, b"engine") for u in users))
        ticks = 0
        for _ in range(10_000_000):
            if work.done():
                break
            ticks += 1
            await asyncio.sleep(0)
        await work
        cache.close()
        return ticks

    assert asyncio.run(run()) > 4 * 2 * len(users)


def test_restarted_collector_takes_stored_keys_and_shows_no_key_material(tmp_path):
    """``python -m collectors`` with an inventory: the first life derives and stores the master keys
    (0600, at SIGTERM at the latest), the second takes them from the store; neither /metrics, /snmp nor
    the log shows a password or a key."""
    agent, port = start_agent("SHA-256", "AES-128")
    inventory = Inventory()
    name = b"dev00042"  # the replay agent's user: auth key auth-U, priv key priv-U
    v3 = {"username": name.decode(), "auth_protocol": "SHA-256", "auth_key": "auth-dev00042",
          "priv_protocol": "AES-128", "priv_key": "priv-dev00042"}  # fmt: skip
    target = {"id": 1, "name": "v3-switch", "address": "127.0.0.1", "port": port, "version": "3", "v3": v3,
              "timeout": 2, "retries": 1, "interval": 2, "modules": ["system"]}  # fmt: skip
    inventory.document = {"group": "lu", "targets": [target]}
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    args = ["--inventory-url", inventory.url, "--token-file", str(token_file), "--group", "lu"]
    user = UsmUser(name, "SHA-256", v3["auth_key"], "AES-128", v3["priv_key"])
    local = keys_of(KeyCache(), user, b"\x80\x00\x1f\x88\x04infra-replay")
    masters = [password_to_key("sha256", p).hex() for p in (user.auth_password, user.priv_password)]
    secrets = [v3["auth_key"], v3["priv_key"], *masters, local[0].hex(), local[1].hex()]
    logs = []
    try:
        for _life in (1, 2):
            runner = Runner(args, tmp_path)
            try:
                shown = runner.wait_for("/snmp?target=v3-switch", lambda s, b: s == 200 and up_line(b))
                shown += runner.wait_for("/metrics", lambda s, b: s == 200)
            finally:
                assert runner.terminate() == 0
            logs.append(runner.log.read_text())
            for secret in secrets:
                assert secret not in shown and secret not in logs[-1]
            path = tmp_path / "cache" / "usm-keys.enc"
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
            assert len(store_for_token(path).load()) == 2
    finally:
        stop_agent(agent)
        inventory.stop()
    assert "master keys stored" not in logs[0] and "2 master keys stored" in logs[1]


def store_for_token(path: Path) -> KeyStore:
    return KeyStore(path, lambda: TOKEN.encode())
