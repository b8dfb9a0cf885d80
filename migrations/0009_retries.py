from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.data import JSON_DUMPS
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """A job records each try of a node that retries (time, outcome, status or error)."""

    dependencies = [('gateway', '0008_request_compression')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Job',
            name='tries',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
