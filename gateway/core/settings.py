"""The gateway's settings: one typed object, read once.

Environment variables (`GATEWAY_*`) win over `config/gateway.toml` (or the file named by
`GATEWAY_CONFIG`), which wins over the defaults. Nothing else in the package reads
`os.environ`; the environment mapping is passed in so tests can build settings directly.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from gateway.core.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_JSON_DEPTH = 1024
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_duration(text: str) -> int:
    """Seconds in a duration such as `14d`, `12h` or `90`: `parse_duration("2h") == 7200`."""
    match = _DURATION.match(text)
    if not match:
        raise ConfigError(f"not a duration: {text!r} (use a number with s, m, h, d or w)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(f"not a boolean: {text!r}")


def _parse_list(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with its default (docs/settings.md)."""

    database_url: str = "sqlite://data/gateway.db"
    redis_url: str | None = None
    redis_queue: str = "arq:queue"
    redis_prefix: str = "gateway"
    public_url: str = "http://127.0.0.1:8000"
    admin_tokens: tuple[str, ...] = ()
    dev: bool = False
    introspection: bool | None = None  # GraphQL introspection and GraphiQL; None: as `dev`
    workflows_dir: str | None = None
    body_limit: int = 1024 * 1024
    json_depth: int = 64
    sync_timeout: int = 30_000
    sync_record_first: bool = False
    outbound_allow: tuple[str, ...] = ()
    outbound_per_host: int = 32  # requests in flight to one host:port, per process
    secret_key: str | None = None
    execution_max_age: int = 14 * 86400
    log_level: str = "info"
    template_env: tuple[str, ...] = ()
    executor_concurrency: int = 32
    shutdown_grace: int = 30
    revision_poll: float = 1.0
    lease: float = 30.0
    sweep_interval: float = 5.0
    delivery_grace: float = 10.0
    worker_concurrency: int = 512
    prune_interval: float = 3600.0
    shortcuts: bool = True  # core/shortcuts.py
    header_timeout: float = 10.0  # seconds from a connection's or request's first byte
    body_timeout: float = 10.0  # seconds per window of the body's minimum rate
    body_min_rate: int = 1024  # bytes per second, measured over each body_timeout window
    keep_alive_timeout: float = 5.0  # seconds an idle keep-alive connection stays open
    max_connections: int = 4096  # concurrent connections (and requests); more get 503
    graphql_max_answer: int = 16 * 1024 * 1024  # bytes of JSON values and bodies per answer
    env: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def template_env_values(self) -> dict[str, str]:
        """The `$env` root: only the names listed in `GATEWAY_TEMPLATE_ENV`."""
        return {name: self.env[name] for name in self.template_env if name in self.env}


_CONVERTERS: dict[str, Any] = {
    "redis_url": lambda v: v or None,
    "admin_tokens": _parse_list,
    "dev": _parse_bool,
    "introspection": lambda v: _parse_bool(v) if v.strip() else None,
    "workflows_dir": lambda v: v or None,
    "body_limit": int,
    "json_depth": int,
    "sync_timeout": int,
    "sync_record_first": _parse_bool,
    "outbound_allow": _parse_list,
    "outbound_per_host": int,
    "secret_key": lambda v: v or None,
    "execution_max_age": parse_duration,
    "template_env": _parse_list,
    "executor_concurrency": int,
    "shutdown_grace": int,
    "revision_poll": float,
    "lease": float,
    "sweep_interval": float,
    "delivery_grace": float,
    "worker_concurrency": int,
    "prune_interval": float,
    "shortcuts": _parse_bool,
    "header_timeout": float,
    "body_timeout": float,
    "body_min_rate": int,
    "keep_alive_timeout": float,
    "max_connections": int,
    "graphql_max_answer": int,
}


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    section = data.get("gateway", data)
    return {str(k).replace("-", "_"): v for k, v in section.items()}


def _convert(name: str, raw: Any) -> Any:
    converter = _CONVERTERS.get(name)
    if isinstance(raw, str) and converter is not None:
        return converter(raw)
    if name in ("admin_tokens", "outbound_allow", "template_env") and isinstance(raw, list):
        return tuple(str(item) for item in raw)
    if name == "execution_max_age" and isinstance(raw, str):
        return parse_duration(raw)
    return raw


def load_settings(env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from defaults, the TOML file, the environment, then `overrides`."""
    environ = dict(os.environ if env is None else env)
    config_path = Path(environ.get("GATEWAY_CONFIG", "config/gateway.toml"))
    values: dict[str, Any] = {}
    names = {f.name for f in fields(Settings)} - {"env"}
    for name, raw in _from_file(config_path).items():
        if name not in names:
            raise ConfigError(f"{config_path}: unknown setting {name!r}")
        values[name] = raw
    for name in names:
        raw = environ.get(f"GATEWAY_{name.upper()}")
        if raw is not None:
            values[name] = raw
    values.update(overrides)
    try:
        converted = {name: _convert(name, raw) for name, raw in values.items()}
    except ValueError as exc:
        raise ConfigError(f"invalid setting: {exc}") from exc
    settings = Settings(**converted, env=environ)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    if settings.body_limit <= 0:
        raise ConfigError("GATEWAY_BODY_LIMIT must be positive")
    if not 0 < settings.json_depth <= MAX_JSON_DEPTH:
        # The JSON parser (orjson) refuses nesting beyond 1024 levels whatever we allow.
        raise ConfigError(f"GATEWAY_JSON_DEPTH must be from 1 to {MAX_JSON_DEPTH}")
    if settings.sync_timeout <= 0:
        raise ConfigError("GATEWAY_SYNC_TIMEOUT must be positive (milliseconds)")
    if settings.lease < 3 or settings.sweep_interval <= 0 or settings.delivery_grace <= 0:
        raise ConfigError("GATEWAY_LEASE must be 3 s or more; sweep and grace positive")
    if settings.worker_concurrency < 1:
        raise ConfigError("GATEWAY_WORKER_CONCURRENCY must be 1 or more")
    if settings.outbound_per_host < 1:
        raise ConfigError("GATEWAY_OUTBOUND_PER_HOST must be 1 or more")
    if settings.executor_concurrency < 0:
        raise ConfigError("GATEWAY_EXECUTOR_CONCURRENCY must be 0 or more")
    if min(settings.header_timeout, settings.body_timeout, settings.keep_alive_timeout) <= 0:
        raise ConfigError("GATEWAY_HEADER_TIMEOUT, _BODY_TIMEOUT, _KEEP_ALIVE_TIMEOUT: positive")
    if settings.graphql_max_answer < 1:
        raise ConfigError("GATEWAY_GRAPHQL_MAX_ANSWER must be positive (bytes)")
    if settings.body_min_rate < 0 or settings.max_connections < 1:
        raise ConfigError("GATEWAY_BODY_MIN_RATE must be 0 or more, _MAX_CONNECTIONS 1 or more")
    if not settings.database_url.startswith(("sqlite://", "postgres://", "postgresql://")):
        raise ConfigError("GATEWAY_DATABASE_URL must start with sqlite:// or postgres://")
