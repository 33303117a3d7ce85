"""`byo teardown` deletes the stack's Batch job queue itself before `terraform destroy` (whose
own delete waits a fixed 30 s twice before it looks)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from operators import teardown
from operators.aws import Clients
from operators.cli import cli
from operators.config import Settings
from tests.helpers.aws import fargate_network, fargate_queue, write_outputs

pytestmark = pytest.mark.integration


def test_the_job_queue_is_disabled_deleted_and_listed_before_the_destroy(emulator, tmp_path):
    queue, name = fargate_queue(emulator, fargate_network(emulator))
    outputs = write_outputs(tmp_path / "outputs.json", job_queue=queue)
    byo = ["--outputs", str(outputs), "teardown", "--dry-run"]
    planned = CliRunner().invoke(cli, [*byo, "--json"])
    assert planned.exit_code == 0, planned.output
    assert json.loads(planned.output)["job_queue"] == queue
    listed = CliRunner().invoke(cli, byo)
    assert "Batch job queue" in listed.output and name in listed.output

    clients = Clients()
    calls: list[str] = []  # the Batch API calls the teardown makes, in order
    clients.client("batch").meta.events.register(
        "before-call.batch.*", lambda model, **_: calls.append(model.name)
    )
    todo = teardown.plan(clients, _settings(outputs), keep_data=True)
    todo.stack = False  # no Terraform here: the queue alone
    teardown.execute(clients, _settings(outputs), todo, keep_data=True)
    assert emulator.client("batch").describe_job_queues(jobQueues=[queue])["jobQueues"] == []
    changes = [c for c in calls if c != "DescribeJobQueues"]
    assert changes == ["UpdateJobQueue", "DeleteJobQueue"]  # disabled, then deleted
    assert calls[calls.index("UpdateJobQueue") + 1] == "DescribeJobQueues"  # waited for it

    # Gone already (a second teardown, or a queue deleted by hand): nothing to do, no error.
    assert teardown.plan(Clients(), _settings(outputs), keep_data=True).job_queue is None
    teardown.delete_job_queue(Clients(), queue)


def _settings(outputs) -> Settings:
    return Settings(outputs_file=outputs, dotenv=None)
