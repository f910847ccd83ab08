"""Client identity behind proxies: forwarded headers believed only from BOT_TRUSTED_PROXIES.

The served tests connect from other loopback addresses (127.0.0.2, 127.0.0.3) than the one the
app and nginx use (127.0.0.1), so a trusted proxy and its clients can be told apart on one machine.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bot.chain import Bot
from bot.settings import Settings
from tests.conftest import ROOT
from vectorstore.errors import SettingsError
from vectorstore.index import Index
from webapp.background import free_port, running
from webapp.proxies import client_address, parse_trusted_proxies
from webapp.server import build_app

QUESTION = "How long does Botox last?"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").encode(), v.encode()) for k, v in values.items()]


@pytest.mark.parametrize(
    ("peer", "headers", "trusted", "expected"),
    [
        # No trusted proxies: the headers are never read.
        ("203.0.113.9", _headers(x_forwarded_for="1.2.3.4"), "", "203.0.113.9"),
        ("127.0.0.1", _headers(x_forwarded_for="1.2.3.4"), "", "127.0.0.1"),
        # A peer that is not a trusted proxy cannot speak for anyone else.
        ("127.0.0.2", _headers(x_forwarded_for="1.2.3.4"), "127.0.0.1", "127.0.0.2"),
        # A trusted proxy: the right-most address that is not a trusted proxy.
        (
            "127.0.0.1",
            _headers(x_forwarded_for="1.2.3.4, 198.51.100.7"),
            "127.0.0.1",
            "198.51.100.7",
        ),
        (
            "10.0.0.5",
            _headers(x_forwarded_for="6.6.6.6, 198.51.100.7, 10.0.0.9"),
            "10.0.0.0/8",
            "198.51.100.7",
        ),
        # Several header lines read as one list, in order.
        (
            "127.0.0.1",
            [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.7")],
            "127.0.0.1",
            "198.51.100.7",
        ),
        # Forwarded (RFC 7239), with quotes, ports and IPv6; it wins over X-Forwarded-For.
        (
            "127.0.0.1",
            _headers(
                forwarded='for=6.6.6.6, for="[2001:db8::1]:4711";proto=https',
                x_forwarded_for="5.5.5.5",
            ),
            "127.0.0.1",
            "2001:db8::1",
        ),
        ("127.0.0.1", _headers(forwarded="for=198.51.100.7:8080"), "127.0.0.1", "198.51.100.7"),
        # Every hop trusted: the left-most one is the client.
        (
            "127.0.0.1",
            _headers(x_forwarded_for="10.1.1.1, 10.2.2.2"),
            "127.0.0.1,10.0.0.0/8",
            "10.1.1.1",
        ),
        # A trusted proxy with no header (a health check from the proxy host): the peer.
        ("127.0.0.1", [], "127.0.0.1", "127.0.0.1"),
        # Garbage where the client should be: the nearest trusted hop stands for it.
        ("127.0.0.1", _headers(x_forwarded_for="1.2.3.4, unknown"), "127.0.0.1", "127.0.0.1"),
        ("::ffff:127.0.0.1", _headers(x_forwarded_for="198.51.100.7"), "127.0.0.1", "198.51.100.7"),
    ],
)
def test_client_address(peer, headers, trusted, expected):
    assert client_address(peer, headers, parse_trusted_proxies(trusted)) == expected


@pytest.mark.parametrize("value", ["nginx", "127.0.0.1/40", "10.0.0.0/8, *", "localhost"])
def test_a_bad_trusted_proxy_is_refused_with_the_setting_named(value):
    with pytest.raises(SettingsError, match="BOT_TRUSTED_PROXIES"):
        parse_trusted_proxies(value)


def test_trusted_proxies_is_a_setting():
    settings = Settings.load(env={"BOT_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert [str(n) for n in parse_trusted_proxies(settings.trusted_proxies)] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
    ]
    assert Settings.load(env={}).trusted_proxies == ""


def _ask(host: str, port: int, source: str, headers: dict[str, str] | None = None) -> int:
    """POST a question from the loopback address `source`; the HTTP status."""
    conn = http.client.HTTPConnection(host, port, timeout=120, source_address=(source, 0))
    try:
        body = json.dumps({"question": QUESTION})
        conn.request(
            "POST",
            "/api/ask",
            body=body,
            headers={"Content-Type": "application/json", **(headers or {})},
        )
        return conn.getresponse().status
    finally:
        conn.close()


@pytest.fixture(scope="module")
def data_dir(seed_index_dir, tmp_path_factory):
    target = tmp_path_factory.mktemp("proxies") / "data"
    shutil.copytree(seed_index_dir, target)
    return target


def _app(data_dir, embedder, trusted: str):
    settings = Settings.load(env={}, data_dir=data_dir, rate_limit=2, trusted_proxies=trusted)
    return build_app(Bot(settings, index=Index(data_dir, embedder=embedder)))


@pytest.mark.parametrize("trusted", ["", "127.0.0.1"])
def test_a_spoofed_forwarded_header_from_an_untrusted_peer_is_ignored(data_dir, embedder, trusted):
    # A client talking to the app directly cannot get a fresh bucket by naming another address.
    with running(_app(data_dir, embedder, trusted)) as url:
        port = int(url.rsplit(":", 1)[1])
        got = [
            _ask("127.0.0.1", port, "127.0.0.2", {"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(3)
        ]
        got.append(_ask("127.0.0.1", port, "127.0.0.2", {"Forwarded": "for=198.51.100.1"}))
        assert got == [200, 200, 429, 429]
        # Another client (another address) still has its own bucket.
        assert _ask("127.0.0.1", port, "127.0.0.3") == 200


def _readme_nginx(app_port: int, listen: int, prefix: Path) -> str:
    """The README's nginx server block, pointed at the test app, inside a minimal nginx.conf."""
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", readme, re.S)[1]
    block = re.sub(r"(\s*server 127\.0\.0\.1:\d+;)+", f"\n    server 127.0.0.1:{app_port};", block)
    block = block.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers may use the private temp dirs
    temps = "".join(
        f"    {name}_temp_path {prefix / name};\n"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"{user}worker_processes 1;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    access_log off;\n{temps}{block}}}\n"
    )


@pytest.fixture
def nginx(tmp_path):
    """Start Debian's nginx with the README's configuration; yields a function(app_port) -> port."""
    if NGINX is None:
        pytest.skip("nginx is not installed (`make nginx` or apt-get install nginx)")
    procs: list[subprocess.Popen] = []

    def start(app_port: int) -> int:
        prefix = tmp_path / f"nginx-{len(procs)}"
        prefix.mkdir()
        listen = free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(_readme_nginx(app_port, listen, prefix))
        proc = subprocess.Popen(
            [NGINX, "-p", prefix, "-e", prefix / "error.log", "-c", conf, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        procs.append(proc)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"nginx exited: {proc.stderr.read().decode()[-2000:]}")
            try:
                http.client.HTTPConnection("127.0.0.1", listen, timeout=1).connect()
                return listen
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not listen within 30 s")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.slow
def test_behind_the_readme_nginx_each_patient_has_their_own_bucket(data_dir, embedder, nginx):
    with running(_app(data_dir, embedder, "127.0.0.1")) as url:
        listen = nginx(int(url.rsplit(":", 1)[1]))
        # Patient A's own spoofed header is left of the address nginx appends: never used.
        spoof = [
            _ask("127.0.0.1", listen, "127.0.0.2", {"X-Forwarded-For": f"203.0.113.{i}"})
            for i in range(3)
        ]
        assert spoof == [200, 200, 429]
        # Patient B, behind the same proxy, is not held back by A.
        assert _ask("127.0.0.1", listen, "127.0.0.3") == 200


@pytest.mark.slow
def test_behind_nginx_without_the_setting_every_patient_shares_the_proxy_bucket(
    data_dir, embedder, nginx
):
    # What the README warns about: the proxy is the only peer the app sees.
    with running(_app(data_dir, embedder, "")) as url:
        listen = nginx(int(url.rsplit(":", 1)[1]))
        assert [_ask("127.0.0.1", listen, "127.0.0.2") for _ in range(2)] == [200, 200]
        assert _ask("127.0.0.1", listen, "127.0.0.3") == 429
