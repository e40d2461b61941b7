"""Issue 18.1: ``--web.config.file`` (exporter-toolkit format) with real certificates made here: TLS, mTLS,
bcrypt basic auth verified once, certificate reload, clear errors, and a real Prometheus 2.42 scraping
the collector over TLS + client certificate + basic auth with the shipped configuration."""

from __future__ import annotations

import base64
import http.client
import logging
import ssl
import subprocess
import sys
import time
from pathlib import Path

import bcrypt
import pytest
import yaml

from deploy import prometheus_config
from exporters import webconfig
from tests.certs import Authority
from tests.deploy import synthetic
from tests.deploy.servers import instant_query, prometheus, wait_until
from tests.exporters.synthetic import device_result, filled_store

PASSWORD = "correct horse battery staple"
HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()  # cost 4: fast tests, same code path


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@pytest.fixture
def pki(tmp_path: Path):
    ca = Authority(tmp_path, "collectors")
    clients_ca = Authority(tmp_path, "clients")
    other_ca = Authority(tmp_path, "other")
    return {
        "ca": ca,
        "server": ca.issue("collector", server=True),
        "clients_ca": clients_ca,
        "client": clients_ca.issue("prometheus", server=False),
        "stranger": other_ca.issue("stranger", server=False),
        "dir": tmp_path,
    }


def write_config(directory: Path, config: dict) -> Path:
    path = directory / "web.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def tls_section(pki, **extra) -> dict:
    return {"cert_file": "collector.crt", "key_file": "collector.key", **extra}  # relative to the file


def client_context(pki, cert=None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=pki["ca"].cert_file)
    if cert is not None:
        ctx.load_cert_chain(cert.cert_file, cert.key_file)
    return ctx


def request(server, path: str, ctx: ssl.SSLContext, headers: dict[str, str] | None = None):
    conn = http.client.HTTPSConnection(server.server.host, server.server.port, context=ctx, timeout=10)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


@pytest.fixture
def store():
    return filled_store(2, interfaces=2, started=time.time())


def test_tls_with_basic_auth(serve, store, pki) -> None:
    path = write_config(
        pki["dir"], {"tls_server_config": tls_section(pki), "basic_auth_users": {"prom": HASH}}
    )
    server = serve(store, web=webconfig.load(path))
    assert server.url.startswith("https://127.0.0.1:")
    ctx = client_context(pki)
    status, headers, _ = request(server, "/snmp?target=dev00001", ctx)
    assert status == 401 and headers["WWW-Authenticate"].startswith("Basic")
    assert request(server, "/snmp?target=dev00001", ctx, basic("prom", "wrong"))[0] == 401
    assert request(server, "/snmp?target=dev00001", ctx, basic("nobody", PASSWORD))[0] == 401
    assert request(server, "/-/healthy", ctx)[0] == 401  # not open unless asked for
    status, _, body = request(server, "/snmp?target=dev00001", ctx, basic("prom", PASSWORD))
    assert status == 200 and b"infrastrand_device_up 1" in body
    failures = server.registry.get_sample_value("infrastrand_exporter_auth_failures_total")
    assert failures == 4
    plain = http.client.HTTPConnection(server.server.host, server.server.port, timeout=10)
    with pytest.raises((ConnectionError, http.client.HTTPException)):  # no plain HTTP on a TLS port
        plain.request("GET", "/-/healthy")
        plain.getresponse()
    plain.close()


def test_healthy_can_be_open_and_tls_versions_are_enforced(serve, store, pki) -> None:
    config = {"tls_server_config": tls_section(pki, min_version="TLS13"), "basic_auth_users": {"prom": HASH}}
    server = serve(store, web=webconfig.load(write_config(pki["dir"], config), health_without_auth=True))
    ctx = client_context(pki)
    assert request(server, "/-/healthy", ctx)[0] == 200
    assert request(server, "/-/ready", ctx)[0] == 401
    old = client_context(pki)
    old.maximum_version = ssl.TLSVersion.TLSv1_2
    with pytest.raises(ssl.SSLError):
        request(server, "/-/healthy", old)


def test_bcrypt_runs_once_per_credential(serve, store, pki, monkeypatch) -> None:
    calls = []
    real = webconfig.bcrypt.checkpw

    def counting(password: bytes, hashed: bytes) -> bool:
        calls.append(1)
        return real(password, hashed)

    monkeypatch.setattr(webconfig.bcrypt, "checkpw", counting)
    config = {"basic_auth_users": {"prom": HASH}}  # basic auth over plain HTTP works too
    server = serve(store, web=webconfig.load(write_config(pki["dir"], config)))
    assert server.url.startswith("http://")
    conn = http.client.HTTPConnection(server.server.host, server.server.port, timeout=10)
    for _ in range(5):
        conn.request("GET", "/snmp?target=dev00000", headers=basic("prom", PASSWORD))
        response = conn.getresponse()
        response.read()
        assert response.status == 200
    conn.close()
    assert len(calls) == 1


def test_mtls_refuses_a_wrong_or_missing_client_certificate(serve, store, pki) -> None:
    tls = tls_section(pki, client_ca_file="clients-ca.crt", client_auth_type="RequireAndVerifyClientCert")
    server = serve(store, web=webconfig.load(write_config(pki["dir"], {"tls_server_config": tls})))
    assert request(server, "/-/healthy", client_context(pki, pki["client"]))[0] == 200
    for cert in (pki["stranger"], None):
        with pytest.raises((ssl.SSLError, ConnectionError)):
            request(server, "/-/healthy", client_context(pki, cert))


def test_certificate_reloaded_when_the_files_change(serve, store, pki, monkeypatch, caplog) -> None:
    monkeypatch.setattr(webconfig, "RELOAD_CHECK_SECONDS", 0.0)
    server = serve(
        store, web=webconfig.load(write_config(pki["dir"], {"tls_server_config": tls_section(pki)}))
    )

    def served_serial() -> int:
        conn = http.client.HTTPSConnection(
            server.server.host, server.server.port, context=client_context(pki), timeout=10
        )
        try:
            conn.request("GET", "/-/healthy")
            conn.getresponse().read()
            from cryptography import x509

            return x509.load_der_x509_certificate(conn.sock.getpeercert(binary_form=True)).serial_number
        finally:
            conn.close()

    first = pki["server"].cert.serial_number
    assert served_serial() == first
    renewed = pki["ca"].issue("collector", server=True)  # same paths, new certificate and key
    assert served_serial() == renewed.cert.serial_number
    renewed.key_file.write_text(
        "-----BEGIN PRIVATE KEY-----\nNOT-A-KEY-SECRET-MATERIAL\n-----END PRIVATE KEY-----\n"
    )
    with caplog.at_level(logging.ERROR, logger="exporters.webconfig"):
        assert served_serial() == renewed.cert.serial_number  # a broken file: the previous certificate stays
    assert "collector.key" in caplog.text and "NOT-A-KEY-SECRET-MATERIAL" not in caplog.text


@pytest.mark.parametrize(
    "config, field",
    [
        ({"tls_server_config": {"cert_file": "collector.crt"}}, "tls_server_config.key_file"),
        (
            {
                "tls_server_config": {
                    "cert_file": "collector.crt",
                    "key_file": "collector.key",
                    "client_auth_type": "Yes",
                }
            },
            "tls_server_config.client_auth_type",
        ),
        (
            {
                "tls_server_config": {
                    "cert_file": "collector.crt",
                    "key_file": "collector.key",
                    "client_auth_type": "RequireAndVerifyClientCert",
                }
            },
            "tls_server_config.client_ca_file",
        ),
        (
            {
                "tls_server_config": {
                    "cert_file": "collector.crt",
                    "key_file": "collector.key",
                    "min_version": "SSL3",
                }
            },
            "tls_server_config.min_version",
        ),
        (
            {"tls_server_config": {"cert_file": "missing.crt", "key_file": "collector.key"}},
            "tls_server_config.cert_file",
        ),
        (
            {"tls_server_config": {"cert_file": "collector.crt", "key_file": "secret.key"}},
            "cert_file/key_file",
        ),
        ({"basic_auth_users": {"prom": "plain-text-password"}}, "basic_auth_users.prom"),
        ({"http_server_config": {"http2": True}}, "http_server_config"),
        (
            {
                "tls_server_config": {
                    "cert_file": "collector.crt",
                    "key_file": "collector.key",
                    "cipher_suites": [],
                }
            },
            "tls_server_config.cipher_suites",
        ),
    ],
)
def test_invalid_config_is_one_clear_error(pki, config: dict, field: str) -> None:
    (pki["dir"] / "secret.key").write_text(
        "-----BEGIN PRIVATE KEY-----\nSECRET-KEY-BYTES\n-----END PRIVATE KEY-----\n"
    )
    path = write_config(pki["dir"], config)
    with pytest.raises(webconfig.WebConfigError) as error:
        webconfig.load(path)
    message = str(error.value)
    assert message.startswith(f"{path}: ") and field in message and "\n" not in message
    assert "SECRET-KEY-BYTES" not in message and "plain-text-password" not in message


def test_collector_exits_with_one_line_on_a_bad_web_config(tmp_path: Path) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets: []\n")
    web = write_config(tmp_path, {"basic_auth_users": {"prom": "not-a-hash"}})
    proc = subprocess.run(
        [sys.executable, "-m", "collectors", "--targets-file", str(targets), "--listen", "127.0.0.1:0",
         "--web.config.file", str(web)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    errors = [line for line in proc.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and f"{web}: basic_auth_users.prom: not a bcrypt hash" in errors[0]
    assert "Traceback" not in proc.stderr


def test_prometheus_scrapes_over_mtls_with_basic_auth_using_the_shipped_config(serve, pki, tmp_path) -> None:
    """Prometheus 2.42 with deploy/prometheus/prometheus.yml, re-pointed (addresses and file paths only)."""
    now = time.time()
    store = filled_store(0, started=now)
    for name in synthetic.DEVICES:
        store.put(device_result(name, 2, started=now, interval=3600), {"device": name})
    tls = tls_section(pki, client_ca_file="clients-ca.crt", client_auth_type="RequireAndVerifyClientCert")
    web = webconfig.load(
        write_config(pki["dir"], {"tls_server_config": tls, "basic_auth_users": {"prometheus": HASH}})
    )
    server = serve(store, web=web)
    collector = f"127.0.0.1:{server.server.port}"
    inventory = synthetic.inventory_server(collector)
    token = tmp_path / "sd.token"
    token.write_text(synthetic.TOKEN)
    password = tmp_path / "collector.password"
    password.write_text(PASSWORD + "\n")
    config = prometheus_config.repoint(
        token_file=token,
        inventory=inventory.address,
        collectors=[collector],
        scrape_interval="1s",
        collector_auth=prometheus_config.CollectorAuth(
            ca_file=pki["ca"].cert_file,
            cert_file=pki["client"].cert_file,
            key_file=pki["client"].key_file,
            password_file=password,
        ),
    )
    for name in prometheus_config.COLLECTOR_JOBS:  # what is shipped, apart from the paths
        job = next(j for j in config["scrape_configs"] if j["job_name"] == name)
        assert job["scheme"] == "https" and job["basic_auth"]["username"] == "prometheus"
    workdir = tmp_path / "prom"
    workdir.mkdir()
    try:
        with prometheus(prometheus_config.write(config, workdir / "prometheus.yml"), workdir) as base:

            def scraped() -> bool:
                up = instant_query(base, 'up{job=~"infrastrand-devices|infrastrand-collectors"} == 1')
                return len(up) == len(synthetic.DEVICES) + 1

            wait_until(scraped, seconds=60, what="TLS scrapes of the collector")
            devices = instant_query(base, "infrastrand_device_up == 1")
            assert {r["metric"]["device"] for r in devices} == set(synthetic.DEVICES)
            wait_until(  # the collector's own /metrics, scraped over TLS too, counts the device scrapes
                lambda: instant_query(
                    base, 'infrastrand_exporter_requests_total{endpoint="snmp",code="200"} > 0'
                ),
                seconds=30,
                what="the collector's request counter in Prometheus",
            )
    finally:
        inventory.close()
    assert server.registry.get_sample_value("infrastrand_exporter_auth_failures_total") == 0
    # Go's choice won: AES-128-GCM on AES hardware (ChaCha20 without), never the AES-256-GCM that
    # Python's server order imposed
    negotiated = handshakes(server)
    assert negotiated and {version for version, _ in negotiated} == {"TLSv1.3"}
    assert {cipher for _, cipher in negotiated} <= {"TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"}


def test_client_ca_reloaded_when_the_file_changes(serve, store, pki, monkeypatch) -> None:
    monkeypatch.setattr(webconfig, "RELOAD_CHECK_SECONDS", 0.0)
    tls = tls_section(pki, client_ca_file="clients-ca.crt", client_auth_type="RequireAndVerifyClientCert")
    server = serve(store, web=webconfig.load(write_config(pki["dir"], {"tls_server_config": tls})))
    assert request(server, "/-/healthy", client_context(pki, pki["client"]))[0] == 200
    replacement = Authority(pki["dir"], "replacement")
    newcomer = replacement.issue("newcomer", server=False)
    (pki["dir"] / "clients-ca.crt").write_bytes(replacement.cert_file.read_bytes())
    assert request(server, "/-/healthy", client_context(pki, newcomer))[0] == 200
    with pytest.raises((ssl.SSLError, ConnectionError)):
        request(server, "/-/healthy", client_context(pki, pki["client"]))


def test_the_shipped_example_web_config_loads(tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[2] / "deploy" / "collector-web" / "web.yml.example"
    config = yaml.safe_load(example.read_text())
    (tmp_path / "tls").mkdir()
    ca = Authority(tmp_path / "tls", "collectors")
    ca.issue("collector", server=True)
    Authority(tmp_path / "tls", "clients")
    config["basic_auth_users"]["prometheus"] = HASH  # the example's placeholder is not a hash
    path = write_config(tmp_path, config)
    web = webconfig.load(path)
    assert web.tls is not None and web.tls.files.verify_mode == ssl.CERT_REQUIRED
    assert web.auth is not None and set(web.auth.users) == {"prometheus"}


def test_unknown_users_pay_the_configured_bcrypt_cost(pki) -> None:
    """No user enumeration by timing: an unknown user is checked against a hash of the same cost."""
    hashed = bcrypt.hashpw(b"x", bcrypt.gensalt(6)).decode()
    web = webconfig.load(write_config(pki["dir"], {"basic_auth_users": {"prom": hashed}}))
    assert web.auth is not None and web.auth._unknown.split(b"$")[2] == b"06"
    assert not web.auth.verify(basic("nobody", "x")["Authorization"])
    assert web.auth.verify(basic("prom", "x")["Authorization"])
    too_costly = hashed.replace("$06$", "$99$", 1)
    with pytest.raises(webconfig.WebConfigError, match=r"basic_auth_users\.prom: not a bcrypt hash"):
        webconfig.load(write_config(pki["dir"], {"basic_auth_users": {"prom": too_costly}}))


GO_TLS13_ORDER = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384"
"""Go's TLS 1.3 client order on AES hardware (what Prometheus offers)."""


def handshakes(server) -> dict[tuple[str, str], float]:
    """``infrastrand_exporter_tls_handshakes_total`` by (version, cipher)."""
    return {
        (s.labels["version"], s.labels["cipher"]): s.value
        for metric in server.registry.collect()
        for s in metric.samples
        if s.name == "infrastrand_exporter_tls_handshakes_total"
    }


def cipher_of(server, ctx: ssl.SSLContext) -> str:
    conn = http.client.HTTPSConnection(server.server.host, server.server.port, context=ctx, timeout=10)
    try:
        conn.request("GET", "/-/healthy")
        assert conn.getresponse().read() == b"Healthy.\n"
        return conn.sock.cipher()[0]
    finally:
        conn.close()


def test_tls12_the_client_order_wins_among_aead_suites_only(serve, store, pki) -> None:
    """The server no longer imposes its order (it picked AES-256-GCM for everyone), and letting the client
    choose widens nothing: a client offering only CBC suites, accepted before, is refused."""
    server = serve(
        store, web=webconfig.load(write_config(pki["dir"], {"tls_server_config": tls_section(pki)}))
    )
    for offered, chosen in (
        ("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256"),
        ("ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384"),
        ("ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305"),
    ):
        ctx = client_context(pki)
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(offered)
        assert cipher_of(server, ctx) == chosen
    cbc = client_context(pki)
    cbc.maximum_version = ssl.TLSVersion.TLSv1_2
    cbc.set_ciphers("ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384")
    with pytest.raises((ssl.SSLError, ConnectionError)):
        cipher_of(server, cbc)
    assert handshakes(server) == {
        ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256"): 1.0,
        ("TLSv1.2", "ECDHE-ECDSA-AES256-GCM-SHA384"): 1.0,
        ("TLSv1.2", "ECDHE-ECDSA-CHACHA20-POLY1305"): 1.0,
    }


@pytest.mark.parametrize(
    ("order", "chosen"),
    [
        (GO_TLS13_ORDER, "TLS_AES_128_GCM_SHA256"),
        ("TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"),
    ],
)
def test_tls13_the_client_order_wins_and_the_server_is_still_verified(
    serve, store, pki, order: str, chosen: str
) -> None:
    """Python cannot order TLS 1.3 suites, so the client is a process with an OpenSSL config giving Go's
    order (or a ChaCha20-first one); it verifies the server against the CA and presents its certificate
    to an mTLS server, and a client of another CA's certificate is still refused."""
    tls = tls_section(pki, client_ca_file="clients-ca.crt", client_auth_type="RequireAndVerifyClientCert")
    server = serve(store, web=webconfig.load(write_config(pki["dir"], {"tls_server_config": tls})))
    conf = pki["dir"] / "client-openssl.cnf"
    conf.write_text(
        "openssl_conf = init\n[init]\nssl_conf = ssl\n[ssl]\nsystem_default = defaults\n"
        f"[defaults]\nCiphersuites = {order}\n"
    )
    script = (
        "import http.client, ssl, sys\n"
        "host, port, ca, cert, key = sys.argv[1:]\n"
        "ctx = ssl.create_default_context(cafile=ca)\n"
        "ctx.load_cert_chain(cert, key)\n"
        "conn = http.client.HTTPSConnection(host, int(port), context=ctx, timeout=10)\n"
        "conn.request('GET', '/-/healthy')\n"
        "body = conn.getresponse().read()\n"
        "print(conn.sock.version(), conn.sock.cipher()[0], body.decode().strip())\n"
    )

    def client(ca: Path, issued) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", script, server.server.host, str(server.server.port), str(ca),
             str(issued.cert_file), str(issued.key_file)],
            env={"OPENSSL_CONF": str(conf), "PATH": "/usr/bin:/bin"},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    done = client(pki["ca"].cert_file, pki["client"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["TLSv1.3", chosen, "Healthy."]
    assert handshakes(server) == {("TLSv1.3", chosen): 1.0}
    wrong_ca = client(pki["clients_ca"].cert_file, pki["client"])  # the server's certificate is not trusted
    assert wrong_ca.returncode != 0 and "CERTIFICATE_VERIFY_FAILED" in wrong_ca.stderr
    stranger = client(pki["ca"].cert_file, pki["stranger"])
    assert stranger.returncode != 0
    assert handshakes(server) == {("TLSv1.3", chosen): 1.0}
