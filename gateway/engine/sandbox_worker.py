"""The CEL evaluation worker: a separate process the sandbox talks to over a pipe.

Run as a script (`python -I sandbox_worker.py MEMORY_BYTES`); it imports nothing from the
gateway. Its address space is capped with `RLIMIT_AS`, so an expression that builds huge
values fails here, never in the server. The parent kills it when an evaluation overruns its
time budget.

Protocol, both ways: a 4-byte big-endian length, then that many bytes of JSON.
Request `{"src": str, "names": [str], "vars": {name: value}, "max": int}`; answer
`{"ok": value}` or `{"error": str}`. Results are made JSON-safe: timestamps become RFC 3339
text, durations `"<seconds>s"`, bytes base64 text, map keys text. A result whose JSON is
longer than `max` bytes is an error.
"""

from __future__ import annotations

import base64
import datetime
import json
import resource
import struct
import sys
from typing import Any, BinaryIO

from cel_expr_python import cel  # type: ignore[import-untyped]
from cel_expr_python.ext import (  # type: ignore[import-untyped]
    ext_encoders,
    ext_math,
    ext_strings,
)

HEADER = struct.Struct(">I")


def new_env(names: list[str]) -> Any:
    """The environment every gateway expression is checked and run in."""
    extensions = [ext_strings.ExtStrings(), ext_math.ExtMath(), ext_encoders.ExtEncoders()]
    return cel.NewEnv(variables={name: cel.Type.DYN for name in names}, extensions=extensions)


def plain(value: Any) -> Any:
    """A CEL result as JSON-safe Python data."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, datetime.timedelta):
        return f"{value.total_seconds():g}s"
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {
            key if isinstance(key, str) else json.dumps(plain(key)): plain(item)
            for key, item in value.items()
        }
    return str(value.name()) if hasattr(value, "name") else str(value)


def clean(message: str) -> str:
    """cel-cpp's status text without its code prefix and suffix."""
    message = message.strip()
    for code in ("INVALID_ARGUMENT: ", "NOT_FOUND: ", "OUT_OF_RANGE: ", "INTERNAL: ", "UNKNOWN: "):
        message = message.removeprefix(code)
    return message.split(" [", 1)[0] if message.endswith("]") else message


class Worker:
    def __init__(self) -> None:
        self.envs: dict[tuple[str, ...], Any] = {}
        self.programs: dict[tuple[str, tuple[str, ...]], Any] = {}

    def program(self, src: str, names: tuple[str, ...]) -> Any:
        key = (src, names)
        if key not in self.programs:
            if names not in self.envs:
                self.envs[names] = new_env(list(names))
            if len(self.programs) > 1000:
                self.programs.clear()
            self.programs[key] = self.envs[names].compile(src)
        return self.programs[key]

    def evaluate(self, request: dict[str, Any]) -> dict[str, Any]:
        try:
            program = self.program(request["src"], tuple(request["names"]))
            value = program.eval(data=request["vars"])
        except MemoryError:
            return {"error": "the expression ran out of memory"}
        except Exception as exc:
            return {"error": clean(str(exc))}
        if value.type() == cel.Type.ERROR:
            return {"error": clean(str(value.plain_value()))}
        return {"ok": plain(value.plain_value())}


def read_frame(stream: BinaryIO) -> bytes | None:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    return stream.read(HEADER.unpack(header)[0])


def main() -> None:
    memory = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    worker = Worker()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while (frame := read_frame(stdin)) is not None:
        request = json.loads(frame)
        try:
            answer = json.dumps(worker.evaluate(request)).encode()
        except MemoryError:
            answer = json.dumps({"error": "the expression ran out of memory"}).encode()
        if len(answer) > request["max"]:
            answer = json.dumps({"error": "the result is too large"}).encode()
        stdout.write(HEADER.pack(len(answer)) + answer)
        stdout.flush()


if __name__ == "__main__":
    main()
