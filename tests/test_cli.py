"""The `gateway` command line, run as a subprocess against the test's database (docs/documents.md)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson
import yaml

from tests.support import GATEWAY_BIN, TEST_SECRET_KEY, Gateway, free_port, sqlite_url

FIXTURES = Path(__file__).parent / "fixtures" / "documents"
PUBLIC_URL = "https://hooks.example.com/base/"
PLAN_LINE = re.compile(r"^  [+~=-] ")
URL_LINE = re.compile(
    r"^  (\S+) +POST https://hooks\.example\.com/base/api/webhook:trigger/([\w-]{22,})$"
)


def cli(database_url: str, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    environ |= {"GATEWAY_DATABASE_URL": database_url, "GATEWAY_CONFIG": "/nonexistent", **env}
    return subprocess.run(
        [GATEWAY_BIN, *args],
        env=environ,
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,  # not a terminal: --prune needs --yes
        text=True,
        timeout=30,
    )


def documents(tmp_path: Path, *names: str) -> Path:
    """A directory holding copies of the named fixture documents."""
    directory = tmp_path / "workflows"
    directory.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(FIXTURES / name, directory / name)
    return directory


def plan(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [line.strip() for line in result.stdout.splitlines() if PLAN_LINE.match(line)]


def urls(result: subprocess.CompletedProcess[str]) -> dict[str, str]:
    return {m[1]: m[2] for line in result.stdout.splitlines() if (m := URL_LINE.match(line))}


def export(database_url: str, cwd: Path, *keys: str) -> list[Any]:
    result = cli(database_url, cwd, "export", *keys)
    assert result.returncode == 0, result.stderr
    return list(yaml.safe_load_all(result.stdout))


def test_migrate_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "data" / "fresh.db"
    path.parent.mkdir()
    path.touch()
    url = sqlite_url(path)
    names = sorted(p.stem for p in (Path(__file__).parents[1] / "migrations").glob("0*.py"))
    first = cli(url, tmp_path, "migrate")
    assert first.returncode == 0, first.stderr
    assert first.stdout == f"applied {len(names)} migration(s) to {path}: {', '.join(names)}\n"
    again = cli(url, tmp_path, "migrate")  # nothing left to do
    assert (again.returncode, again.stdout) == (0, f"{path} is up to date: no migration to apply\n")
    assert cli(url, tmp_path, "executions", "--json").stdout == "[]\n"


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    path.touch()
    result = cli(sqlite_url(path), tmp_path, "apply", str(FIXTURES / "events.yaml"))
    assert result.returncode == 1
    assert "run `gateway migrate`" in result.stderr
    assert f"(database: {path})" in result.stderr


def test_commands_outside_the_project_create_no_database(tmp_path: Path) -> None:
    # The default URL, sqlite://data/gateway.db, read from a directory that has none.
    for args in (["executions"], ["apply", str(FIXTURES / "events.yaml")], ["token", "list"]):
        result = cli("sqlite://data/gateway.db", tmp_path, *args)
        assert result.returncode == 1
        assert f"no database at {tmp_path / 'data' / 'gateway.db'}" in result.stderr
        assert "`gateway migrate`" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_apply_prints_the_plan_and_urls(database_url: str, tmp_path: Path) -> None:
    directory = documents(tmp_path, "orders.yaml", "events.yaml")
    run: dict[str, str] = {"ORDERS_PASSWORD": "open-sesame", "GATEWAY_PUBLIC_URL": PUBLIC_URL}

    created = cli(database_url, tmp_path, "apply", str(directory), **run)
    assert plan(created) == [
        "+ create audit (version 1)",
        "+ create ping (version 1)",
        "+ create orders (version 1)",
    ]
    keys = urls(created)
    assert sorted(keys) == ["audit", "orders", "ping"]
    assert {d["key"]: d["trigger"]["key"] for d in export(database_url, tmp_path)} == keys

    orders = directory / "orders.yaml"
    orders.write_text(orders.read_text().replace("statusCode: 202", "statusCode: 203"))
    updated = cli(database_url, tmp_path, "apply", str(directory), **run)
    assert plan(updated) == [
        "= unchanged audit (version 1)",
        "= unchanged ping (version 1)",
        "~ update orders (version 1 → 2: nodes)",
    ]
    assert urls(updated) == keys  # trigger URLs survive updates

    (directory / "events.yaml").unlink()
    unconfirmed = cli(database_url, tmp_path, "apply", "--prune", str(directory), **run)
    assert unconfirmed.returncode == 1
    assert unconfirmed.stderr.splitlines() == [
        f"--prune deletes 2 workflow(s) that are not in {directory}: audit, ping",
        "error: nothing was changed; add --yes to delete them",
    ]
    pruned = cli(database_url, tmp_path, "apply", "--prune", "--yes", str(directory), **run)
    assert plan(pruned) == [
        "= unchanged orders (version 2)",
        "- delete audit",
        "- delete ping",
    ]
    assert urls(pruned) == {"orders": keys["orders"]}
    assert [d["key"] for d in export(database_url, tmp_path)] == ["orders"]


def test_invalid_documents_change_nothing(database_url: str, tmp_path: Path) -> None:
    directory = documents(tmp_path, "events.yaml", "invalid.yaml")
    result = cli(database_url, tmp_path, "apply", str(directory))
    assert (result.returncode, result.stdout) == (1, "")
    lines = result.stderr.splitlines()
    assert lines[0] == "error: 19 problem(s); nothing was changed"
    for expected in [
        "  - broken: colour: unknown field (hint: expected one of:",
        "  - broken: trigger.key: must be 22 to 128 URL-safe characters",
        "  - broken: nodes[a].type: unknown node type 'teleport' (hint: calculation, condition,",
        "  - broken: nodes[ok].config.statusCode: must be an HTTP status code",
        "  - broken: nodes[wrong].branchIndex: node 'check' has branches 0, 1",
        "  - broken: nodes[early].config: {{$jobsMapByNodeKey.late}} does not name",
    ]:
        assert any(line.startswith(expected) for line in lines), expected
    assert export(database_url, tmp_path) == []


def test_a_likely_typo_in_a_body_template_is_a_warning(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "wf.yaml").write_text(
        """
key: wf
sync: true
trigger:
  request:
    body: [{key: repository.full_name, var: repositoryName}]
nodes:
  - key: ok
    type: response
    config: {body: {a: "{{$context.body.repositoryNme}}", b: "{{$context.body.zen}}"}}
"""
    )
    result = cli(database_url, tmp_path, "apply", "wf.yaml")
    assert plan(result) == ["+ create wf (version 1)"]  # applied: it may be right
    assert result.stderr.splitlines() == [
        "warning: wf: nodes[ok].config: {{$context.body.repositoryNme}}: no body parse rule "
        "reads 'repositoryNme' (did you mean repositoryName?) (hint: it renders null unless "
        "the sender sends it; a parse rule documents it)"
    ]  # `zen` is close to no rule's name: senders send more than rules list


def test_unreadable_files_are_problems(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("key: [unclosed\n")
    result = cli(database_url, tmp_path, "apply", "bad.yaml", "missing.yaml")
    assert result.returncode == 1
    assert "bad.yaml: cannot read" in result.stderr
    assert "missing.yaml: no such file or directory" in result.stderr


def test_dry_run_changes_nothing(database_url: str, tmp_path: Path) -> None:
    result = cli(database_url, tmp_path, "apply", "--dry-run", str(FIXTURES / "events.yaml"))
    assert result.stdout.startswith("plan (dry run, nothing changed):\n")
    assert plan(result) == ["+ create audit (version 1)", "+ create ping (version 1)"]
    assert export(database_url, tmp_path) == []


def test_environment_variables_come_from_the_process(database_url: str, tmp_path: Path) -> None:
    orders = str(FIXTURES / "orders.yaml")
    missing = cli(database_url, tmp_path, "apply", orders)
    assert missing.returncode == 1
    assert (
        "orders: trigger.basicAuthentication.password: environment variable ORDERS_PASSWORD"
        " is not set" in missing.stderr
    )

    applied = cli(database_url, tmp_path, "apply", orders, ORDERS_PASSWORD="open-sesame")
    assert plan(applied) == ["+ create orders (version 1)"]
    again = cli(database_url, tmp_path, "apply", orders, ORDERS_PASSWORD="open-sesame")
    assert plan(again) == ["= unchanged orders (version 1)"]  # same password, same hash
    changed = cli(database_url, tmp_path, "apply", orders, ORDERS_PASSWORD="another")
    assert plan(changed) == ["~ update orders (version 1 → 2: trigger)"]


def test_export_and_apply_back(database_url: str, tmp_path: Path) -> None:
    directory = documents(tmp_path, "orders.yaml", "events.yaml")
    plan(cli(database_url, tmp_path, "apply", str(directory), ORDERS_PASSWORD="open-sesame"))

    stdout = cli(database_url, tmp_path, "export").stdout
    assert [d["key"] for d in yaml.safe_load_all(stdout)] == ["audit", "ping", "orders"]
    assert "password" not in stdout.lower() and "open-sesame" not in stdout
    [orders] = export(database_url, tmp_path, "orders")
    assert orders["trigger"]["basicAuthentication"] == {"username": "shop"}
    assert orders["nodes"][0]["branches"]["1"][0]["key"] == "ok"

    written = cli(database_url, tmp_path, "export", "-o", "out")
    assert written.stdout == "wrote 3 workflow(s) to out\n"
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "audit.yaml",
        "orders.yaml",
        "ping.yaml",
    ]
    # no ORDERS_PASSWORD now: an export without a password keeps the stored one
    assert plan(cli(database_url, tmp_path, "apply", "out")) == [
        "= unchanged audit (version 1)",
        "= unchanged orders (version 1)",
        "= unchanged ping (version 1)",
    ]


CALLS = """
key: router
sync: true
nodes:
  - key: check
    type: condition
    config:
      rejectOnFalse: false
      calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}
    branches:
      "0": [{key: other, type: response, config: {statusCode: 202}}]
      "1": [{key: is_a, type: response, config: {statusCode: 201}}]
---
key: strict
sync: true
nodes:
  - key: must_be_a
    type: condition
    config:
      calculation: {group: {type: and, calculations: [{calculator: equal, operands: ["{{$context.body.kind}}", a]}]}}
"""


async def test_executions_json(gateway: Gateway, database_url: str, tmp_path: Path) -> None:
    await gateway.apply(*CALLS.split("---"))
    sent = [
        await gateway.post("router", json={"kind": "a"}),
        await gateway.post("router", json={"kind": "b"}),
        await gateway.post("strict", json={"kind": "b"}),
    ]
    assert [r.status_code for r in sent] == [201, 202, 500]
    ids = [r.headers["x-execution-id"] for r in reversed(sent)]  # newest first

    def executions(*args: str) -> list[dict[str, Any]]:
        result = cli(database_url, tmp_path, "executions", "--json", *args)
        assert result.returncode == 0, result.stderr
        rows: list[dict[str, Any]] = orjson.loads(result.stdout)
        return rows

    rows = executions()
    assert [r["id"] for r in rows] == ids
    assert [(r["workflow"], r["status"], r["responseStatus"]) for r in rows] == [
        ("strict", "FAILED", 500),
        ("router", "RESOLVED", 202),
        ("router", "RESOLVED", 201),
    ]
    for row in rows:
        assert {"id", "workflow", "status", "responseStatus", "createdAt", "finishedAt"} <= set(row)
        assert "jobs" not in row
        assert row["createdAt"] <= row["finishedAt"]

    with_jobs = executions("--jobs")
    assert [[j["nodeKey"] for j in r["jobs"]] for r in with_jobs] == [
        ["must_be_a"],
        ["check", "other"],
        ["check", "is_a"],
    ]
    assert [r["id"] for r in executions("--workflow", "router")] == ids[1:]
    assert [r["id"] for r in executions("--status", "FAILED")] == ids[:1]
    assert [r["id"] for r in executions("--status", "RESOLVED", "--limit", "1")] == ids[1:2]
    nobody = cli(database_url, tmp_path, "executions", "--workflow", "nobody")
    assert (nobody.returncode, nobody.stdout) == (1, "")
    assert nobody.stderr.startswith("error: no workflow nobody (database: ")


async def test_executions_table_show_and_replay(
    gateway: Gateway, database_url: str, tmp_path: Path
) -> None:
    await gateway.apply(*CALLS.split("---"))
    failed = (await gateway.post("strict", json={"kind": "b"})).headers["x-execution-id"]

    table = cli(database_url, tmp_path, "executions", "--jobs")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].startswith(f"{failed}  strict ") and " FAILED " in lines[0]
    assert lines[1].split()[:3] == ["must_be_a", "condition", "FAILED"]

    shown = cli(database_url, tmp_path, "executions", "show", failed, "--json")
    assert shown.returncode == 0, shown.stderr
    item = orjson.loads(shown.stdout)
    assert (item["id"], item["workflow"], item["status"]) == (failed, "strict", "FAILED")
    assert item["request"]["body"] == {"kind": "b"}
    assert [job["nodeKey"] for job in item["jobs"]] == ["must_be_a"]

    replayed = cli(
        database_url, tmp_path, "executions", "replay", failed, GATEWAY_SECRET_KEY=TEST_SECRET_KEY
    )
    assert replayed.returncode == 0, replayed.stderr
    first, second = replayed.stdout.splitlines()[:2]
    assert first.startswith(f"replayed {failed} as ")
    new_id = first.rsplit(" ", 1)[1]
    assert second.startswith(f"{new_id}  strict ") and " FAILED " in second
    assert f"replayOf: {failed}" in replayed.stdout
    twice = cli(
        database_url, tmp_path, "executions", "replay", failed, GATEWAY_SECRET_KEY=TEST_SECRET_KEY
    )
    assert twice.returncode == 0, twice.stderr
    assert twice.stdout.splitlines()[0] == (
        f"{failed} was replayed before as {new_id} (--again for another replay)"
    )
    again = cli(
        database_url,
        tmp_path,
        "executions",
        "replay",
        failed,
        "--again",
        GATEWAY_SECRET_KEY=TEST_SECRET_KEY,
    )
    assert again.returncode == 0, again.stderr
    assert again.stdout.startswith(f"replayed {failed} as ")
    assert new_id not in again.stdout.splitlines()[0]

    missing = cli(database_url, tmp_path, "executions", "show", "not-an-id")
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no execution with id not-an-id")


def test_executions_rejects_an_unknown_status(database_url: str, tmp_path: Path) -> None:
    result = cli(database_url, tmp_path, "executions", "--json", "--status", "DONE")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def serve_unmigrated(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    url = sqlite_url(tmp_path / "unmigrated.db")
    return cli(url, tmp_path, "serve", "--port", str(free_port()))


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = serve_unmigrated(tmp_path)
    assert result.returncode != 0
    assert "run `gateway migrate`" in result.stdout + result.stderr


def test_serve_refuses_an_unmigrated_database_without_a_traceback(tmp_path: Path) -> None:
    result = serve_unmigrated(tmp_path)
    assert "Traceback" not in result.stdout + result.stderr


def test_long_running_commands_tune_the_process() -> None:
    """`serve` and `worker` call `tune_process`: a rarer young GC and a 2 ms GIL switch
    interval, so SQLite's thread gets the GIL back from a busy loop without a 5 ms wait."""
    code = (
        "import gc, sys; from gateway.core.tuning import tune_process; tune_process(); "
        "print(sys.getswitchinterval(), gc.get_threshold()[0])"
    )
    python = Path(GATEWAY_BIN).parent / "python"
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)

    assert out.stdout.split() == ["0.002", "20000"]
