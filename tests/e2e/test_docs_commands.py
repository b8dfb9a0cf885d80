"""Every shell command of the README, the integration guides and the console page, run as
printed.

For each document, a fresh copy of the project (the `.venv`, `Makefile`, `pyproject.toml`
and `config/` of this checkout, nothing else) is served by the real `make run` on a free
port, and the document's `sh` blocks run in order in one bash session in that copy, as a
newcomer runs them in a second terminal. A `yaml` block introduced by "Save this as
`workflows/NAME.yaml`" is written there first. The one change to the text: `127.0.0.1:8000`
is the port the test chose (and `GATEWAY_PUBLIC_URL` is set to it, as its default matches
`make run`'s default port).

Output: the full-line comments after a command are what it prints — each line must appear
in its output, in order (`…` and `<…>` match anything). `make run` is the server the test
started, so its comments are checked against the server's banner; `make test` is this
suite and is not run. A block preceded by `<!-- docs-test: not run (why) -->` is skipped:
the reason must be given.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.make_run import ROOT, Project, copy_project, make_run, shell_env
from tests.support import free_port

# The README, the integration guides, and the console's page (its `make run`).
GUIDES = [ROOT / "README.md", *sorted((ROOT / "docs" / "integrations").glob("*.md"))]
DOCS = [*GUIDES, ROOT / "docs" / "console.md"]
FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.M | re.S)
SAVE_AS = re.compile(r"[Ss]ave\s+(?:this|it)\s+as\s+`(workflows/[\w.-]+\.ya?ml)`")
NOT_RUN = re.compile(r"<!-- docs-test: not run \((.+?)\) -->\s*$")
MARK = "@@docs-test"


@dataclass
class Command:
    text: str
    expected: list[str] = field(default_factory=list)


@dataclass
class Step:
    kind: str  # "sh" or "file"
    commands: list[Command] = field(default_factory=list)
    path: str = ""
    content: str = ""


def commands(block: str) -> list[Command]:
    """Commands of an `sh` block, `\\`-continued lines joined, each with the full-line
    comments that follow it (its output)."""
    out: list[Command] = []
    pending = ""
    for line in block.splitlines():
        if pending:
            pending += "\n" + line
        elif line.startswith("#"):
            if out:
                out[-1].expected.append(line[1:].strip())
            continue
        elif not line.strip():
            continue
        else:
            pending = line
        if not pending.endswith("\\"):
            out.append(Command(pending))
            pending = ""
    return out


def steps(doc: Path) -> list[Step]:
    text = doc.read_text()
    found: list[Step] = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n")
        language, body = match.group(1), match.group(2)
        if NOT_RUN.search(before):
            continue
        if language == "sh":
            found.append(Step("sh", commands(body)))
        elif language == "yaml" and (saved := SAVE_AS.search(before.split("\n\n")[-1])):
            # "Save this as `workflows/x.yaml`" in the paragraph just before the block
            found.append(Step("file", path=saved.group(1), content=body))
    return found


def pattern(line: str) -> re.Pattern[str]:
    parts = re.split(r"(…|<[^>]+>)", line)
    regex = "".join(".*" if p == "…" or p.startswith("<") else re.escape(p) for p in parts)
    return re.compile(r"\s*" + regex + r"\s*$")


def assert_shows(output: str, expected: list[str], command: str) -> None:
    lines = output.splitlines()
    at = 0
    for want in (e for e in expected if e.strip("… ")):
        wanted = pattern(want)
        while at < len(lines) and not wanted.fullmatch(lines[at]):
            at += 1
        assert at < len(lines), f"{command!r} did not print {want!r}; it printed:\n{output}"
        at += 1


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    copy_project(tmp_path)
    port = free_port()
    with make_run(tmp_path, port) as banner:
        yield Project(tmp_path, port, shell_env(port), banner)


def run_commands(project: Project, step: Step, state: Path) -> None:
    """The block's commands in bash, the environment carried over from the blocks before."""
    local = f"127.0.0.1:{project.port}"
    script = [f"cd {project.path}", f"[ -f {state} ] && . {state}"]
    for number, command in enumerate(step.commands):
        if command.text.startswith("make "):
            continue
        script += [f"echo {MARK} {number}", command.text.replace("127.0.0.1:8000", local)]
        script.append(f"rc=$?; echo; echo {MARK} rc $rc")  # output may not end with a newline
    script.append(f"export -p > {state}")
    result = subprocess.run(
        ["bash", "-c", "\n".join(script) + "\n"],
        env=project.env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr
    outputs = _split(result.stdout)
    for number, command in enumerate(step.commands):
        expected = [e.replace("127.0.0.1:8000", local) for e in command.expected]
        if command.text.startswith("make run"):
            assert_shows("\n".join(project.banner), expected, command.text)
            continue
        if command.text.startswith("make "):
            continue
        output, rc = outputs[number]
        assert rc == 0, f"{command.text!r} failed ({rc}):\n{output}\n{result.stderr}"
        assert_shows(output, expected, command.text)


def _split(stdout: str) -> dict[int, tuple[str, int]]:
    outputs: dict[int, tuple[str, int]] = {}
    number, lines = -1, list[str]()
    for line in stdout.splitlines():
        if line.startswith(f"{MARK} rc "):
            outputs[number] = ("\n".join(lines), int(line.rsplit(" ", 1)[1]))
        elif line.startswith(f"{MARK} "):
            number, lines = int(line.split()[1]), []
        else:
            lines.append(line)
    return outputs


@pytest.mark.timeout(300)  # a server and a dozen CLI processes
@pytest.mark.parametrize("doc", DOCS, ids=[d.stem for d in DOCS])
def test_every_command_runs_as_printed(doc: Path, project: Project) -> None:
    state = project.path / ".docs-test-env"
    found = steps(doc)
    assert any(step.kind == "sh" for step in found), f"{doc.name} has no sh block"
    for step in found:
        if step.kind == "file":
            target = project.path / step.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.content)
        else:
            run_commands(project, step, state)


def test_every_skipped_block_says_why() -> None:
    for doc in DOCS:
        for match in re.finditer(r"<!-- docs-test:(.*?)-->", doc.read_text()):
            assert NOT_RUN.search(match.group(0)), f"{doc.name}: {match.group(0)}"
