"""Connecting to the PostGIS store: one-line errors for the ways it goes wrong.

A wrong URL, a server that is down or refuses the login, a database without PostGIS and a
store loaded by an older xinqu each raise `PgStoreError` with a message naming the problem
(never the password), so the CLI prints one line and the web service can answer 503.
"""

from __future__ import annotations

import os
import re

import psycopg
from psycopg import conninfo, sql

from layers.pgstore.errors import PgStoreError

# The project's own cluster (scripts/db.sh, `make db`, on $XINQU_PGPORT as the script is);
# XINQU_STORE may name another.
DEFAULT_URL = f"postgresql://xinqu:xinqu@127.0.0.1:{os.environ.get('XINQU_PGPORT', '55432')}/xinqu"
SCHEMA = "xinqu"
# Raised whenever the tables' layout changes, so a store loaded by an older xinqu is
# recognised and reloaded rather than misread.
SCHEMA_VERSION = 4
CONNECT_TIMEOUT_S = 5


def safe_url(url: str) -> str:
    """`url` with its password replaced by ***, for messages."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def check_url(url: str) -> dict[str, str]:
    """The connection parameters of a postgresql:// URL; PgStoreError if it is not one."""
    shown = safe_url(url)
    if not re.match(r"postgres(ql)?://", url or ""):
        raise PgStoreError(f"{shown!r} is not a PostgreSQL URL "
                           "(postgresql://user:password@host:port/database)")
    try:
        params = conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError as error:
        raise PgStoreError(f"bad PostgreSQL URL {shown!r}: {_first_line(error)}") from None
    if not params.get("dbname"):
        raise PgStoreError(f"PostgreSQL URL {shown!r} names no database")
    if not all(p.isdigit() for p in str(params.get("port") or "5432").split(",")):
        raise PgStoreError(f"PostgreSQL URL {shown!r} has a port that is not a number")
    return params


def connect(url: str | None = None, *, require_postgis: bool = True,
            autocommit: bool = False) -> psycopg.Connection:
    """An open connection to `url` (default: $XINQU_STORE if it is a PostgreSQL URL, else
    the project's cluster), checked to have PostGIS. Raises PgStoreError naming the
    problem: a bad URL, a server that is down or refuses the login, no PostGIS."""
    url = url or _env_url() or DEFAULT_URL
    params = check_url(url)
    where = f"{params.get('host') or 'localhost'}:{params.get('port') or 5432}"
    try:
        conn = psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S, autocommit=autocommit,
                               application_name="xinqu")
    except psycopg.OperationalError as error:
        raise PgStoreError(_connect_message(str(error), where, params)) from None
    if require_postgis:
        try:
            version = postgis_version(conn)
        except BaseException:
            conn.close()
            raise
        if version is None:
            conn.close()
            raise PgStoreError(f"database {params['dbname']!r} at {where} has no PostGIS "
                               "(CREATE EXTENSION postgis, as its owner or a superuser)")
    return conn


def fresh_database(name: str, url: str | None = None) -> str:
    """Create (or re-create, empty) database `name` on the server of `url` (default: the
    project's cluster) with PostGIS and pg_trgm, for tests and benchmarks; its URL."""
    server = (url or DEFAULT_URL).rsplit("/", 1)[0]
    with connect(f"{server}/postgres", require_postgis=False, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    fresh = f"{server}/{name}"
    with psycopg.connect(fresh, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION postgis")
        conn.execute("CREATE EXTENSION pg_trgm")
    return fresh


def postgis_version(conn: psycopg.Connection) -> str | None:
    """The PostGIS extension's version in this database, None when it is not installed."""
    return extension_version(conn, "postgis")


def extension_version(conn: psycopg.Connection, name: str) -> str | None:
    """The version of extension `name` in this database, None when it is not installed."""
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = %s",
                       (name,)).fetchone()
    if not conn.autocommit:
        conn.rollback()  # leave no transaction open behind a check
    return row[0] if row else None


def check_schema(conn: psycopg.Connection, schema: str = SCHEMA) -> int:
    """The version of the store loaded in `schema`; PgStoreError when there is none or it
    was loaded by an older (or newer) xinqu."""
    found = conn.execute(
        "SELECT to_regclass(format('%%I.schema_version', %s::text)) IS NOT NULL",
        (schema,)).fetchone()[0]
    if not found:
        if not conn.autocommit:
            conn.rollback()
        raise PgStoreError(f"no xinqu store in schema {schema!r}: load one first "
                           "(python -m layers.pgstore load)")
    version = conn.execute(sql.SQL("SELECT max(version) FROM {}.schema_version").format(
        sql.Identifier(schema))).fetchone()[0]
    if not conn.autocommit:
        conn.rollback()
    if version != SCHEMA_VERSION:
        age = "an older" if (version or 0) < SCHEMA_VERSION else "a newer"
        raise PgStoreError(f"the store in schema {schema!r} has schema version {version}, "
                           f"from {age} xinqu (this one reads version {SCHEMA_VERSION}): "
                           "load the store again")
    return version


def _env_url() -> str | None:
    value = os.environ.get("XINQU_STORE", "")
    return value if re.match(r"postgres(ql)?://", value) else None


def _first_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__


def _connect_message(text: str, where: str, params: dict[str, str]) -> str:
    """A one-line reason from libpq's (often multi-line) connection error."""
    user, dbname = params.get("user", ""), params.get("dbname", "")
    if "Connection refused" in text or "No such file or directory" in text:
        return (f"no PostgreSQL server at {where} (connection refused): is it running? "
                "`make db` starts the project's")
    if "timeout expired" in text:
        return f"no answer from PostgreSQL at {where} within {CONNECT_TIMEOUT_S} s"
    if "could not translate host name" in text:
        return f"unknown database host in {where}"
    if "password authentication failed" in text or "no password supplied" in text:
        return f"PostgreSQL at {where} refused user {user!r}: wrong or missing password"
    if "does not exist" in text and "database" in text:
        return f"PostgreSQL at {where} has no database {dbname!r}"
    if "does not exist" in text and "role" in text:
        return f"PostgreSQL at {where} has no user {user!r}"
    # libpq repeats the address in front of the reason: keep the reason.
    reason = _first_line(Exception(text))
    reason = re.sub(r"^connection to server at .*?failed:\s*", "", reason)
    return f"cannot connect to PostgreSQL at {where}: {reason}"
