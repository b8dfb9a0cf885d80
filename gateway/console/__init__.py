"""The web console: the files `make console` builds from `console/` into `static/`, served
by the gateway itself (`serve.py`). No Node is needed to run it, and nothing is loaded from
another origin."""
