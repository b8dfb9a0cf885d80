from __future__ import annotations

from datetime import timedelta

from gateway.core.clock import utcnow
from gateway.service.housekeeping import Housekeeper
from gateway.store.models import DedupKey, Execution, ExecutionRequest, Job
from tests.conftest import SettingsFactory
from tests.support import running_gateway

FLOWS = (
    "{key: ok, nodes: [{key: a, type: end, config: {endStatus: 1}}]}",
    "{key: dedup, trigger: {deduplicate: {key: '{{$context.body.id}}'}}, nodes: [{key: a, type: end, config: {endStatus: 1}}]}",
)


async def test_old_finished_executions_and_expired_keys_are_pruned(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(execution_max_age="1d")
    async with running_gateway(settings) as gateway:
        await gateway.apply(*FLOWS)
        old = [(await gateway.post("ok", json={})).headers["x-execution-id"] for _ in range(3)]
        await gateway.post("dedup", json={"id": "k"})
        await gateway.drain()
        long_ago = utcnow() - timedelta(days=2)
        await Execution.filter(id__in=old).update(finished_at=long_ago, created_at=long_ago)
        await DedupKey.all().update(expires_at=long_ago)
        recent = (await gateway.post("ok", json={})).headers["x-execution-id"]
        await gateway.runtime.executor.stop()  # leave one queued: never pruned, whatever its age
        queued = (await gateway.post("ok", json={})).headers["x-execution-id"]
        await Execution.filter(id=queued).update(created_at=long_ago)

        pruned = await Housekeeper(settings).run_once()

        left = set(await Execution.all().values_list("id", flat=True))
        jobs_of_old = await Job.filter(execution_id__in=old).count()
        requests_left = set(await ExecutionRequest.all().values_list("execution_id", flat=True))
    assert pruned == (3, 1)
    assert {str(i) for i in left} >= {recent, queued}
    assert not {str(i) for i in left} & set(old)
    assert jobs_of_old == 0
    assert {str(i) for i in requests_left} == {str(i) for i in left}
