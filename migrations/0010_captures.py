from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('gateway', '0009_retries')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Capture',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('gateway.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='captures', on_delete=OnDelete.CASCADE)),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('max_calls', fields.IntField()),
                ('max_bytes', fields.IntField()),
                ('calls_count', fields.IntField(default=0)),
                ('bytes_count', fields.IntField(default=0)),
            ],
            options={'table': 'captures', 'app': 'gateway', 'indexes': [Index(fields=['workflow_id', 'closed_at'])], 'pk_attr': 'id', 'table_description': "A capture of a workflow's calls: open until expires_at, closed_at or max_calls calls."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CapturedCall',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('capture', fields.ForeignKeyField('gateway.Capture', source_field='capture_id', db_constraint=True, to_field='id', related_name='calls', on_delete=OnDelete.CASCADE)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('method', fields.CharField(max_length=16)),
                ('path', fields.CharField(max_length=1000)),
                ('headers', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('query', fields.TextField(unique=False)),
                ('body', fields.BinaryField()),
                ('size', fields.IntField()),
                ('truncated', fields.BooleanField(default=False)),
                ('answer_status', fields.IntField(null=True)),
            ],
            options={'table': 'captured_calls', 'app': 'gateway', 'indexes': [Index(fields=['capture_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One call recorded by a capture, its secret headers redacted.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Node',
            name='pinned',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
