"""`byo teardown`: remove what the operators made, then the stack."""

from __future__ import annotations

import click

from operators import regions as regions_lib
from operators import teardown
from operators.aws import Clients
from operators.cli.options import console, err_console, json_option, print_json, table
from operators.config import Settings
from operators.errors import ConfigError


@click.command("teardown")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.option(
    "--keep-data",
    is_flag=True,
    help="Keep the data bucket, its objects, the job table and the audit trail's log files "
    "(destroy everything else).",
)
@json_option()
@click.pass_obj
def teardown_cmd(
    settings: Settings, dry_run: bool, yes: bool, keep_data: bool, as_json: bool
) -> None:
    """Remove what the operators created, then the Terraform stack, in dependency order.
    Of a multi-region stack: in every region, then the stack once. Running it again finds
    nothing and exits 0."""
    names = regions_lib.stack_regions(settings) if settings_have_regions(settings) else [None]
    if len(names) > 1 and keep_data:
        raise click.UsageError(
            "--keep-data keeps one platform's storage; a multi-region stack is torn down whole "
            "(copy what you need first)."
        )
    views = [
        (None, settings, Clients())
        if name is None
        else (name, (view := regions_lib.region(settings, name)).settings, view.clients)
        for name in names
    ]
    todos = [
        (name, here, clients, teardown.plan(clients, here, keep_data))
        for name, here, clients in views
    ]
    for *_, todo in todos[:-1]:
        todo.stack = False  # the stack is destroyed once, after every region is empty
    multi = len(todos) > 1
    report = {name: todo.as_dict() for name, _, _, todo in todos}
    empty = all(todo.empty() for *_, todo in todos)
    if as_json and (dry_run or empty):
        print_json({"dry_run": dry_run, **(({"regions": report}) if multi else report[None])})
        return
    if empty:
        console.print("nothing to tear down")
        return
    listing = []
    for name, _, _, todo in todos:
        where = f" ({name})" if multi else ""
        listing += [
            *((f"model package{where}", arn) for arn in todo.model_packages),
            *((f"SageMaker pipeline{where}", n) for n in todo.pipelines),
            *((f"endpoint config{where}", n) for n in todo.endpoint_configs),
            *((f"model{where}", n) for n in todo.models),
        ]
        if todo.bucket:
            listing.append(
                (f"bucket objects{where}", f"s3://{todo.bucket}: {todo.objects} versions")
            )
        if todo.audit_bucket:
            listing.append(
                (
                    f"audit log files{where}",
                    f"s3://{todo.audit_bucket}: {todo.audit_objects} versions",
                )
            )
        if todo.job_queue:
            listing.append((f"Batch job queue{where}", todo.job_queue))
        if todo.stack:
            listing.append(("terraform", "destroy" + (" (all but storage)" if keep_data else "")))
    title = "teardown" + (" (dry run)" if dry_run else "")
    if not as_json:  # --json prints the document alone
        console.print(table(title, ["what", "name"], listing, show_header=False))
    if dry_run:
        return
    if not yes and not click.confirm("Remove all of this?", err=True):
        raise click.Abort()
    for _, here, clients, todo in todos:
        teardown.execute(clients, here, todo, keep_data, report=err_console.print)
    if as_json:
        print_json({"dry_run": False, **(({"regions": report}) if multi else report[None])})


def settings_have_regions(settings: Settings) -> bool:
    """Whether the stack is a multi-region one (no stack at all: not)."""
    try:
        return len(settings.get("stack_regions") or []) > 1
    except ConfigError:
        return False
