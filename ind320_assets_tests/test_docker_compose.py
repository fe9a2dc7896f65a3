"""docker-compose.yml is valid Compose and safe by default, checked without Docker: local ports, auth on, secrets from .env."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
import yaml

from ind320_assets.resources.environment import ENVIRONMENT

PROJECT_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
DAGSTER_SERVICES = ("dagster-webserver", "dagster-daemon")
SECRET_NAME = re.compile(r"PASSWORD|USERNAME|SECRET|TOKEN", re.IGNORECASE)

# What Compose substitutes: $$ (a literal $), ${VAR}, ${VAR:-default}, ${VAR-default},
# ${VAR:?error}, ${VAR?error}, ${VAR:+alternative}, ${VAR+alternative} and $VAR.
# Nested substitutions inside a default are not supported here, and raise.
_SUBSTITUTION = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?+])(?P<argument>[^}]*))?\}"
    r"|(?P<named>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<invalid>))"
)


class MissingVariable(ValueError):
    """A `${VAR:?message}` whose variable is unset (or empty), as Compose reports it."""


def interpolate_string(text: str, environment: dict[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        if match["invalid"] is not None:
            raise ValueError(f"invalid interpolation format in {text!r}")
        name = match["braced"] or match["named"]
        operator, argument = match["operator"], match["argument"] or ""
        if "$" in argument:
            raise ValueError(f"nested interpolation is not supported by this check: {text!r}")
        value = environment.get(name)
        present = value is not None if operator and not operator.startswith(":") else bool(value)
        if operator in ("-", ":-"):
            return value if present else argument
        if operator in ("?", ":?"):
            if not present:
                raise MissingVariable(f"required variable {name} is missing a value: {argument}")
            return value
        if operator in ("+", ":+"):
            return argument if present else ""
        return value or ""

    return _SUBSTITUTION.sub(substitute, text)


def interpolate(node: object, environment: dict[str, str]) -> object:
    """Compose interpolates every string value of the parsed file (never the keys)."""
    if isinstance(node, dict):
        return {key: interpolate(value, environment) for key, value in node.items()}
    if isinstance(node, list):
        return [interpolate(value, environment) for value in node]
    if isinstance(node, str):
        return interpolate_string(node, environment)
    return node


def read_env_file(path: Path) -> dict[str, str]:
    """A Compose .env file: KEY=VALUE lines, # comments, optional quotes around a value."""
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, separator, value = line.partition("=")
        assert separator, f"{path.name}: not KEY=VALUE: {line!r}"
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def string_values(node: object) -> list[str]:
    if isinstance(node, dict):
        return [text for value in node.values() for text in string_values(value)]
    if isinstance(node, list):
        return [text for value in node for text in string_values(value)]
    return [node] if isinstance(node, str) else []


def referenced_variables(node: object) -> dict[str, set[str]]:
    """Each variable the file's values name (comments are not interpolated), with its operators ('' for none)."""
    variables: dict[str, set[str]] = {}
    for text in string_values(node):
        for match in _SUBSTITUTION.finditer(text):
            name = match["braced"] or match["named"]
            if name:
                variables.setdefault(name, set()).add(match["operator"] or "")
    return variables


RAW_TEXT = COMPOSE_FILE.read_text()
RAW = yaml.safe_load(RAW_TEXT)
EXAMPLE = read_env_file(ENV_EXAMPLE)
CONFIG = interpolate(RAW, EXAMPLE)


def compose_spec_schema() -> dict:
    """The Compose Specification's schema, as vendored (with its licence) by check-jsonschema."""
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads(vendor.joinpath("compose-spec.json").read_text())


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    schema = compose_spec_schema()
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    errors = [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator_class(schema).iter_errors(CONFIG)
    ]
    assert not errors, "\n".join(errors)


def test_compose_references_resolve() -> None:
    """What `docker compose config` checks beyond the schema, and the files the services mount."""
    services = CONFIG["services"]
    declared_volumes = set(CONFIG.get("volumes") or {})
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (PROJECT_ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared_volumes, f"{name} uses undeclared volume {source}"
        if "build" in service:
            assert (PROJECT_ROOT / service["build"]["context"] / service["build"]["dockerfile"]).is_file()


@pytest.mark.parametrize("variable", sorted(n for n, ops in referenced_variables(RAW).items() if ":?" in ops))
def test_compose_fails_clearly_without_env(variable: str) -> None:
    """Without .env (or with one that lacks a secret), compose stops and names the variable."""
    environment = {name: value for name, value in EXAMPLE.items() if name != variable}
    with pytest.raises(MissingVariable, match=rf"\b{variable}\b.*\.env"):
        interpolate(RAW, environment)


def published_ports(config: dict) -> list[tuple[str, str | None]]:
    ports = []
    for name, service in config["services"].items():
        for port in service.get("ports", []):
            if isinstance(port, dict):
                ports.append((name, port.get("host_ip")))
            else:
                parts = str(port).rsplit(":", 2)
                ports.append((name, parts[0] if len(parts) == 3 else None))
    return ports


def test_every_published_port_is_on_localhost_only() -> None:
    ports = published_ports(CONFIG)
    assert {name for name, _ in ports} >= {"cassandra", "mongodb", "dagster-webserver"}
    assert [(name, ip) for name, ip in ports if ip != "127.0.0.1"] == []
    assert published_ports({"services": {"s": {"ports": ["9042:9042"]}}}) == [("s", None)]


def test_no_secret_is_written_in_the_compose_file() -> None:
    for name, service in RAW["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_NAME.search(key):
                assert re.fullmatch(r"\$\{[A-Z0-9_]+:\?[^}]*\}", str(value)), (
                    f"{name}.{key} must be a required variable, not {value!r}"
                )
    uri = RAW["services"]["dagster-webserver"]["environment"]["MONGO_URI"]
    assert re.fullmatch(r"mongodb://\$\{MONGO_USERNAME:\?[^}]*\}:\$\{MONGO_PASSWORD:\?[^}]*\}@[^@]+", uri), uri
    for variable, operators in referenced_variables(RAW).items():
        if SECRET_NAME.search(variable):
            assert operators == {":?"}, f"{variable} must have no default: {operators}"
    for variable, value in EXAMPLE.items():
        if SECRET_NAME.search(variable) and "PASSWORD" in variable:
            assert value not in RAW_TEXT, f"the value of {variable} appears in docker-compose.yml"
            assert value.startswith("change-me"), f"{variable} in .env.example must be a placeholder"


def test_env_is_untracked_and_example_defines_every_required_variable() -> None:
    if shutil.which("git") is None or not (PROJECT_ROOT / ".git").exists():
        pytest.skip("not a git work tree")

    def git(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["git", *args], cwd=PROJECT_ROOT, capture_output=True, text=True)

    assert git("check-ignore", "-q", ".env").returncode == 0, ".env must be git-ignored"
    assert git("check-ignore", "-q", ".env.example").returncode == 1, ".env.example must not be ignored"
    assert git("ls-files", ".env").stdout == "", ".env must never be committed"
    without_default = {
        name for name, operators in referenced_variables(RAW).items() if operators & {"", ":?", "?"}
    }
    assert without_default <= set(EXAMPLE), sorted(without_default - set(EXAMPLE))


@pytest.mark.parametrize("service", DAGSTER_SERVICES)
def test_dagster_services_get_the_credentials(service: str) -> None:
    environment = CONFIG["services"][service]["environment"]
    cassandra, mongo = ENVIRONMENT["cassandra"], ENVIRONMENT["mongo"]
    assert environment[cassandra["hosts"]] == "cassandra"
    assert environment[cassandra["username"]] == EXAMPLE["CASSANDRA_USERNAME"]
    assert environment[cassandra["password"]] == EXAMPLE["CASSANDRA_PASSWORD"]
    uri = urlsplit(environment[mongo["uri"]])
    assert (uri.hostname, uri.port) == ("mongodb", 27017)
    assert (uri.username, uri.password) == (EXAMPLE["MONGO_USERNAME"], EXAMPLE["MONGO_PASSWORD"])
    assert parse_qs(uri.query) == {"authSource": ["admin"]}
    assert environment[mongo["database"]] == EXAMPLE["MONGO_DB"]
    # They start only once the application users exist.
    assert CONFIG["services"][service]["depends_on"] == {
        "cassandra-init": {"condition": "service_completed_successfully"},
        "mongodb-init": {"condition": "service_completed_successfully"},
    }


def test_the_databases_run_with_authentication() -> None:
    services = CONFIG["services"]
    assert services["cassandra"]["entrypoint"] == ["bash", "/ind320/enable-auth.sh"]
    assert "./docker/cassandra:/ind320:ro" in services["cassandra"]["volumes"]
    init = services["cassandra-init"]["environment"]
    assert init["CASSANDRA_USERNAME"] == EXAMPLE["CASSANDRA_USERNAME"]
    assert init["CASSANDRA_PASSWORD"] == EXAMPLE["CASSANDRA_PASSWORD"]
    mongodb = services["mongodb"]["environment"]
    assert mongodb["MONGO_INITDB_ROOT_USERNAME"] == EXAMPLE["MONGO_ROOT_USERNAME"]
    assert mongodb["MONGO_INITDB_ROOT_PASSWORD"] == EXAMPLE["MONGO_ROOT_PASSWORD"]
    assert services["mongodb-init"]["environment"]["MONGO_USERNAME"] == EXAMPLE["MONGO_USERNAME"]


def _executable(path: Path, text: str) -> None:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _run_enable_auth(conf_dir: Path) -> subprocess.CompletedProcess:
    """enable-auth.sh as the image runs it, on `conf_dir`'s cassandra.yaml, with the
    `docker-entrypoint.sh` found first on PATH being the one the test wrote there."""
    return subprocess.run(
        ["bash", str(PROJECT_ROOT / "docker/cassandra/enable-auth.sh"), "cassandra", "-f"],
        env={**os.environ, "CASSANDRA_CONF": str(conf_dir), "PATH": f"{conf_dir}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
    )


CASSANDRA_5_AUTH = """\
# - AllowAllAuthenticator performs no checks - set it to disable authentication.
authenticator:
  class_name: AllowAllAuthenticator
#  class_name: org.apache.cassandra.auth.MutualTlsAuthenticator
internode_authenticator: org.apache.cassandra.auth.AllowAllInternodeAuthenticator
"""


@pytest.mark.parametrize(
    ("setting", "expected"),
    [
        (CASSANDRA_5_AUTH, "authenticator:\n  class_name: PasswordAuthenticator\n"),
        ("authenticator: org.apache.cassandra.auth.AllowAllAuthenticator\n", "authenticator: PasswordAuthenticator\n"),
    ],
)
def test_enable_auth_switches_the_authenticator_then_hands_over(tmp_path: Path, setting: str, expected: str) -> None:
    (tmp_path / "cassandra.yaml").write_text(setting)
    _executable(tmp_path / "docker-entrypoint.sh", '#!/bin/sh\necho "handed over: $*"\n')
    result = _run_enable_auth(tmp_path)
    assert result.returncode == 0, result.stderr
    assert "handed over: cassandra -f" in result.stdout
    text = (tmp_path / "cassandra.yaml").read_text()
    assert expected in text
    assert "AllowAllInternodeAuthenticator" not in setting or "AllowAllInternodeAuthenticator" in text


def test_enable_auth_refuses_to_start_without_authentication(tmp_path: Path) -> None:
    (tmp_path / "cassandra.yaml").write_text("cluster_name: x\n")
    _executable(tmp_path / "docker-entrypoint.sh", "#!/bin/sh\necho started\n")
    result = _run_enable_auth(tmp_path)
    assert result.returncode == 1
    assert "started" not in result.stdout
    assert "not starting Cassandra without authentication" in result.stderr


# A stand-in for cqlsh: accepts a role whose password in its credentials file matches
# the state folder, applies ALTER/CREATE ROLE from -f, and records its argv.
FAKE_CQLSH = r"""#!/usr/bin/env python3
import configparser, os, pathlib, re, sys
state = pathlib.Path(os.environ["FAKE_CQLSH_STATE"])
with open(state / "argv.log", "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\n")
args = sys.argv[1:]
credentials = args[args.index("--credentials") + 1]
assert os.stat(credentials).st_mode & 0o077 == 0, "credentials file readable by others"
parser = configparser.ConfigParser(interpolation=None)
parser.read(credentials)
role, password = parser["PlainTextAuthProvider"]["username"], parser["PlainTextAuthProvider"]["password"]
if not (state / role).exists() or (state / role).read_text() != password:
    sys.exit("Connection error: Bad credentials")
if "-f" in args:
    for statement in pathlib.Path(args[args.index("-f") + 1]).read_text().splitlines():
        match = re.match(r"(?:CREATE ROLE IF NOT EXISTS|ALTER ROLE) '?([^' ]+)'? WITH PASSWORD = '((?:[^']|'')*)'", statement)
        name, new = match[1], match[2].replace("''", "'")
        if statement.startswith("ALTER") or not (state / name).exists():
            (state / name).write_text(new)
"""


def test_create_roles_sets_both_passwords_and_keeps_them_off_the_command_line(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "cassandra").write_text("cassandra")  # the image's default superuser
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _executable(bin_dir / "cqlsh", FAKE_CQLSH)

    def run(superuser_password: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(PROJECT_ROOT / "docker/cassandra/create-roles.sh")],
            env={
                **os.environ,
                "PATH": f"{bin_dir}:{os.environ['PATH']}",
                "FAKE_CQLSH_STATE": str(state),
                "CASSANDRA_INIT_ATTEMPTS": "1",
                "CASSANDRA_SUPERUSER_PASSWORD": superuser_password,
                "CASSANDRA_USERNAME": "ind320",
                "CASSANDRA_PASSWORD": password,
            },
            capture_output=True,
            text=True,
        )

    first = run("super'Secret1", "app'Secret1")
    assert first.returncode == 0, first.stderr
    assert (state / "cassandra").read_text() == "super'Secret1"
    assert (state / "ind320").read_text() == "app'Secret1"
    rotated = run("super'Secret1", "appSecret2")  # a changed CASSANDRA_PASSWORD, rerun
    assert rotated.returncode == 0, rotated.stderr
    assert (state / "ind320").read_text() == "appSecret2"
    placeholder = run("change-me-cassandra-superuser", "appSecret2")
    assert placeholder.returncode == 1 and "placeholder" in placeholder.stderr

    argv = (state / "argv.log").read_text()
    for secret in ("Secret1", "Secret2"):
        assert secret not in argv
    for result in (first, rotated, placeholder):
        assert "Secret" not in result.stdout + result.stderr
