from tortoise import migrations
from tortoise.migrations import operations as ops

_COLUMNS = ('context', 'raw_body')
_LZ4 = (
    "SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings"
    " WHERE name = 'default_toast_compression'"
)


def _compression(method: str):
    async def apply(apps, schema_editor) -> None:
        client = schema_editor.client
        if client.capabilities.dialect != 'postgres':
            return
        _, rows = await client.execute_query(_LZ4)
        if not rows or not rows[0]['lz4']:
            return  # a PostgreSQL built without lz4 keeps pglz
        columns = ', '.join(f'ALTER COLUMN "{c}" SET COMPRESSION {method}' for c in _COLUMNS)
        await client.execute_script(f'ALTER TABLE "execution_requests" {columns}')

    return apply


class Migration(migrations.Migration):
    """PostgreSQL (where it is built with lz4): an execution's request is compressed with
    lz4 instead of pglz. A request of 1-2 KB of JSON with its raw body is over the row
    size at which PostgreSQL compresses; with pglz its insert took 87-101 us a row, with
    lz4 69-78 (6,137 requests of bench scenario 3). Rows already stored keep pglz, which
    PostgreSQL still reads. SQLite does not compress."""

    dependencies = [('gateway', '0007_execution_requests')]

    initial = False

    operations = [
        ops.RunPython(_compression('lz4'), reverse_code=_compression('DEFAULT')),
    ]
