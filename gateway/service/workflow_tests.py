"""Workflow tests kept beside workflow documents (docs/testing.md, Workflow tests).

`payments.test.yaml` holds the cases of the workflow in `payments.yaml` (or of the file
its `workflow:` names, relative to it):

    cases:
      - name: a succeeded payment is acknowledged
        request: {headers: {...}, query: "a=1", body: {...}}   # or rawBody: "..."
        skipAuthentication: false
        expect:
          status: 200                      # the answer's status
          body: {received: true}           # a fragment of the answer's body
          headers: {x-kind: paid}          # answer headers (a subset)
          runStatus: RESOLVED              # the run's status
          nodes: [kind, positive-amount, paid]   # the nodes run, in order
          variables: {"$context.body.amount": 1200, "$jobsMapByNodeKey.kind": 1}

Each case is a test run of the document as it is in the file (nothing is read from or
written to a database), side effects off. A body fragment matches when every key it gives
matches, recursively; lists and other values compare whole.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import yaml

from gateway.core.errors import DefinitionInvalid, GatewayError, Problem, TemplateError
from gateway.core.settings import Settings
from gateway.engine.paths import MISSING, lookup, parse_path
from gateway.security.secrets import SecretBox
from gateway.service.captures import REDACTED
from gateway.service.testruns import (
    Target,
    Tester,
    TestRequest,
    TestRun,
    document_target,
    given_request,
)
from gateway.workflows.documents import TEST_SUFFIXES, DocumentLoader, read_sources

SUFFIXES = TEST_SUFFIXES
CASE_FIELDS = frozenset({"name", "request", "skipAuthentication", "sideEffects", "expect"})
REQUEST_FIELDS = frozenset({"method", "headers", "query", "body", "rawBody"})
EXPECT_FIELDS = frozenset({"status", "body", "headers", "runStatus", "nodes", "variables"})


@dataclass
class CaseResult:
    file: str
    name: str
    failures: list[str] = field(default_factory=list)
    run: TestRun | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def test_files(paths: list[str]) -> tuple[list[Path], list[Problem]]:
    """The test files of `paths`: test files themselves, a workflow file's sibling test
    file, every test file in a directory."""
    found: list[Path] = []
    problems: list[Problem] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found += sorted(p for p in path.iterdir() if p.name.endswith(SUFFIXES))
        elif path.name.endswith(SUFFIXES):
            found.append(path)
        elif path.exists():
            sibling = [path.with_name(path.stem + s) for s in SUFFIXES]
            found += [p for p in sibling if p.exists()]
        else:
            problems.append(Problem(str(path), "no such file or directory"))
    return list(dict.fromkeys(found)), problems


def _load(file: Path) -> dict[str, Any]:
    try:
        data = yaml.load(file.read_text(encoding="utf-8"), Loader=DocumentLoader)
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DefinitionInvalid([Problem(str(file), f"cannot read: {exc}")]) from exc
    if not isinstance(data, dict) or not isinstance(data.get("cases"), list):
        raise DefinitionInvalid([Problem(f"{file}: cases", "must be a list of test cases")])
    return data


def _workflow_file(file: Path, data: dict[str, Any]) -> Path:
    named = data.get("workflow")
    if isinstance(named, str):
        return file.parent / named
    stem = file.name
    for suffix in SUFFIXES:
        stem = stem.removesuffix(suffix)
    for ending in (".yaml", ".yml", ".json"):
        candidate = file.parent / (stem + ending)
        if candidate.exists():
            return candidate
    raise DefinitionInvalid(
        [Problem(f"{file}: workflow", "no workflow document beside it", hint=f"{stem}.yaml")]
    )


def _case_problems(case: Any, where: str) -> list[Problem]:
    if not isinstance(case, dict):
        return [Problem(where, "a test case must be a mapping")]
    problems = [Problem(f"{where}.{k}", "unknown field") for k in case if k not in CASE_FIELDS]
    request = case.get("request") or {}
    expect = case.get("expect") or {}
    if not isinstance(request, dict):
        problems.append(Problem(f"{where}.request", "must be a mapping"))
    else:
        problems += [
            Problem(f"{where}.request.{k}", "unknown field")
            for k in request
            if k not in REQUEST_FIELDS
        ]
    if not isinstance(expect, dict):
        problems.append(Problem(f"{where}.expect", "must be a mapping"))
    else:
        problems += [
            Problem(f"{where}.expect.{k}", "unknown field", hint=", ".join(sorted(EXPECT_FIELDS)))
            for k in expect
            if k not in EXPECT_FIELDS
        ]
    return problems


class WorkflowTests:
    """Runs test files with `settings`; secrets are sealed with a key made for the run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = dataclasses.replace(settings, secret_key=secrets.token_urlsafe(32))
        self.box = SecretBox.from_settings(self.settings)
        self.tester = Tester(self.settings, self.settings.template_env_values)

    async def run_file(self, file: Path) -> list[CaseResult]:
        """Every case of `file`; DefinitionInvalid when the file or its workflow is invalid."""
        data = _load(file)
        problems: list[Problem] = []
        for index, case in enumerate(data["cases"]):
            problems += _case_problems(case, f"{file}: cases[{index}]")
        if problems:
            raise DefinitionInvalid(problems)
        sources, read_problems = read_sources([str(_workflow_file(file, data))])
        if read_problems or len(sources) != 1:
            raise DefinitionInvalid(
                read_problems or [Problem(str(file), "the workflow file must hold one document")]
            )
        target = document_target(sources[0], self.settings, self.box)
        return [
            await self._case(file, target, index, case) for index, case in enumerate(data["cases"])
        ]

    async def _case(
        self, file: Path, target: Target, index: int, case: dict[str, Any]
    ) -> CaseResult:
        result = CaseResult(str(file), str(case.get("name") or f"case {index + 1}"))
        request = case.get("request") or {}
        try:
            given = given_request(
                request.get("method"),
                request.get("headers"),
                request.get("query"),
                request.get("body"),
                request.get("rawBody"),
                "body" in request,
            )
            run = await self.tester.run(
                target,
                given,
                side_effects=bool(case.get("sideEffects", False)),
                skip_authentication=bool(case.get("skipAuthentication", False)),
            )
        except GatewayError as exc:
            result.failures.append(f"could not run: {exc}")
            return result
        result.run = run
        result.failures = check(case.get("expect") or {}, run)
        return result


def check(expect: dict[str, Any], run: TestRun) -> list[str]:
    """What in `run` differs from `expect`, one line each."""
    failures: list[str] = []
    answer = run.answer
    if "status" in expect and answer.get("status") != expect["status"]:
        failures.append(f"status: expected {expect['status']}, got {answer.get('status')}")
    if "body" in expect and not matches(expect["body"], answer.get("body")):
        failures.append(f"body: expected {_text(expect['body'])}, got {_text(answer.get('body'))}")
    for name, value in (expect.get("headers") or {}).items():
        got = (answer.get("headers") or {}).get(
            name, (answer.get("headers") or {}).get(name.lower())
        )
        if got != value:
            failures.append(f"header {name}: expected {value!r}, got {got!r}")
    if "runStatus" in expect and run.status != expect["runStatus"]:
        failures.append(f"runStatus: expected {expect['runStatus']}, got {run.status}")
    if "nodes" in expect:
        taken = [node["key"] for node in run.nodes]
        if taken != expect["nodes"]:
            failures.append(f"nodes: expected {expect['nodes']}, got {taken}")
    for path, value in (expect.get("variables") or {}).items():
        got = variable(run, str(path))
        if got is MISSING or not matches(value, got):
            shown = "nothing" if got is MISSING else _text(got)
            failures.append(f"{path}: expected {_text(value)}, got {shown}")
    return failures


def variable(run: TestRun, path: str) -> Any:
    """A value the run saw: `$context...` or `$jobsMapByNodeKey.<node>...`; MISSING when the
    path leads nowhere."""
    results = {node["key"]: node["result"] for node in run.nodes}
    roots = {"$context": run.context or {}, "$jobsMapByNodeKey": results}
    try:
        segments = parse_path(path)
    except TemplateError:
        return MISSING
    if not segments or segments[0] not in roots:
        return MISSING
    return lookup(roots[str(segments[0])], segments[1:])


def matches(expected: Any, got: Any) -> bool:
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(
            key in got and matches(value, got[key]) for key, value in expected.items()
        )
    return bool(expected == got)


def _text(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()


def case_from(run: TestRun, name: str) -> dict[str, Any]:
    """A test case that expects what `run` did: its request, the answer's status and body,
    the run's status and the nodes it ran. Redacted headers are left out; a stored request
    (no credentials) or a run that skipped them gets `skipAuthentication: true`."""
    request = run.request or TestRequest()
    headers = {k: v for k, v in request.headers if v != REDACTED and k != "content-length"}
    given: dict[str, Any] = {"method": request.method} if request.method != "POST" else {}
    if headers:
        given["headers"] = headers
    if request.query:
        given["query"] = request.query
    given.update(_body(request.raw, headers.get("content-type", "")))
    case: dict[str, Any] = {"name": name}
    if run.skipped_authentication or not request.credentials:
        case["skipAuthentication"] = True
    case["request"] = given
    expect: dict[str, Any] = {"status": run.answer.get("status")}
    if run.answer.get("body") is not None:
        expect["body"] = run.answer["body"]
    expect["runStatus"] = run.status
    expect["nodes"] = [node["key"] for node in run.nodes]
    case["expect"] = expect
    return case


def _body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    if "json" in content_type:
        try:
            return {"body": orjson.loads(raw)}
        except orjson.JSONDecodeError:
            pass
    return {"rawBody": raw.decode("utf-8", errors="replace")}


def case_text(case: dict[str, Any]) -> str:
    """One case as YAML, as it reads under `cases:` in a test file."""
    dumped: str = yaml.safe_dump([case], sort_keys=False, allow_unicode=True)
    return dumped


def save_case(file: Path, case: dict[str, Any]) -> None:
    """Add `case` to the test file (created when missing); the file is written back whole."""
    data: dict[str, Any] = {"cases": []}
    if file.exists():
        data = _load(file)
    data["cases"] = [*data["cases"], case]
    file.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
