"""One rollout per endpoint: the rollout lock in a job table of the emulator, held, refused,
expired, forced and renewed, and `byo` processes racing for one endpoint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from operators import deploy, rollout, traffic
from operators.aws import Clients
from operators.cli import cli
from operators.rollout import LockLost, RolloutLocked
from tests.helpers.aws import SAGEMAKER_ROLE, job_table, make_endpoint, unique
from tests.helpers.flow import wait_for
from tests.helpers.paths import REPO
from tests.helpers.processes import stop_process

pytestmark = pytest.mark.integration

BYO = str(Path(sys.executable).parent / "byo")


def lock_item(emulator, table: str, endpoint: str) -> dict | None:
    item = (
        emulator.client("dynamodb")
        .get_item(
            TableName=table,
            Key={"FileName": {"S": f"rollout-lock/{endpoint}"}},
            ConsistentRead=True,
        )
        .get("Item")
    )
    return rollout._plain(item) if item else None


@pytest.fixture
def table(emulator) -> str:
    return job_table(emulator)


def test_a_second_rollout_is_refused_with_who_holds_it_and_since_when(emulator, table):
    endpoint = unique("endpoint")
    first = rollout.acquire(
        Clients(), table, endpoint, "byo traffic shift --to variant-b", holder="alice@ops pid 1"
    )
    try:
        item = lock_item(emulator, table, endpoint)
        assert item["Holder"] == "alice@ops pid 1"
        assert item["Action"] == "byo traffic shift --to variant-b"
        assert item["Token"] == first.token
        assert item["Since"].endswith("Z") and item["LeaseUntil"] > time.time() + 100
        assert "StartTime" not in item  # not a job record: the StartTime index never lists it
        indexed = emulator.client("dynamodb").scan(TableName=table, IndexName="StartTimeIndex")
        assert indexed["Items"] == []

        with pytest.raises(RolloutLocked) as refused:
            rollout.acquire(Clients(), table, endpoint, "byo deploy 2 --variant variant-b")
        message = str(refused.value)
        assert (
            f"held by alice@ops pid 1 (byo traffic shift --to variant-b) since {item['Since']}"
            in message
        )
        assert "the lease ends at" in message and "--force" in message
        assert lock_item(emulator, table, endpoint)["Token"] == first.token
    finally:
        first.release()
    assert lock_item(emulator, table, endpoint) is None
    with rollout.lock(Clients(), table, endpoint, "byo deploy 2 --variant variant-b") as second:
        assert lock_item(emulator, table, endpoint)["Token"] == second.token


def test_a_crashed_holders_lease_expires(emulator, table, tmp_path):
    """A real holder process is killed (no release, no renewal): its lease lets the next
    rollout in once it has run out — seen through the next holder's clock."""
    endpoint = unique("endpoint")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from operators import rollout\n"
            "from operators.aws import Clients\n"
            "rollout.acquire(Clients(), sys.argv[1], sys.argv[2], 'byo traffic set', lease_s=30)\n"
            "print('held', flush=True)\n"
            "time.sleep(600)\n",
            table,
            endpoint,
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
    finally:
        holder.kill()
        holder.wait()
    crashed = lock_item(emulator, table, endpoint)
    assert crashed["Holder"].endswith(f"pid {holder.pid}")

    with pytest.raises(RolloutLocked, match=f"pid {holder.pid} \\(byo traffic set\\)"):
        rollout.acquire(Clients(), table, endpoint, "byo traffic shift --to variant-b")
    later = lambda: crashed["LeaseUntil"] + 1  # noqa: E731
    with rollout.lock(
        Clients(), table, endpoint, "byo traffic shift --to variant-b", now=later
    ) as taken:
        item = lock_item(emulator, table, endpoint)
        assert item["Token"] == taken.token and "ForcedOver" not in item


def test_force_breaks_the_lock_records_it_and_stops_the_old_holder(emulator, table):
    endpoint = unique("endpoint")
    old = rollout.acquire(
        Clients(), table, endpoint, "byo shadow promote", holder="bob@ops pid 2", lease_s=1.5
    )
    since = lock_item(emulator, table, endpoint)["Since"]
    reported: list[str] = []
    forced = rollout.acquire(
        Clients(),
        table,
        endpoint,
        "byo traffic set variant-a=1",
        holder="carol@ops pid 3",
        force=True,
        report=reported.append,
    )
    try:
        item = lock_item(emulator, table, endpoint)
        assert item["Token"] == forced.token and item["Holder"] == "carol@ops pid 3"
        assert item["ForcedOver"] == {
            "Holder": "bob@ops pid 2",
            "Action": "byo shadow promote",
            "Since": since,
        }
        assert forced.forced_over == item["ForcedOver"]
        assert reported == [
            f"--force: broke the rollout lock of endpoint {endpoint} held by bob@ops pid 2 "
            f"(byo shadow promote) since {since}; the lock records it as ForcedOver"
        ]

        # The old holder's next renewal (every lease/3) finds another token: its next step fails.
        wait_for("the old holder to learn it lost the lock", lambda: old.lost, timeout_s=10)
        with pytest.raises(LockLost, match="taken over with --force by carol@ops pid 3"):
            old.check()
        old.release()  # only the token's holder deletes the item
        assert lock_item(emulator, table, endpoint)["Token"] == forced.token
    finally:
        forced.release()
    assert lock_item(emulator, table, endpoint) is None


def test_renewal_keeps_the_lease_alive_past_its_first_expiry(emulator, table):
    endpoint = unique("endpoint")
    with rollout.lock(Clients(), table, endpoint, "byo deploy 2", lease_s=1.2) as held:
        first_lease = lock_item(emulator, table, endpoint)["LeaseUntil"]
        time.sleep(2.5)  # past the first lease: renewed twice or more since
        assert time.time() > first_lease
        renewed = lock_item(emulator, table, endpoint)
        assert renewed["Token"] == held.token and renewed["LeaseUntil"] > time.time()
        with pytest.raises(RolloutLocked):
            rollout.acquire(Clients(), table, endpoint, "byo traffic set variant-b=1")
        held.check()


# -- the rollout commands on an endpoint with two variants ---------------------------------------
@pytest.fixture(scope="module")
def stack(emulator, trained_model, tmp_path_factory) -> dict:
    """An endpoint with variant-a and variant-b (9:1, the real model), a job table, and an
    approved version 1 in a model package group, as the stack outputs `byo --outputs` reads."""
    tmp = tmp_path_factory.mktemp("rollout-stack")
    bucket = unique("rollout")
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.upload_file(str(trained_model.model_path), bucket, "m/model.tar.gz")
    group = unique("models")
    emulator.client("sagemaker").create_model_package_group(ModelPackageGroupName=group)
    table = job_table(emulator)
    outputs = tmp / "outputs.json"
    outputs.write_text(
        json.dumps(
            {
                "data_bucket": {"value": bucket},
                "model_package_group": {"value": group},
                "serving_image": {"value": "byo-serving:1"},
                "sagemaker_execution_role_arn": {"value": SAGEMAKER_ROLE},
                "job_table": {"value": table},
            }
        )
    )
    registered = CliRunner().invoke(
        cli,
        [
            "--outputs",
            str(outputs),
            "model",
            "register",
            "--artifact",
            str(trained_model.model_path),
            "--metrics",
            str(trained_model.evaluation_path),
            "--approve",
        ],
    )
    assert registered.exit_code == 0, registered.output
    return {"model_url": f"s3://{bucket}/m/model.tar.gz", "table": table, "outputs": outputs}


def new_endpoint(emulator, stack) -> str:
    return make_endpoint(emulator, stack["model_url"], {"variant-a": 9, "variant-b": 1})


def live(emulator, endpoint: str) -> tuple[str, dict[str, float]]:
    described = emulator.client("sagemaker").describe_endpoint(EndpointName=endpoint)
    weights = {v["VariantName"]: v["CurrentWeight"] for v in described["ProductionVariants"]}
    return described["EndpointConfigName"], weights


def test_a_deploy_that_shifts_holds_one_lock_for_the_whole_rollout(emulator, stack):
    endpoint = new_endpoint(emulator, stack)
    table = stack["table"]
    tokens: list[str] = []

    def watching(seconds: float) -> None:  # the injected sleep: the lock held, by one token
        tokens.append(lock_item(emulator, table, endpoint)["Token"])
        with pytest.raises(RolloutLocked):
            rollout.acquire(Clients(), table, endpoint, "byo traffic set variant-a=1")

    outputs = json.loads(stack["outputs"].read_text())
    with rollout.lock(Clients(), table, endpoint, "byo deploy 1 --variant variant-b") as held:
        deployed = deploy.deploy(
            Clients(),
            endpoint=endpoint,
            group=outputs["model_package_group"]["value"],
            version=1,
            variant="variant-b",
            role_arn=SAGEMAKER_ROLE,
            sleep=watching,
            lock=held,
        )
        assert lock_item(emulator, table, endpoint)["Token"] == held.token  # not released
        traffic.shift(
            Clients(), endpoint, "variant-b", [50, 100], 60, 0.01, sleep=watching, lock=held
        )
        assert lock_item(emulator, table, endpoint)["Token"] == held.token
        token = held.token
    assert lock_item(emulator, table, endpoint) is None
    assert set(tokens) == {token} and len(tokens) >= 2  # the shift's two watched steps
    assert live(emulator, endpoint) == (
        deployed["endpoint_config"],
        {"variant-a": 0.0, "variant-b": 100.0},
    )


def test_a_shift_whose_lock_was_forced_stops_at_its_next_step(emulator, stack):
    """Another operator forces the lock while the first step is watched: the shift's next step
    does not run, and the endpoint is left to the new holder (no restore of the old weights)."""
    endpoint = new_endpoint(emulator, stack)
    table = stack["table"]
    ours = rollout.lock(Clients(), table, endpoint, "byo traffic shift --to variant-b", lease_s=1.5)
    theirs: list[rollout.Lock] = []

    def forced_while_watching(seconds: float) -> None:
        if seconds < 30:  # the InService polls
            return
        theirs.append(
            rollout.acquire(
                Clients(), table, endpoint, "byo traffic set", holder="dave@ops pid 4", force=True
            )
        )
        wait_for("the shift's renewal to find the lock taken", lambda: ours.lost, timeout_s=10)

    with pytest.raises(LockLost, match="taken over with --force by dave@ops pid 4"):
        traffic.shift(
            Clients(),
            endpoint,
            "variant-b",
            [50, 100],
            60,
            0.01,
            sleep=forced_while_watching,
            lock=ours,
        )
    assert live(emulator, endpoint)[1] == {"variant-a": 50.0, "variant-b": 50.0}
    assert lock_item(emulator, table, endpoint)["Token"] == theirs[0].token
    theirs[0].release()


def byo(stack, *args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`byo` as its own process, as an operator (or the deploy machine's job) runs it."""
    return subprocess.Popen(
        [BYO, "--outputs", str(stack["outputs"]), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def one_line(text: str) -> str:
    return " ".join(text.split())


def test_byo_traffic_set_is_refused_while_held_and_force_says_whom_it_broke(emulator, stack):
    endpoint = new_endpoint(emulator, stack)
    held = rollout.acquire(
        Clients(), stack["table"], endpoint, "byo shadow promote", holder="erin@ops pid 5"
    )
    since = lock_item(emulator, stack["table"], endpoint)["Since"]
    try:
        refused = byo(stack, "traffic", "set", "variant-b=5", "--endpoint", endpoint)
        _, err = refused.communicate(timeout=60)
        assert refused.returncode == 1, err
        assert f"held by erin@ops pid 5 (byo shadow promote) since {since}" in one_line(err)
        assert live(emulator, endpoint)[1] == {"variant-a": 9.0, "variant-b": 1.0}

        forced = byo(stack, "traffic", "set", "variant-b=5", "--endpoint", endpoint, "--force")
        _, err = forced.communicate(timeout=60)
        assert forced.returncode == 0, err
        assert (
            f"--force: broke the rollout lock of endpoint {endpoint} held by erin@ops pid 5 "
            f"(byo shadow promote) since {since}"
        ) in one_line(err)
        assert live(emulator, endpoint)[1] == {"variant-a": 9.0, "variant-b": 5.0}
        assert lock_item(emulator, stack["table"], endpoint) is None  # the forcer released it
    finally:
        held.release()


def test_racing_rollouts_end_with_one_applied_and_a_clear_message_for_the_others(emulator, stack):
    """Two operators (`byo traffic shift`) and the deploy machine (`byo deploy --blue-green`,
    its holder named by BYO_ROLLOUT_HOLDER) start on one endpoint at once. Each one holds the
    lock for 15 s or more once it has it, so all three ask while the first holds it."""
    endpoint = new_endpoint(emulator, stack)
    config_before, _ = live(emulator, endpoint)
    shift = ("traffic", "shift", "--steps", "100", "--interval", "15s", "--endpoint", endpoint)
    processes = {
        "to-b": byo(stack, *shift, "--to", "variant-b"),
        "to-a": byo(stack, *shift, "--to", "variant-a"),
        "deploy": byo(
            stack,
            "deploy",
            "1",
            "--variant",
            "variant-b",
            "--endpoint",
            endpoint,
            "--blue-green",
            "--canary-percent",
            "50",
            "--canary-wait",
            "15",
            "--termination-wait",
            "0",
            env={"BYO_ROLLOUT_HOLDER": "deploy-machine execution v1-approved"},
        ),
    }
    results = {}
    try:
        for name, process in processes.items():
            _, err = process.communicate(timeout=180)
            results[name] = (process.returncode, one_line(err))
    finally:
        for process in processes.values():
            if process.poll() is None:
                stop_process(process)

    winners = [name for name, (code, _) in results.items() if code == 0]
    assert len(winners) == 1, results
    winner = winners[0]
    holder = {
        "to-b": "(byo traffic shift --to variant-b)",
        "to-a": "(byo traffic shift --to variant-a)",
        "deploy": "deploy-machine execution v1-approved (byo deploy 1 --variant variant-b "
        "--blue-green)",
    }[winner]
    for name, (code, err) in results.items():
        if name != winner:
            assert code == 1, (name, err)
            assert "is in another rollout: its rollout lock is held by" in err, (name, err)
            assert holder in err and " since 20" in err, (name, err)
    config, weights = live(emulator, endpoint)
    expected = {
        "to-b": (config_before, {"variant-a": 0.0, "variant-b": 100.0}),
        "to-a": (config_before, {"variant-a": 100.0, "variant-b": 0.0}),
        "deploy": (config, {"variant-a": 9.0, "variant-b": 1.0}),
    }[winner]
    assert (config, weights) == expected, (winner, results)
    assert (config != config_before) == (winner == "deploy")
    assert lock_item(emulator, stack["table"], endpoint) is None
