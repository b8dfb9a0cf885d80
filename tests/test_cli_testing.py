"""`gateway run`, `gateway capture`, `gateway captures` and `gateway test` as subprocesses
(docs/testing.md), the capture against a `gateway serve` of its own."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
from pathlib import Path

import httpx
import orjson

from tests.api.client import data
from tests.processes import serve
from tests.support import GATEWAY_BIN, ROOT, TEST_SECRET_KEY, Gateway
from tests.test_cli import cli

EXAMPLES = ROOT / "config" / "workflows"
SLACK = {"type": "url_verification", "challenge": "c-123"}
SLACK_URL = "/api/webhook:trigger/example-slack-events-key-0001"


def test_the_examples_tests_pass(database_url: str, tmp_path: Path) -> None:
    result = cli(database_url, tmp_path, "test", str(EXAMPLES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failed" in result.stderr
    assert result.stdout.count("PASS ") >= 3


def test_a_failing_case_fails_the_command(database_url: str, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "slack-events.yaml", tmp_path / "slack.yaml")
    (tmp_path / "slack.test.yaml").write_text(
        "cases:\n"
        "  - name: wrong on purpose\n"
        "    request: {body: {type: event_callback, event: {type: x}}}\n"
        "    expect: {status: 201, nodes: [verification, challenge], "
        "variables: {$context.body.event.type: y}}\n"
        "  - name: right\n"
        "    request: {body: {type: url_verification, challenge: c}}\n"
        "    expect: {body: {challenge: c}}\n"
    )
    result = cli(database_url, tmp_path, "test", "slack.yaml", "--json")
    assert result.returncode == 1
    wrong, right = [orjson.loads(line) for line in result.stdout.splitlines()]
    assert (wrong["passed"], right["passed"]) == (False, True)
    assert wrong["failures"] == [
        "status: expected 201, got 200",
        "nodes: expected ['verification', 'challenge'], got ['verification', 'ack']",
        '$context.body.event.type: expected "y", got "x"',
    ]
    (tmp_path / "bad.test.yaml").write_text("cases: [{expect: {colour: red}}]\n")
    invalid = cli(database_url, tmp_path, "test", "bad.test.yaml")
    assert invalid.returncode == 1
    assert "expect.colour: unknown field" in invalid.stdout


def test_run_prints_the_trace(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "event.json").write_text(orjson.dumps(SLACK).decode())
    applied = cli(database_url, tmp_path, "apply", str(EXAMPLES))
    assert applied.returncode == 0, applied.stderr
    key = {"GATEWAY_SECRET_KEY": TEST_SECRET_KEY}  # as the server, to open stored secrets
    tree = cli(database_url, tmp_path, "run", "slack-events", "--body", "event.json", **key)
    assert tree.returncode == 0, tree.stderr
    lines = tree.stdout.splitlines()
    assert lines[0] == "slack-events (version 1, sync) · request · authentication none"
    assert lines[1] == 'RESOLVED → answer 200 {"challenge":"c-123"}'
    assert lines[2].startswith("  verification  condition  RESOLVED")
    assert "branch 1" in lines[2]
    assert lines[4].startswith("    challenge  response  RESOLVED")
    as_json = cli(
        database_url,
        tmp_path,
        "run",
        "--document",
        str(EXAMPLES / "github-router.yaml"),
        "--header",
        "X-GitHub-Event: ping",
        "--body",
        "event.json",
        "--json",
    )
    assert as_json.returncode == 0, as_json.stderr
    run = orjson.loads(as_json.stdout)
    assert (run["version"], run["answer"]["status"]) == (None, 200)
    assert [n["key"] for n in run["nodes"]] == ["event", "pong"]
    assert cli(database_url, tmp_path, "executions", "--json").stdout.strip() == "[]"


async def test_capture_prints_the_next_call(database_url: str, tmp_path: Path) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environ |= {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_CONFIG": "/nonexistent",
        "GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
    }
    async with serve(database_url, tmp_path, GATEWAY_REVISION_POLL="0.05") as server:
        capture = await asyncio.create_subprocess_exec(
            GATEWAY_BIN,
            "capture",
            "slack-events",
            "--count",
            "1",
            "--json",
            env=environ,
            cwd=tmp_path,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert capture.stderr is not None
        opened = await asyncio.wait_for(capture.stderr.readline(), 30)
        assert b"listening for 1 call(s)" in opened
        headers = {"authorization": "Bearer secret", "x-slack-signature": "v0=abc"}
        async with httpx.AsyncClient(base_url=server.base_url) as client:
            async with asyncio.timeout(30):
                while capture.returncode is None:
                    answered = await client.post(SLACK_URL, json=SLACK, headers=headers)
                    assert answered.status_code == 200  # enabled: runs as usual
                    try:  # the server sees the capture within its poll interval
                        await asyncio.wait_for(asyncio.shield(capture.wait()), 0.1)
                    except TimeoutError:
                        continue
        out, _ = await capture.communicate()
        assert capture.returncode == 0
        [line] = out.decode().splitlines()
        call = orjson.loads(line)
        assert orjson.loads(call["body"]) == SLACK
        assert call["answerStatus"] == 200
        assert call["headers"]["authorization"] == "[redacted]"
        assert call["headers"]["x-slack-signature"] == "[redacted]"
        key = {"GATEWAY_SECRET_KEY": TEST_SECRET_KEY}
        listed = cli(database_url, tmp_path, "captures", "slack-events", "--json", **key)
        assert [orjson.loads(x)["id"] for x in listed.stdout.splitlines()] == [call["id"]]
        replay = cli(database_url, tmp_path, "run", "--captured", str(call["id"]), "--json", **key)
        assert replay.returncode == 0, replay.stderr
        assert orjson.loads(replay.stdout)["answer"]["body"] == {"challenge": "c-123"}


async def test_ctrl_c_closes_the_capture(
    gateway: Gateway, database_url: str, tmp_path: Path
) -> None:
    await gateway.apply((EXAMPLES / "slack-events.yaml").read_text())
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environ |= {
        "GATEWAY_DATABASE_URL": database_url,
        "GATEWAY_CONFIG": "/nonexistent",
        "GATEWAY_SECRET_KEY": TEST_SECRET_KEY,
    }
    capture = await asyncio.create_subprocess_exec(
        GATEWAY_BIN,
        "capture",
        "slack-events",
        env=environ,
        cwd=tmp_path,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert capture.stderr is not None
    assert b"listening for 10 call(s)" in await asyncio.wait_for(capture.stderr.readline(), 30)
    listed = '{ captures(workflowKey: "slack-events") { open } }'
    assert (await data(gateway, listed))["captures"] == [{"open": True}]
    capture.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(capture.wait(), 30) == 130
    assert (await data(gateway, listed))["captures"] == [{"open": False}]


def test_a_run_saved_as_a_test_passes(database_url: str, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "github-router.yaml", tmp_path / "router.yaml")
    (tmp_path / "event.json").write_text('{"zen": "Design for failure.", "hook_id": 7}')
    for event in ("ping", "star"):
        saved = cli(
            database_url,
            tmp_path,
            "run",
            "--document",
            "router.yaml",
            "--header",
            f"X-GitHub-Event: {event}",
            "--body",
            "event.json",
            "--save-test",
            "router.test.yaml",
            "--name",
            f"a {event}",
        )
        assert saved.returncode == 0, saved.stderr
    tested = cli(database_url, tmp_path, "test", "router.yaml")
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.splitlines() == [
        "PASS router.test.yaml: a ping",
        "PASS router.test.yaml: a star",
    ]
    case = (tmp_path / "router.test.yaml").read_text()
    assert "nodes:\n    - event\n    - pong" in case
