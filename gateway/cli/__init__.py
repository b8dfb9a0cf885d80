"""`gateway`: the command line (docs/documents.md, Commands).

`main.py` parses and dispatches; `serve.py` starts the server (and `make run`'s start-up:
port check, migrations, example workflows, the plain-text banner); `executions.py` lists,
shows and replays executions; `output.py` prints problems and names the database.
"""

from gateway.cli.main import main, run

__all__ = ["main", "run"]
