"""An S3-compatible server for the tests: moto's server mode on a free loopback port.

A real S3 HTTP API (not a mock of the client) in a thread of the test process; every
process of the test reaches it through the standard AWS environment variables, never real AWS.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pipeline.settings import reset_settings_cache


def _dead_port() -> int:
    """A loopback port nothing listens on (the fence proxy: connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def s3_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bucket: str) -> Iterator[dict[str, str]]:
    """Start the server, create ``bucket``, point this process and its children at it (a fixture body).

    The environment: endpoint, dummy credentials and region, the instance-metadata lookup
    off, no config or credentials file of the developer's, and as a fence a dead loopback
    proxy for everything but loopback (a request meant for real AWS fails on 127.0.0.1).
    ``NEWSFLOW_RAW_STORE`` is ``s3://<bucket>/raw``.
    """
    pytest.importorskip("s3fs")
    from moto.server import ThreadedMotoServer
    from s3fs import S3FileSystem

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    proxy = f"http://127.0.0.1:{_dead_port()}"
    env = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "newsflow-test",
        "AWS_SECRET_ACCESS_KEY": "newsflow-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # No profile, config or credentials file of the developer's can redirect anything.
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "HTTP_PROXY": proxy,
        "HTTPS_PROXY": proxy,
        "NO_PROXY": "127.0.0.1,localhost",
        "NEWSFLOW_RAW_STORE": f"s3://{bucket}/raw",
    }
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3", "http_proxy", "https_proxy"):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("no_proxy", env["NO_PROXY"])
    reset_settings_cache()
    # fsspec caches filesystems per arguments: an earlier test's would talk to its dead server.
    S3FileSystem.clear_instance_cache()
    S3FileSystem().mkdir(bucket)
    try:
        yield env
    finally:
        S3FileSystem.clear_instance_cache()
        # moto's state is per process, not per server: the next test starts with no buckets.
        reset = urllib.request.Request(f"{env['AWS_ENDPOINT_URL']}/moto-api/reset", method="POST")
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(reset, timeout=30):
            pass
        server.stop()


def audit_connects(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Record every socket connect of this process; a non-loopback address fails the test at once."""
    seen: list[Any] = []
    original = socket.socket.connect

    def connect(self: socket.socket, address: Any) -> Any:
        seen.append(address)
        if self.family in (socket.AF_INET, socket.AF_INET6):
            assert ipaddress.ip_address(str(address[0]).split("%")[0]).is_loopback, address
        return original(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen
