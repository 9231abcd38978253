"""Several identical Carta processes behind nginx on loopback, over one read-only store: the
deployment of deploy/nginx.conf, started for the load benchmark and the replica tests.

    with replicas(store, 2) as farm:
        farm.url            # the proxy
        farm.kill(0)        # a replica dies
        farm.served()       # requests per replica, from nginx's access log
"""

from __future__ import annotations

import contextlib
import re
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from carta.store import ROOT
from tests.browser.harness import free_port, start_server, stop_server

CONFIG = ROOT / "deploy" / "nginx.conf"


def nginx_missing() -> str | None:
    """Why nginx cannot be run here, or None when it can."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed (./test.sh installs Debian's package: nginx)"
    return None


def nginx_binary() -> str:
    return shutil.which("nginx") or "/usr/sbin/nginx"


def config_text(listen: str, ports: list[int], prefix: Path) -> str:
    servers = "\n        ".join(
        f"server 127.0.0.1:{port} max_fails=1 fail_timeout=10s;" for port in ports
    )
    return (
        CONFIG.read_text(encoding="utf-8")
        .replace("@LISTEN@", listen)
        .replace("@SERVERS@", servers)
        .replace("@PREFIX@", str(prefix))
    )


@dataclass
class Farm:
    url: str
    processes: list[subprocess.Popen]
    ports: list[int]
    prefix: Path
    nginx: subprocess.Popen | None = None
    dead: set[int] = field(default_factory=set)

    def kill(self, index: int) -> None:
        """A replica dies at once (SIGKILL), as a crashed process does."""
        self.processes[index].kill()
        self.processes[index].wait()
        self.dead.add(index)

    def upstreams(self) -> list[int]:
        """The replica port of each request nginx has logged, in order (the last one when it
        passed a request on from a replica that failed). A websocket is logged when it closes."""
        log = self.prefix / "access.log"
        text = log.read_text(encoding="utf-8") if log.exists() else ""
        ports = []
        for upstream in re.findall(r'upstream="([^"]*)"', text):
            last = upstream.replace(",", ";").split(";")[-1].strip()
            if last.startswith("127.0.0.1:"):
                ports.append(int(last.rsplit(":", 1)[1]))
        return ports

    def served(self) -> Counter:
        """Requests per replica port, from the access log."""
        return Counter(self.upstreams())


@contextlib.contextmanager
def replicas(store: Path, count: int, timeout: float = 90) -> Iterator[Farm]:
    """`count` Carta servers on `store` and nginx in front of them, all on loopback."""
    prefix = Path(tempfile.mkdtemp(prefix="carta-nginx-"))
    processes: list[subprocess.Popen] = []
    ports: list[int] = []
    farm = None
    try:
        for _ in range(count):
            process, url = start_server(store, timeout=timeout)
            processes.append(process)
            ports.append(int(url.rsplit(":", 1)[1]))
        port = free_port()
        (prefix / "nginx.conf").write_text(config_text(f"127.0.0.1:{port}", ports, prefix))
        nginx = subprocess.Popen(
            [nginx_binary(), "-p", str(prefix), "-c", str(prefix / "nginx.conf"),
             "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        farm = Farm(f"http://127.0.0.1:{port}", processes, ports, prefix, nginx)
        _wait_healthy(farm, timeout)
        yield farm
    finally:
        if farm and farm.nginx:
            farm.nginx.terminate()
            try:
                farm.nginx.wait(timeout=10)
            except subprocess.TimeoutExpired:
                farm.nginx.kill()
        for index, process in enumerate(processes):
            if farm is None or index not in farm.dead:
                stop_server(process)
        shutil.rmtree(prefix, ignore_errors=True)


def _wait_healthy(farm: Farm, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if farm.nginx.poll() is not None:
            raise RuntimeError(f"nginx exited: {farm.nginx.stderr.read().decode()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{farm.url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nginx did not answer on {farm.url} within {timeout:.0f} s")
