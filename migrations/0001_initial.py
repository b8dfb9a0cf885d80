from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from uuid import uuid4
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Revision',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('value', fields.BigIntField(default=0)),
            ],
            options={'table': 'revision', 'app': 'gateway', 'pk_attr': 'id', 'table_description': 'A single counter bumped with every definition change, so other processes notice.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Workflow',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=100)),
                ('title', fields.CharField(default='', max_length=200)),
                ('description', fields.TextField(default='', unique=False)),
                ('enabled', fields.BooleanField(default=True)),
                ('sync', fields.BooleanField(default=False)),
                ('version', fields.IntField(default=1)),
                ('options', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'workflows', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Node',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('gateway.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='nodes', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=100)),
                ('type', fields.CharField(max_length=50)),
                ('title', fields.CharField(default='', max_length=200)),
                ('config', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('upstream', fields.CharField(null=True, max_length=100)),
                ('branch_index', fields.IntField(null=True)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'nodes', 'app': 'gateway', 'unique_together': (('workflow', 'key'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Trigger',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.OneToOneField('gateway.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='trigger', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(unique=True, max_length=128)),
                ('basic_auth_username', fields.CharField(null=True, max_length=200)),
                ('basic_auth_password', fields.CharField(null=True, max_length=300)),
                ('response', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('options', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'triggers', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ParseRule',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('trigger', fields.ForeignKeyField('gateway.Trigger', source_field='trigger_id', db_constraint=True, to_field='id', related_name='parse_rules', on_delete=OnDelete.CASCADE)),
                ('source', fields.CharField(max_length=10)),
                ('key', fields.CharField(max_length=500)),
                ('alias', fields.CharField(null=True, max_length=200)),
                ('var', fields.CharField(null=True, max_length=200)),
                ('required', fields.BooleanField(default=False)),
                ('type', fields.CharField(null=True, max_length=20)),
                ('position', fields.IntField(default=0)),
            ],
            options={'table': 'parse_rules', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkflowVersion',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('gateway.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='versions', on_delete=OnDelete.CASCADE)),
                ('version', fields.IntField()),
                ('definition', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'workflow_versions', 'app': 'gateway', 'unique_together': (('workflow', 'version'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Execution',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('gateway.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='executions', on_delete=OnDelete.CASCADE)),
                ('version', fields.ForeignKeyField('gateway.WorkflowVersion', source_field='version_id', db_constraint=True, to_field='id', related_name='executions', on_delete=OnDelete.CASCADE)),
                ('status', fields.CharField(max_length=16)),
                ('context', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('raw_body', fields.BinaryField()),
                ('response', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('error', fields.TextField(null=True, unique=False)),
                ('reason', fields.CharField(null=True, max_length=100)),
                ('event_key', fields.CharField(null=True, max_length=300)),
                ('attempts', fields.IntField(default=0)),
                ('replay_of', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'executions', 'app': 'gateway', 'indexes': [Index(fields=['status', 'created_at']), Index(fields=['workflow_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('execution', fields.ForeignKeyField('gateway.Execution', source_field='execution_id', db_constraint=True, to_field='id', related_name='jobs', on_delete=OnDelete.CASCADE)),
                ('node_key', fields.CharField(max_length=100)),
                ('node_type', fields.CharField(max_length=50)),
                ('status', fields.CharField(max_length=16)),
                ('result', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'jobs', 'app': 'gateway', 'pk_attr': 'id'},
            bases=['Model'],
        ),
    ]
