"""The committed console build (`gateway/console/static/`) and the generated operation types
(`console/src/graphql/generated.ts`) are exactly what `make console` makes from the sources,
the checked-in SDL and the lock file: the test rebuilds in a temporary copy and compares byte
for byte (Vite's output is reproducible: content-hashed names, no paths, no times). When it
fails, run `make console` and commit the result."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from gateway.console.serve import STATIC
from tests.databases import in_ci
from tests.support import ROOT

CONSOLE = ROOT / "console"
GENERATED = Path("src") / "graphql" / "generated.ts"


def digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def rebuilt(work: Path) -> Path:
    """A copy of what the build reads, built; returns the copy's console folder."""
    npm = shutil.which("npm")
    if npm is None or not (CONSOLE / "node_modules").is_dir():
        reason = "npm and console/node_modules are needed (make console, or make test)"
        if in_ci():
            pytest.fail(reason)
        pytest.skip(reason)
    shutil.copytree(ROOT / "schema", work / "schema")
    shutil.copytree(ROOT / "config" / "workflows", work / "config" / "workflows")
    shutil.copytree(CONSOLE, work / "console", ignore=shutil.ignore_patterns("node_modules"))
    (work / "console" / "node_modules").symlink_to(CONSOLE / "node_modules")
    built = subprocess.run(
        [str(npm), "run", "build"],
        cwd=work / "console",
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    return work / "console"


@pytest.mark.timeout(300)
def test_the_committed_build_is_what_the_sources_make(tmp_path: Path) -> None:
    console = rebuilt(tmp_path)
    fresh, committed = digests(tmp_path / "gateway" / "console" / "static"), digests(STATIC)
    stale = sorted(set(fresh.items()) ^ set(committed.items()))
    assert not stale, f"gateway/console/static is stale (run `make console`): {stale[:10]}"
    generated = (console / GENERATED).read_bytes()
    assert generated == (CONSOLE / GENERATED).read_bytes(), "run `make console`: types drifted"
