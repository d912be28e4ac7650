"""scripts/system-packages, run for real against stand-ins for dpkg-query, id, sudo and apt-get.

Each run's PATH holds only the stand-ins (and env, which the script runs apt-get through), so
no test can reach the machine's own apt-get. The stand-ins write what they were asked to
calls.log; dpkg-query reports every package installed but those in MISSING.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "system-packages"
BASH = shutil.which("bash") or "/bin/bash"
# The environment of a make started by hand, not of one started by `make test`.
OUTSIDE_MAKE = {
    k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
}

# dpkg-query --show --showformat=... PACKAGE...: as the real one, a line for each package it
# knows, an error for each it does not, and status 1 if there was any.
DPKG_QUERY = """#!/bin/sh
printf '%s\\n' "dpkg-query $*" >> "$CALLS"
shift 2
status=0
for package in "$@"; do
  case " $MISSING " in
    *" $package "*) echo "dpkg-query: no packages found matching $package" >&2; status=1 ;;
    *) echo "$package install ok installed" ;;
  esac
done
exit $status
"""
ID = """#!/bin/sh
[ "$1" = "-u" ] && echo "$FAKE_UID"
"""
# sudo -n true succeeds when SUDO_WITHOUT_PASSWORD=1; any other sudo -n COMMAND runs it.
SUDO = """#!/bin/sh
printf '%s\\n' "sudo $*" >> "$CALLS"
[ "$1" = "-n" ] && shift
if [ "$1" = "true" ]; then
  [ "$SUDO_WITHOUT_PASSWORD" = "1" ] || { echo "sudo: a password is required" >&2; exit 1; }
  exit 0
fi
SUDO_USED=1 exec "$@"
"""
APT_GET = """#!/bin/sh
printf '%s\\n' "apt-get $* [DEBIAN_FRONTEND=$DEBIAN_FRONTEND${SUDO_USED:+ through sudo}]" >> "$CALLS"
"""


def stand_ins(tmp_path: Path, *, sudo: bool = True, debian: bool = True) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    programs = {"id": ID, "apt-get": APT_GET}
    if sudo:
        programs["sudo"] = SUDO
    if debian:
        programs["dpkg-query"] = DPKG_QUERY
    for name, text in programs.items():
        (folder / name).write_text(text)
        (folder / name).chmod(0o755)
    (folder / "env").symlink_to(shutil.which("env"))
    return folder


def run(
    tmp_path: Path,
    target: str,
    *,
    missing: str = "",
    uid: int = 0,
    sudo: bool = True,
    sudo_without_password: bool = False,
    debian: bool = True,
    **extra: str,
):
    folder = stand_ins(tmp_path, sudo=sudo, debian=debian)
    calls = tmp_path / "calls.log"
    calls.touch()
    env = {
        "PATH": str(folder),
        "CALLS": str(calls),
        "MISSING": missing,
        "FAKE_UID": str(uid),
        "SUDO_WITHOUT_PASSWORD": "1" if sudo_without_password else "0",
        **extra,
    }
    result = subprocess.run(
        [BASH, str(SCRIPT), target], env=env, capture_output=True, text=True, check=False
    )
    return result, calls.read_text().splitlines()


def apt_get_calls(calls: list[str]) -> list[str]:
    return [call for call in calls if call.startswith("apt-get")]


@pytest.mark.parametrize("target", ["run", "test", "bench", "messages", "lint", "ci"])
def test_nothing_missing_exits_at_once_without_apt_get(tmp_path, target):
    result, calls = run(tmp_path, target, uid=1000, sudo_without_password=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == result.stderr == ""
    assert calls[0].startswith("dpkg-query --show")
    assert len(calls) == 1  # no sudo, no apt-get


def test_missing_packages_are_installed_as_root_after_one_update(tmp_path):
    result, calls = run(tmp_path, "test", missing="libharfbuzz-subset0 poppler-utils", uid=0)
    assert result.returncode == 0, result.stderr
    assert apt_get_calls(calls) == [
        "apt-get update -qq [DEBIAN_FRONTEND=noninteractive]",
        "apt-get install -y --no-install-recommends libharfbuzz-subset0 poppler-utils"
        " [DEBIAN_FRONTEND=noninteractive]",
    ]
    assert not any(call.startswith("sudo") for call in calls)


def test_missing_packages_are_installed_through_sudo_without_a_password(tmp_path):
    result, calls = run(tmp_path, "bench", missing="wrk", uid=1000, sudo_without_password=True)
    assert result.returncode == 0, result.stderr
    assert apt_get_calls(calls) == [
        "apt-get update -qq [DEBIAN_FRONTEND=noninteractive through sudo]",
        "apt-get install -y --no-install-recommends wrk"
        " [DEBIAN_FRONTEND=noninteractive through sudo]",
    ]


@pytest.mark.parametrize("sudo", [True, False], ids=["sudo-asks-a-password", "no-sudo"])
def test_without_root_or_passwordless_sudo_it_stops_with_the_one_line_to_run(tmp_path, sudo):
    result, calls = run(tmp_path, "bench", missing="wrk libharfbuzz-subset0", uid=1000, sudo=sudo)
    assert result.returncode == 1
    assert apt_get_calls(calls) == []
    lines = result.stderr.splitlines()
    assert [line for line in lines if "apt-get" in line] == [
        "apt-get install --no-install-recommends libharfbuzz-subset0 wrk"
    ]
    assert lines[0] == "system-packages: make bench needs Debian packages that are not installed."


def test_each_target_asks_only_for_what_it_needs(tmp_path):
    # chromium is for the tests and wrk for the benchmarks: `make run` goes on without them.
    result, calls = run(tmp_path, "run", missing="chromium wrk gettext postgresql", uid=1000)
    assert result.returncode == 0, result.stderr
    assert calls == [calls[0]]
    queried = calls[0].split("dpkg-query --show --showformat=${Package} ${Status}\\n ")[1]
    assert queried.split() == [
        "python3.11",
        "python3.11-venv",
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz0b",
        "libharfbuzz-subset0",
        "fontconfig",
        "fonts-dejavu-core",
    ]


@pytest.mark.parametrize(
    ("database_url", "needs_client"),
    [("", False), ("sqlite:///var/db.sqlite3", False), ("postgres://postgres@db/x", True)],
)
def test_the_tests_on_postgresql_need_its_client_for_the_backup_scripts(
    tmp_path, database_url, needs_client
):
    result, _ = run(
        tmp_path,
        "test",
        missing="postgresql-client",
        uid=1000,
        sudo=False,
        DATABASE_URL=database_url,
    )
    if needs_client:
        assert result.returncode == 1
        assert result.stderr.splitlines()[-1] == (
            "apt-get install --no-install-recommends postgresql-client"
        )
    else:
        assert result.returncode == 0, result.stderr


def test_ci_installs_everything_the_targets_need(tmp_path):
    everything = (
        "make python3.11 python3.11-venv libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b "
        "libharfbuzz-subset0 fontconfig fonts-dejavu-core chromium poppler-utils "
        "postgresql-client wrk postgresql redis-server gettext"
    )
    result, calls = run(tmp_path, "ci", missing=everything, uid=0)
    assert result.returncode == 0, result.stderr
    assert apt_get_calls(calls)[1].split(" [")[0] == (
        f"apt-get install -y --no-install-recommends {everything}"
    )


def test_off_debian_it_says_it_cannot_check_and_carries_on(tmp_path):
    result, calls = run(tmp_path, "test", uid=1000, debian=False)
    assert result.returncode == 0
    assert "no dpkg-query" in result.stderr
    assert "cannot be checked" in result.stderr
    assert "chromium" in result.stderr  # what to install by other means
    assert calls == []


def test_an_unknown_target_is_refused(tmp_path):
    result, calls = run(tmp_path, "deploy")
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert calls == []


@pytest.mark.parametrize("target", ["run", "test", "bench", "messages", "lint", "format"])
def test_each_make_target_checks_its_packages_before_anything_else(target):
    dry_run = subprocess.run(
        ["make", "--no-print-directory", "--dry-run", "--always-make", target],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env=OUTSIDE_MAKE,
    )
    expected = "lint" if target == "format" else target
    assert dry_run.stdout.splitlines()[0] == f"scripts/system-packages {expected}"
