"""Team mode over TLS with client certificates, against a real PostgreSQL: an operator whose
config holds `sslcert`/`sslkey` and no password logs in as the role the certificate names
(pg_hba `cert`), appends to the audit log, and is that role to the team identity; a
certificate from another CA and a server certificate for another host are refused."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cockpit import config
from cockpit.actions.people import PersonConfig
from cockpit.audit import Actor
from cockpit.audit.postgres import PostgresStore
from cockpit.audit.records import AuditError
from cockpit.cli import main
from cockpit.clock import FixedClock
from cockpit.team import connect as tc
from cockpit.team.identity import resolve
from cockpit.team.store_config import StoreConfig
from tests.audit.conftest import event
from tests.binaries import binary
from tests.fakes import T0
from tests.pgserver import PASSWORD, SUPERUSER, PostgresServer, TlsFiles


def _openssl(cwd: Path, *args: str) -> None:
    openssl = binary("openssl", "install Debian's openssl")
    subprocess.run([openssl, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _ca(cwd: Path, name: str) -> Path:
    _openssl(
        cwd, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2",
        "-subj", f"/CN=Cockpit test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cwd / f"{name}.pem"


def _leaf(cwd: Path, cn: str, ca: str, usage: str, san: str = "") -> tuple[Path, Path]:
    """A certificate for CN=`cn` signed by CA `ca`: (certificate, key 0600)."""
    name = f"{cn}-{ca}"
    _openssl(
        cwd, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}",
    )  # fmt: skip
    ext = f"extendedKeyUsage={usage}\nbasicConstraints=CA:FALSE\n"
    (cwd / f"{name}.ext").write_text(ext + (f"subjectAltName={san}\n" if san else ""))
    _openssl(
        cwd, "x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
        "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext",
    )  # fmt: skip
    key = cwd / f"{name}.key"
    key.chmod(0o600)  # libpq refuses a client key others may read
    return cwd / f"{name}.pem", key


@dataclass
class TlsCluster:
    server: PostgresServer
    pki: Path  # where the CAs and certificates are

    @property
    def ca(self) -> Path:
        return self.pki / "ca.pem"

    def client(self, role: str, ca: str = "ca") -> tuple[Path, Path]:
        return _leaf(self.pki, role, ca, "clientAuth")

    def write_config(self, where: Path, role: str, database: str, **keys: object) -> Path:
        """A config.yaml whose store: is `role` on `database`, with `keys` under it."""
        lines = [
            "environments: [prod]",
            "store:",
            f"  url: postgresql://{role}@127.0.0.1:{self.server.port}/{database}",
            *(f"  {key}: {value}" for key, value in keys.items()),
        ]
        path = where / f"{role}.yaml"
        path.write_text("\n".join(lines) + "\n")
        return path


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsCluster]:
    """A PostgreSQL with TLS on (its certificate for 127.0.0.1 / localhost) that lets every
    role but the superuser in by a client certificate from `ca` only."""
    pki = tmp_path_factory.mktemp("pki")
    _ca(pki, "ca")
    _ca(pki, "other")
    cert, key = _leaf(pki, "localhost", "ca", "serverAuth", "IP:127.0.0.1,DNS:localhost")
    server = PostgresServer(tls=TlsFiles(cert=cert, key=key, ca=pki / "ca.pem"))
    try:
        server.start()
        yield TlsCluster(server, pki)
    finally:
        server.stop()


@pytest.fixture
def no_password(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing but the certificate may log the operator in: no PGPASSWORD, no ~/.pgpass."""
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))


def _initialised(tls: TlsCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new database on which the superuser ran `cockpit store init` over verify-full."""
    database = tls.server.create_database("tls").rsplit("/", 1)[1]
    monkeypatch.setenv("COCKPIT_TLS_ADMIN_PW", PASSWORD)
    owner = tls.write_config(
        tmp_path, SUPERUSER, database,
        password="env:COCKPIT_TLS_ADMIN_PW", sslmode="verify-full", sslrootcert=tls.ca,
    )  # fmt: skip
    assert main(["store", "init", "-c", str(owner)]) == 0
    return database


def _operator(tls: TlsCluster) -> str:
    """A LOGIN role in cockpit_writer; its password is never given to anyone (pg_hba: cert)."""
    return tls.server.create_role(f"op_{uuid.uuid4().hex[:10]}", uuid.uuid4().hex, "cockpit_writer")


def _cert_store(tls: TlsCluster, tmp_path: Path, role: str, database: str, ca: str = "ca") -> Path:
    cert, key = tls.client(role, ca)
    return tls.write_config(
        tmp_path, role, database,
        sslmode="verify-full", sslrootcert=tls.ca, sslcert=cert, sslkey=key,
    )  # fmt: skip


def _store(path: Path) -> StoreConfig:
    settings = config.load(str(path), env={})  # secrets resolved: the files are checked
    assert settings.store is not None
    return settings.store


async def test_an_operator_with_a_client_certificate_appends_as_its_role_without_a_password(
    tls: TlsCluster,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    no_password: None,
) -> None:
    database = _initialised(tls, tmp_path, monkeypatch)
    role = _operator(tls)
    operator_config = _cert_store(tls, tmp_path, role, database)
    store = _store(operator_config)
    assert store.password is None and store.sslcert and store.sslkey

    # The team identity: the certificate's CN is the session_user, mapped to its operator.
    base = Actor(user="alice", host="laptop", ssh_client="", pid=4242, version="test")
    who = await resolve(store, {"alice": PersonConfig(db_role=role)}, base)
    assert (who.db_role, who.name, who.mismatch) == (role, "alice", False)
    assert "cockpit_writer" in who.db_roles

    with PostgresStore(store, clock=FixedClock(T0), create=False) as log:
        written = log.append(event(1, actor=who.actor(base), extra={"n": 1, **who.record_extra()}))
        assert log.count() == 1 and log.verify().ok
    assert written.actor.user == "alice"
    assert written.extra["db_role"] == role and written.extra["identity_mismatch"] is False
    # The operator's own command line, with nothing but that config, verifies the log and
    # records that access under the certificate's role.
    capsys.readouterr()
    assert main(["audit", "verify", "-c", str(operator_config)]) == 0
    assert "not recorded" not in capsys.readouterr().err
    with PostgresStore(store, clock=FixedClock(T0), create=False) as log:
        assert log.count() == 2

    # The connection was TLS and the server saw this certificate.
    with tc.connect(store, autocommit=True) as conn:
        row = conn.execute(
            "SELECT session_user::text, ssl, client_dn FROM pg_stat_ssl"
            " WHERE pid = pg_backend_pid()"
        ).fetchone()
    assert row is not None and row[0] == role and row[1] is True
    assert row[2] is not None and f"CN={role}" in row[2]

    # Without the certificate the same role has no way in: there is no password to fall to.
    bare = StoreConfig(url=store.url, sslmode="verify-full", sslrootcert=str(tls.ca))
    with pytest.raises(AuditError) as refused:
        tc.connect(bare).close()
    assert f"127.0.0.1:{tls.server.port}/{database}" in str(refused.value)
    assert "requires a valid client certificate" in str(refused.value)


def test_a_client_certificate_from_another_ca_is_refused_naming_host_and_database(
    tls: TlsCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_password: None
) -> None:
    database = _initialised(tls, tmp_path, monkeypatch)
    role = _operator(tls)
    store = _store(_cert_store(tls, tmp_path, role, database, ca="other"))
    with pytest.raises(AuditError) as refused:
        PostgresStore(store, clock=FixedClock(T0), create=False)
    message = str(refused.value)
    assert message.startswith(f"cannot connect to the team store 127.0.0.1:{tls.server.port}/")
    assert database in message and "unknown ca" in message  # the server's TLS refusal
    assert store.sslkey is not None
    key_body = Path(store.sslkey).read_text().splitlines()[1]
    assert "PRIVATE KEY" not in message and key_body not in message
    assert "\n" not in message


def test_verify_full_refuses_a_server_certificate_for_another_host_name(
    tls: TlsCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_password: None
) -> None:
    database = _initialised(tls, tmp_path, monkeypatch)
    role = _operator(tls)
    cert, key = tls.client(role)
    # The same server at the same address, reached under a name its certificate does not hold.
    elsewhere = StoreConfig(
        url=f"postgresql://{role}@db.wrong.example:{tls.server.port}/{database}"
        "?hostaddr=127.0.0.1",
        sslmode="verify-full", sslrootcert=str(tls.ca), sslcert=str(cert), sslkey=str(key),
    )  # fmt: skip
    with pytest.raises(AuditError) as refused:
        tc.connect(elsewhere).close()
    message = str(refused.value)
    assert f"db.wrong.example:{tls.server.port}/{database}" in message
    assert 'does not match host name "db.wrong.example"' in message  # libpq's own check
    # verify-ca checks the CA only: the same connection is let in, so the name is what failed.
    elsewhere.sslmode = "verify-ca"
    with tc.connect(elsewhere, autocommit=True) as conn:
        row = conn.execute("SELECT session_user::text").fetchone()
    assert row is not None and row[0] == role
