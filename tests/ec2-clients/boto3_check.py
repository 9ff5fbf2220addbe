"""make ec2-clients-test, boto3's part: Debian's python3-boto3 1.26 (botocore 1.29) against
cloudsim's EC2 API. Run by run.sh with /usr/bin/python3; reads CLOUDSIM_URL, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY and AWS_DEFAULT_REGION. Exits 1 at the first answer that differs from EC2's,
saying what differed."""

import os
import sys
import uuid

import boto3
from botocore.exceptions import ClientError, WaiterError

IMAGE = "ami-0c1a7f8e2d3b4a5c6"
UNKNOWN_ID = "i-0123456789abcdef0"
# Waiters poll every second: cloudsim's timed states last half a second in run.sh.
FAST = {"Delay": 1, "MaxAttempts": 60}


class Mismatch(Exception):
    pass


def expect(what, got, want):
    if got != want:
        raise Mismatch(f"{what}: got {got!r}, want {want!r}")


def expect_error(what, code, call, **params):
    try:
        call(**params)
    except ClientError as err:
        expect(f"{what}: the error code", err.response["Error"]["Code"], code)
        return
    raise Mismatch(f"{what}: succeeded, want the error {code}")


def ok(step):
    print(f"boto3: {step}: ok", flush=True)


def client(**credentials):
    return boto3.client("ec2", endpoint_url=os.environ["CLOUDSIM_URL"], **credentials)


def instance_ids(instances):
    return [i["InstanceId"] for i in instances]


def states(ec2, ids):
    found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}


def expect_states(ec2, what, ids, state):
    expect(what, states(ec2, ids), {i: state for i in ids})


def wait(ec2, waiter, ids):
    ec2.get_waiter(waiter).wait(InstanceIds=ids, WaiterConfig=FAST)


def launch_params(suite, count, token):
    return {
        "ImageId": IMAGE,
        "InstanceType": "t2.micro",
        "MinCount": count,
        "MaxCount": count,
        "ClientToken": token,
        "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "suite", "Value": suite}]}],
    }


def check_run_instances(ec2, suite):
    """Two instances in one reservation, tagged; the same ClientToken again is the same launch."""
    params = launch_params(suite, 2, f"{suite}-pair")
    first = ec2.run_instances(**params)
    ids = instance_ids(first["Instances"])
    expect("RunInstances: instances", len(ids), 2)
    expect("RunInstances: states", [i["State"]["Name"] for i in first["Instances"]], ["pending"] * 2)
    suite_tag = [{"Key": "suite", "Value": suite}]
    expect("RunInstances: tags", [i["Tags"] for i in first["Instances"]], [suite_tag] * 2)
    again = ec2.run_instances(**params)
    replayed = "RunInstances with the same ClientToken"
    expect(f"{replayed}: reservation", again["ReservationId"], first["ReservationId"])
    expect(f"{replayed}: instances", instance_ids(again["Instances"]), ids)
    ok("run_instances (MinCount 2, tags, ClientToken replayed)")
    return ids


def check_pages(ec2, suite, ids):
    """Seven instances in six reservations with PageSize 5: more than one page, every instance once.
    A page holds 5 instances and then the rest of its last reservation, which is never split."""
    paginator = ec2.get_paginator("describe_instances").paginate(
        Filters=[
            {"Name": "tag:suite", "Values": [suite]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ],
        PaginationConfig={"PageSize": 5},
    )
    pages = [page["Reservations"] for page in paginator]
    seen = [i for page in pages for r in page for i in instance_ids(r["Instances"])]
    expect("describe_instances paginator: instances", sorted(seen), sorted(ids))
    reservations = [r["ReservationId"] for page in pages for r in page]
    expect("describe_instances paginator: reservations (none split between pages)", len(reservations), 6)
    shape = [[len(r["Instances"]) for r in page] for page in pages]
    if len(shape) < 2 or max(sum(page[:-1]) for page in shape) >= 5:
        raise Mismatch(f"describe_instances paginator: reservation sizes by page {shape}, want 2+ pages of 5")
    ok("describe_instances paginator (PageSize 5, filters)")


def check_stop_modify_start(ec2, ids):
    stopping = ec2.stop_instances(InstanceIds=ids)["StoppingInstances"]
    expect("stop_instances: states", {i["CurrentState"]["Name"] for i in stopping}, {"stopping"})
    wait(ec2, "instance_stopped", ids)
    expect_states(ec2, "after the instance_stopped waiter", ids, "stopped")
    ec2.modify_instance_attribute(InstanceId=ids[0], InstanceType={"Value": "t2.small"})
    changed = ec2.describe_instances(InstanceIds=ids[:1])["Reservations"][0]["Instances"][0]
    expect("modify_instance_attribute: type", changed["InstanceType"], "t2.small")
    starting = ec2.start_instances(InstanceIds=ids)["StartingInstances"]
    expect("start_instances: states", {i["CurrentState"]["Name"] for i in starting}, {"pending"})
    ok("stop_instances, instance_stopped waiter, modify_instance_attribute, start_instances")


def check_tags(ec2, suite, ids):
    ec2.create_tags(Resources=ids, Tags=[{"Key": "owner", "Value": "boto3"}])
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": ids}])["Tags"]
    got = sorted((t["ResourceId"], t["Key"], t["Value"], t["ResourceType"]) for t in found)
    want = sorted((i, k, v, "instance") for i in ids for k, v in [("owner", "boto3"), ("suite", suite)])
    expect("describe_tags", got, want)
    ok("create_tags, describe_tags")


def check_errors(ec2, ids):
    expect_error(
        "modify_instance_attribute on a running instance",
        "IncorrectInstanceState",
        ec2.modify_instance_attribute,
        InstanceId=ids[0],
        InstanceType={"Value": "t2.micro"},
    )
    expect_error(
        "describe_instances of an unknown id",
        "InvalidInstanceID.NotFound",
        ec2.describe_instances,
        InstanceIds=[UNKNOWN_ID],
    )
    expect_error("a DryRun stop", "DryRunOperation", ec2.stop_instances, InstanceIds=ids, DryRun=True)
    expect_states(ec2, "after the DryRun stop", ids, "running")
    key_id, secret = os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]
    wrong_secret = client(aws_access_key_id=key_id, aws_secret_access_key=secret + "x")
    expect_error("a wrong secret", "SignatureDoesNotMatch", wrong_secret.describe_instances)
    unknown_key = client(aws_access_key_id=str(uuid.uuid4()), aws_secret_access_key=secret)
    expect_error("an unknown access key id", "AuthFailure", unknown_key.describe_instances)
    ok("IncorrectInstanceState, InvalidInstanceID.NotFound, DryRunOperation, SignatureDoesNotMatch, "
       "AuthFailure")


def check_terminate(ec2, ids):
    terminating = ec2.terminate_instances(InstanceIds=ids)["TerminatingInstances"]
    expect("terminate_instances: states", {i["CurrentState"]["Name"] for i in terminating}, {"shutting-down"})
    wait(ec2, "instance_terminated", ids)
    expect_states(ec2, "after the instance_terminated waiter", ids, "terminated")
    ok("terminate_instances, instance_terminated waiter")


def main():
    ec2 = client()
    suite = f"boto3-{uuid.uuid4().hex[:12]}"
    ids = check_run_instances(ec2, suite)
    # Five more reservations, so that PageSize 5 takes two pages.
    more = []
    for n in range(5):
        more += instance_ids(ec2.run_instances(**launch_params(suite, 1, f"{suite}-{n}"))["Instances"])
    wait(ec2, "instance_running", ids + more)
    expect_states(ec2, "after the instance_running waiter", ids + more, "running")
    ok("instance_running waiter")
    check_pages(ec2, suite, ids + more)
    check_stop_modify_start(ec2, ids)
    check_tags(ec2, suite, ids)
    wait(ec2, "instance_status_ok", ids)
    statuses = ec2.describe_instance_status(InstanceIds=ids)["InstanceStatuses"]
    expect("after the instance_status_ok waiter", {s["InstanceStatus"]["Status"] for s in statuses}, {"ok"})
    ok("instance_status_ok waiter")
    check_errors(ec2, ids)
    check_terminate(ec2, ids + more)


if __name__ == "__main__":
    try:
        main()
    except (Mismatch, ClientError, WaiterError) as err:
        print(f"boto3: FAILED: {err}", file=sys.stderr)
        sys.exit(1)
