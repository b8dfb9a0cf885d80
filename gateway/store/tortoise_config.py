"""`TORTOISE_ORM` for Tortoise's own CLI: `make migration NAME=add_x` runs
`tortoise -c gateway.store.tortoise_config.TORTOISE_ORM makemigrations --name add_x`."""

from gateway.core.settings import load_settings
from gateway.store.db import tortoise_config

TORTOISE_ORM = tortoise_config(load_settings())
