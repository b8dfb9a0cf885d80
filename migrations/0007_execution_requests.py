from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class DropColumn(ops.RemoveField):
    """RemoveField, but on SQLite an `ALTER TABLE … DROP COLUMN` (SQLite 3.35 and later)
    instead of Tortoise's copy of the table: dropping the old copy deletes its rows first,
    and with foreign keys on that deletes every job and request with them (ON DELETE
    CASCADE); the copy also goes without the table's indexes."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None):
        if state_editor is not None and state_editor.client.capabilities.dialect == "sqlite":
            table = old_state.apps.get_model(f"{app_label}.{self.model_name}")._meta.db_table
            await state_editor.client.execute_script(
                f'ALTER TABLE "{table}" DROP COLUMN "{self.name}"'
            )
            return
        await super().database_forward(app_label, old_state, new_state, state_editor)


class Migration(migrations.Migration):
    """An execution's request (context and raw body) moves to a table of its own, written
    once: a row of `executions` is rewritten whole by every change of state, and with the
    request in it, on SQLite, each row filled a page. Existing requests are copied over
    before the columns are dropped."""
    dependencies = [('gateway', '0006_parse_rule_trigger_index')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExecutionRequest',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('execution', fields.OneToOneField('gateway.Execution', source_field='execution_id', db_constraint=True, to_field='id', related_name='request', on_delete=OnDelete.CASCADE)),
                ('context', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('raw_body', fields.BinaryField()),
            ],
            options={'table': 'execution_requests', 'app': 'gateway', 'pk_attr': 'id', 'table_description': 'The request that started an execution (its context and raw body), never changed.'},
            bases=['Model'],
        ),
        ops.RunSQL(
            'INSERT INTO "execution_requests" ("execution_id", "context", "raw_body") '
            'SELECT "id", "context", "raw_body" FROM "executions"'
        ),
        DropColumn(model_name='Execution', name='context'),
        DropColumn(model_name='Execution', name='raw_body'),
    ]
