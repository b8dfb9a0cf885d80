from tortoise import migrations
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Executions lose their (status, lease_until) and (status, resume_at) indexes: every
    insert, claim and finish updated both, for lookups of STARTED executions with an
    expired lease and of parked QUEUED ones, which (status, created_at) serves as well."""

    dependencies = [('gateway', '0004_job_positions')]

    initial = False

    operations = [
        ops.RemoveIndex(model_name='Execution', fields=['status', 'lease_until']),
        ops.RemoveIndex(model_name='Execution', fields=['status', 'resume_at']),
    ]
