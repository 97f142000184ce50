"""A real PostgreSQL for tests: Debian's server binaries, a fresh cluster on a loopback port.

`initdb` makes a cluster in a temporary folder, `postgres` serves it on 127.0.0.1 and a
socket in that folder (never the system's /var/run/postgresql), and `stop` removes both.
Run as root (CI's containers), the server runs as the unprivileged `postgres` user, which
Debian's package creates: PostgreSQL refuses to run as root.

Local connections are trusted; TCP connections need a password (scram-sha-256), so a
test can give each operator a role of their own and see who the server says connected.

With `tls=TlsFiles(...)` the server also speaks TLS, and every role but the superuser
logs in over TCP by a client certificate the given CA signed (pg_hba `cert`: the role
is the certificate's CN); the superuser keeps its password. Without it, nothing changes.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.binaries import binary
from tests.integration.service import free_port

HINT = "install Debian's postgresql (apt-get install postgresql)"
SUPERUSER = "cockpit_admin"
PASSWORD = "admin-secret"  # a throwaway cluster's password, never a real one


def pg_binary(name: str) -> str:
    """A server program: on PATH, else in Debian's /usr/lib/postgresql/<version>/bin."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return versions[-1] if versions else binary(name, HINT)


@dataclass(frozen=True)
class TlsFiles:
    """The server's certificate and key, and the CA whose client certificates it trusts."""

    cert: Path
    key: Path
    ca: Path


# With TLS: the superuser by password (TLS or not), everyone else by a client certificate.
TLS_HBA = f"""\
local all all trust
host all {SUPERUSER} 127.0.0.1/32 scram-sha-256
hostssl all all 127.0.0.1/32 cert
"""


@dataclass
class PostgresServer:
    """One throwaway cluster; `url()` names a database on it, `create_database` adds one."""

    durable: bool = False  # fsync and synchronous commit on, as production runs (benchmarks)
    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="cockpit-pg-")))
    port: int = 0
    tls: TlsFiles | None = None  # TLS on, client certificates for every role but the superuser
    _proc: subprocess.Popen[bytes] | None = None

    @property
    def _user(self) -> str | None:
        return "postgres" if os.geteuid() == 0 else None

    def _run(self, argv: list[str]) -> None:
        done = subprocess.run(argv, capture_output=True, user=self._user, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.decode(errors='replace')}")

    def start(self, ready_within: float = 60.0) -> None:
        initdb, postgres = pg_binary("initdb"), pg_binary("postgres")
        data, pwfile = self.root / "data", self.root / "pw"
        pwfile.write_text(PASSWORD + "\n")
        if self._user:
            shutil.chown(self.root, self._user)
            shutil.chown(pwfile, self._user)
        self._run(
            [initdb, "-D", str(data), "-U", SUPERUSER, f"--pwfile={pwfile}", "-E", "UTF8",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-instructions"]
        )  # fmt: skip
        self.port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.root),
            "max_connections": "200",
        }
        if not self.durable:
            settings |= {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}
        if self.tls is not None:
            settings |= self._tls_settings(self.tls, data)
        argv = [postgres, "-D", str(data)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        with (self.root / "postgres.log").open("wb") as log:
            self._proc = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, user=self._user
            )
        self._wait(ready_within)

    def _tls_settings(self, tls: TlsFiles, data: Path) -> dict[str, str]:
        """Copy the TLS files in (the server refuses a key others may read, or one owned by
        neither it nor root), write the pg_hba.conf above, and name them to the server."""
        copies = {}
        for name, source in (("server.crt", tls.cert), ("server.key", tls.key), ("ca.crt", tls.ca)):
            copy = self.root / name
            shutil.copyfile(source, copy)
            copy.chmod(0o600 if name.endswith(".key") else 0o644)
            if self._user:
                shutil.chown(copy, self._user)
            copies[name] = str(copy)
        (data / "pg_hba.conf").write_text(TLS_HBA)
        return {
            "ssl": "on",
            "ssl_cert_file": copies["server.crt"],
            "ssl_key_file": copies["server.key"],
            "ssl_ca_file": copies["ca.crt"],
        }

    def _wait(self, within: float) -> None:
        import psycopg

        deadline = time.monotonic() + within
        while True:
            assert self._proc is not None
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited early:\n{self.log_tail()}")
            try:
                psycopg.connect(self.url(), connect_timeout=2).close()
                return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"postgres not ready in {within:g}s:\n{self.log_tail()}"
                    ) from None
                time.sleep(0.05)  # the interval between connection attempts, not a guess

    def url(
        self, database: str = "postgres", user: str = SUPERUSER, password: str = PASSWORD
    ) -> str:
        return f"postgresql://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its superuser URL."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def create_role(self, name: str, password: str, *grants: str) -> str:
        """A LOGIN role (dropped with the cluster); `grants` are roles it becomes a member of."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(name), sql.Literal(password)
                )
            )
            for grant in grants:
                conn.execute(
                    sql.SQL("GRANT {} TO {}").format(sql.Identifier(grant), sql.Identifier(name))
                )
        return name

    def log_tail(self) -> str:
        log = self.root / "postgres.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGINT)  # "fast" shutdown: open sessions end
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        shutil.rmtree(self.root, ignore_errors=True)
