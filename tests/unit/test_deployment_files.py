"""compose.yaml, the Dockerfile and deploy/ hold together: no image is built here (that needs
a registry's images), but every command a container runs is one `timeline` accepts, every
variable it sets is one the service reads, every host it names is a service of the file,
Prometheus scrapes each API process where it listens and is allowed to, and the image runs
as a user that is not root, with every package of the project in it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from ipaddress import IPv4Network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from api.settings import networks
from cli.main import _parser

ROOT = Path(__file__).parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name: service for name, service in SERVICES.items() if service.get("build") == "."}
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")


def _variables_the_service_reads() -> set[str]:
    names: set[str] = set()
    for folder in ("api", "store", "cli", "projections"):
        for source in (ROOT / folder).glob("*.py"):
            names.update(re.findall(r'"(TIMELINE_[A-Z_]+)"', source.read_text(encoding="utf-8")))
    return names


def _with_defaults(value: str) -> str:
    """A compose value with each ${NAME:-default} as its default."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)


def test_the_topology_has_a_primary_a_standby_two_apis_a_worker_and_prometheus() -> None:
    assert set(SERVICES) == {
        "primary",
        "replica",
        "migrate",
        "api-1",
        "api-2",
        "worker",
        "prometheus",
    }
    assert set(OURS) == {"migrate", "api-1", "api-2", "worker"}


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_container_runs_a_command_timeline_accepts(name: str) -> None:
    command = OURS[name]["command"]
    parsed = _parser().parse_args(command)
    expected = {"migrate": "migrate", "worker": "project"}.get(name, "serve")
    assert parsed.command == expected
    if expected == "serve":
        # The worker keeps the views: the API processes only serve them.
        assert parsed.projections is False
        assert parsed.host == "0.0.0.0"


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_variable_set_is_one_the_service_reads_and_names_a_host_of_the_file(
    name: str,
) -> None:
    environment: dict[str, str] = OURS[name]["environment"]
    assert set(environment) <= _variables_the_service_reads()
    hosts = {
        variable: urlsplit(_with_defaults(value)).hostname
        for variable, value in environment.items()
        if variable.endswith("DATABASE_URL")
    }
    assert hosts["TIMELINE_DATABASE_URL"] == "primary"
    if "TIMELINE_READ_DATABASE_URL" in hosts:
        assert hosts["TIMELINE_READ_DATABASE_URL"] == "replica"
    assert set(hosts.values()) <= set(SERVICES)


def test_the_apis_read_from_the_standby_and_prometheus_may_scrape_each() -> None:
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = prometheus["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    (targets,) = [group["targets"] for group in job["static_configs"]]
    assert sorted(targets) == ["api-1:8000", "api-2:8000"]
    (subnet,) = networks(COMPOSE["networks"]["default"]["ipam"]["config"][0]["subnet"])
    for api in ("api-1", "api-2"):
        environment = SERVICES[api]["environment"]
        assert "TIMELINE_READ_DATABASE_URL" in environment
        allowed = networks(environment["TIMELINE_METRICS_ALLOW"])
        assert any(
            isinstance(subnet, IPv4Network)
            and isinstance(network, IPv4Network)
            and subnet.subnet_of(network)
            for network in allowed
        )
        assert _parser().parse_args(SERVICES[api]["command"]).port == 8000


def test_the_image_runs_timeline_as_a_user_that_is_not_root_with_every_package() -> None:
    final_stage = DOCKERFILE.rsplit("\nFROM ", 1)[1]
    assert final_stage.startswith("python:3.11-slim")
    (user,) = re.findall(r"^USER (\S+)$", final_stage, flags=re.MULTILINE)
    assert user.split(":")[0] not in ("0", "root")
    assert 'ENTRYPOINT ["timeline"]' in final_stage
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {name.split(".")[0] for name in pyproject["tool"]["setuptools"]["packages"]}
    copied = set(re.findall(r"^COPY (\w+) \1$", DOCKERFILE, flags=re.MULTILINE))
    assert copied == packages
    allowed = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {f"!{package}/" for package in packages} <= set(allowed)


def test_the_wheel_lists_every_package_folder_of_the_project() -> None:
    """setuptools takes only the packages it is given, not their subpackages: a folder left
    out (application/imports once was) is missing from the image and `timeline` cannot start."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(pyproject["tool"]["setuptools"]["packages"])
    tops = {name.split(".")[0] for name in listed}
    folders = {
        ".".join(marker.parent.relative_to(ROOT).parts)
        for top in tops
        for marker in (ROOT / top).rglob("__init__.py")
    }
    assert folders == listed


@pytest.mark.parametrize("script", ["primary-init.sh", "replica-entrypoint.sh"])
def test_the_database_scripts_are_valid_bash(script: str) -> None:
    checked = subprocess.run(
        ["bash", "-n", str(ROOT / "deploy" / script)], capture_output=True, text=True, check=False
    )
    assert checked.returncode == 0, checked.stderr
