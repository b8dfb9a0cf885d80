"""`make run` as a newcomer meets it: the banner, a taken port, a restart after edits."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.e2e.make_run import ROOT, copy_project, make_run, shell_env, start
from tests.support import free_port

GATEWAY = str(ROOT / ".venv" / "bin" / "gateway")


def gateway(project: Path, port: int, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI as the guides run it: in the project, with `make run`'s dev setting."""
    return subprocess.run(
        [GATEWAY, *args],
        cwd=project,
        env=shell_env(port) | {"GATEWAY_DEV": "1"},
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )


@pytest.mark.timeout(300)  # three `make run`s and four CLI processes
def test_banner_taken_port_and_a_restart_after_edits(tmp_path: Path) -> None:
    copy_project(tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with make_run(tmp_path, port) as lines:
        banner = "\n".join(lines)
        assert f"console   {base}/console/" in banner
        assert f"GraphQL   {base}/graphql" in banner
        assert re.search(r"^token     gw_[\w-]{40,}$", banner, re.M)
        assert "examples: + create payment-events (version 1)" in banner
        assert (
            f"  payment-events  POST {base}/api/webhook:trigger/example-payment-events-key-0001"
            "  (basic auth as payments)"
        ) in banner

        second = start(tmp_path, port)  # the same port: refused before anything is done
        output, _ = second.communicate(timeout=60)
        assert second.returncode != 0
        assert f"cannot listen on 127.0.0.1:{port}: the port is taken" in output
        assert f"make run PORT={port + 1}" in output
        assert "token" not in output and "examples:" not in output

        edited = tmp_path / "edited"
        edited.mkdir()
        doc = yaml.safe_load((tmp_path / "config/workflows/payment-events.yaml").read_text())
        doc["title"] = "Edited after the first run"
        (edited / "payment-events.yaml").write_text(yaml.safe_dump(doc))
        applied = gateway(tmp_path, port, "apply", str(edited))
        assert applied.returncode == 0, applied.stderr
        created = gateway(tmp_path, port, "token", "create")
        assert created.returncode == 0, created.stderr

    with make_run(tmp_path, port) as lines:
        banner = "\n".join(lines)
        assert "examples: kept github-router, payment-events, slack-events as stored" in banner
        assert "examples: +" not in banner
        assert "token     none printed" in banner and "gw_" not in banner
        exported = gateway(tmp_path, port, "export", "payment-events")
        assert yaml.safe_load(exported.stdout)["title"] == "Edited after the first run"
