"""`byo teardown`: remove what the operators made, then the stack."""

from __future__ import annotations

import click

from operators import teardown
from operators.aws import Clients
from operators.cli.options import console, err_console, json_option, print_json, table
from operators.config import Settings


@click.command("teardown")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--keep-data",
    is_flag=True,
    help="Keep the data bucket, its objects and the job table (destroy everything else).",
)
@json_option()
@click.pass_obj
def teardown_cmd(
    settings: Settings, dry_run: bool, yes: bool, keep_data: bool, as_json: bool
) -> None:
    """Remove what the operators created, then the Terraform stack, in dependency order.
    Running it again finds nothing and exits 0."""
    clients = Clients()
    todo = teardown.plan(clients, settings, keep_data)
    if as_json and (dry_run or todo.empty()):
        print_json({"dry_run": dry_run, **todo.as_dict()})
        return
    if todo.empty():
        console.print("nothing to tear down")
        return
    listing = [
        *(("model package", arn) for arn in todo.model_packages),
        *(("SageMaker pipeline", name) for name in todo.pipelines),
        *(("endpoint config", name) for name in todo.endpoint_configs),
        *(("model", name) for name in todo.models),
    ]
    if todo.bucket:
        listing.append(("bucket objects", f"s3://{todo.bucket}: {todo.objects} versions"))
    if todo.stack:
        listing.append(("terraform", "destroy" + (" (all but storage)" if keep_data else "")))
    title = "teardown" + (" (dry run)" if dry_run else "")
    console.print(table(title, ["what", "name"], listing, show_header=False))
    if dry_run:
        return
    if not yes and not click.confirm("Remove all of this?", err=True):
        raise click.Abort()
    teardown.execute(clients, settings, todo, keep_data, report=err_console.print)
    if as_json:
        print_json({"dry_run": False, **todo.as_dict()})
