from tortoise import migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops


class Migration(migrations.Migration):
    """Executions get the indexes their lists read, newest first by cursor (bench scenario
    9, on SQLite with 100,000 executions stored):
    - (created_at, id), for a list not filtered by workflow: without it every page sorted
      the whole table (the page 200 pages deep: 0.5 s, under 1 ms with it)
    - (workflow_id, status, created_at), for a workflow's executions of one status: through
      (workflow_id, created_at) the first page of a workflow's FAILED executions read every
      newer execution of the workflow (90,000 newer RESOLVED ones: 41 ms, 1 ms with it), and
      their count is read from this index alone.
    Each costs a state change (claim, finish) one more index update."""

    dependencies = [('gateway', '0011_credentials')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Execution',
            index=Index(fields=['created_at', 'id']),
        ),
        ops.AddIndex(
            model_name='Execution',
            index=Index(fields=['workflow_id', 'status', 'created_at']),
        ),
    ]
