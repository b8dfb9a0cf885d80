from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('gateway', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ApiToken',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(default='', max_length=200)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'api_tokens', 'app': 'gateway', 'pk_attr': 'id', 'table_description': 'A GraphQL bearer token, of which only the SHA-256 is stored.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='DedupKey',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('workflow', fields.ForeignKeyField('gateway.Workflow', source_field='workflow_id', db_constraint=True, to_field='id', related_name='dedup_keys', on_delete=OnDelete.CASCADE)),
                ('key', fields.CharField(max_length=300)),
                ('execution_id', fields.UUIDField()),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'dedup_keys', 'app': 'gateway', 'unique_together': (('workflow', 'key'),), 'pk_attr': 'id', 'table_description': 'The first execution accepted for a rendered de-duplication key, until it expires.'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Execution',
            name='lease_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Execution',
            name='resume_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='Execution',
            name='state',
            field=fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads),
        ),
        ops.AddIndex(
            model_name='Execution',
            index=Index(fields=['status', 'lease_until']),
        ),
        ops.AddIndex(
            model_name='Execution',
            index=Index(fields=['status', 'resume_at']),
        ),
    ]
