"""Real Redis Cluster and Sentinel deployments on loopback ports, for the tests that prove
antrian on Redis's own distributed modes (started by redis-server and redis-cli, never mocked)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
from pathlib import Path

import redis
from conftest import free_port, wait_until

NODE_TIMEOUT_MS = 1000


def _binary(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} is not installed (apt-get install redis-server)")
    return found


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000) is free too."""
    while True:
        port = random.randrange(20000, 45000)
        if _bindable(port) and _bindable(port + 10000):
            return port


class Node:
    """One redis-server process on a free loopback port."""

    def __init__(self, directory: Path, *args: str, port: int | None = None,
                 password: str | None = None) -> None:
        self.port = port or free_port()
        self.password = password
        self.directory = directory / str(self.port)
        self.directory.mkdir(parents=True)
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        self.process = subprocess.Popen(
            [_binary("redis-server"), *self.args, "--port", str(self.port),
             "--bind", "127.0.0.1", "--dir", str(self.directory), "--daemonize", "no",
             "--save", ""],
            stdout=(self.directory / "log").open("ab"), stderr=subprocess.STDOUT,
            start_new_session=True)
        wait_until(lambda: self.client().ping(), what=f"redis-server on {self.port}")
        return self

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, socket_timeout=2, decode_responses=True,
                           password=self.password)

    def kill(self) -> None:
        """SIGKILL: no save, no goodbye to the replicas."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)


class Cluster:
    """3 masters and 3 replicas (`redis-cli --cluster create --cluster-replicas 1`)."""

    def __init__(self, directory: Path, nodes: int = 6) -> None:
        self.nodes = [Node(directory, "--cluster-enabled", "yes", "--cluster-config-file",
                           "nodes.conf", "--cluster-node-timeout", str(NODE_TIMEOUT_MS),
                           "--appendonly", "no", port=cluster_port()) for _ in range(nodes)]

    def start(self) -> Cluster:
        for node in self.nodes:
            node.start()
        subprocess.run([_binary("redis-cli"), "--cluster", "create",
                        *(f"127.0.0.1:{n.port}" for n in self.nodes),
                        "--cluster-replicas", "1", "--cluster-yes"],
                       check=True, capture_output=True, timeout=60)
        self.wait_ok(self.nodes)
        self.wait_replicas()
        return self

    def wait_replicas(self, timeout: float = 30) -> None:
        """Until every living replica is in sync with its master."""
        def synced() -> bool:
            infos = [n.client().info("replication") for n in self.alive()]
            return all(i.get("master_link_status") == "up" and not i.get("master_sync_in_progress")
                       for i in infos if i["role"] == "slave")
        wait_until(synced, timeout=timeout, what="replicas in sync")

    @property
    def url(self) -> str:
        return "redis+cluster://" + ",".join(f"127.0.0.1:{n.port}" for n in self.nodes)

    def alive(self) -> list[Node]:
        return [n for n in self.nodes if n.process is not None and n.process.poll() is None]

    def wait_ok(self, nodes: list[Node], timeout: float = 30) -> None:
        def ok() -> bool:
            try:
                return all(n.client().cluster("info")["cluster_state"] == "ok" for n in nodes)
            except redis.RedisError:
                return False
        wait_until(ok, timeout=timeout, what="cluster_state:ok")

    def master_of(self, key: str) -> Node:
        """The node serving `key`'s slot now, as every living node agrees."""
        slot = self.slot(key)
        seen = set()
        for n in self.alive():
            for low, high, primary, *_ in n.client().cluster("slots"):
                if int(low) <= slot <= int(high):
                    seen.add(int(primary[1]))
        if len(seen) != 1:
            raise LookupError(f"the living nodes do not agree on slot {slot}: {seen}")
        port = seen.pop()
        return next(n for n in self.nodes if n.port == port)

    def promoted(self, key: str, old: Node) -> bool:
        """Whether every living node names a master other than `old` for `key`'s slot."""
        try:
            return self.master_of(key) is not old
        except LookupError:
            return False

    def slot(self, key: str) -> int:
        return int(self.alive()[0].client().execute_command("CLUSTER KEYSLOT", key))

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


class SentinelSet:
    """A primary, a replica and three sentinels watching them as `service`; with `password`,
    as docs/operations.md sets a standby up: `requirepass` and `masterauth` on both Redis
    servers, `sentinel auth-pass` on the Sentinels (which have no password of their own)."""

    def __init__(self, directory: Path, service: str = "antrian",
                 password: str | None = None) -> None:
        self.directory = directory
        self.service = service
        self.password = password
        auth = ("--requirepass", password, "--masterauth", password) if password else ()
        self.primary = Node(directory, "--appendonly", "no", *auth, password=password)
        self.replica = Node(directory, "--appendonly", "no", *auth, password=password)
        self.sentinels: list[subprocess.Popen[bytes]] = []
        self.sentinel_ports: list[int] = []

    def start(self) -> SentinelSet:
        self.primary.start()
        self.replica.start()
        self.replica.client().execute_command("REPLICAOF", "127.0.0.1", self.primary.port)
        wait_until(lambda: self.replica.client().info("replication")
                   .get("master_link_status") == "up", what="replica in sync")
        for _ in range(3):
            port = free_port()
            conf = self.directory / f"sentinel-{port}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.directory}\n"
                f"sentinel monitor {self.service} 127.0.0.1 {self.primary.port} 2\n"
                f"sentinel down-after-milliseconds {self.service} {NODE_TIMEOUT_MS}\n"
                f"sentinel failover-timeout {self.service} 5000\n"
                + (f"sentinel auth-pass {self.service} {self.password}\n"
                   if self.password else ""))
            self.sentinels.append(subprocess.Popen(
                [_binary("redis-server"), str(conf), "--sentinel"],
                stdout=(self.directory / f"sentinel-{port}.log").open("ab"),
                stderr=subprocess.STDOUT, start_new_session=True))
            self.sentinel_ports.append(port)
        for port in self.sentinel_ports:
            wait_until(lambda port=port: self._sees_replica(port), what="sentinel ready")
        return self

    def _sees_replica(self, port: int) -> bool:
        try:
            client = redis.Redis(port=port, socket_timeout=2, decode_responses=True)
            replicas = client.execute_command("SENTINEL", "REPLICAS", self.service)
            sentinels = client.execute_command("SENTINEL", "SENTINELS", self.service)
            return bool(replicas) and len(sentinels) == 2
        except redis.RedisError:
            return False

    @property
    def url(self) -> str:
        nodes = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        auth = f":{self.password}@" if self.password else ""
        return f"redis+sentinel://{auth}{nodes}/{self.service}"

    def primary_port(self) -> int:
        client = redis.Redis(port=self.sentinel_ports[0], socket_timeout=2,
                             decode_responses=True)
        return int(client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                          self.service)[1])

    def stop(self) -> None:
        for process in self.sentinels:
            if process.poll() is None:
                process.kill()
                process.wait(10)
        self.primary.stop()
        self.replica.stop()


