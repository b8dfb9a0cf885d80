from tortoise import fields, migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Credentials: named secrets request nodes use to call out, stored encrypted."""

    dependencies = [('gateway', '0010_captures')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Credential',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('type', fields.CharField(max_length=20)),
                ('secret', fields.JSONField()),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('last_used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'credentials', 'app': 'gateway', 'pk_attr': 'id', 'table_description': 'A named secret request nodes use to call out, encrypted with GATEWAY_SECRET_KEY.'},
            bases=['Model'],
        ),
    ]
