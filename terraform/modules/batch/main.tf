data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create                  = var.create
  fargate                 = startswith(var.compute_type, "FARGATE")
  create_instance_profile = var.create && !local.fargate
  create_service_role     = var.create && var.create_service_role
  region                  = data.aws_region.current.name
  partition               = data.aws_partition.current.partition
  tags                    = merge({ Name = var.name }, var.tags)
  job_name                = "${var.name}-scoring"
  log_group_name          = "/aws/batch/${var.name}"

  # Prefixes of the data bucket the scoring job works in (the storage module's layout, with the
  # job's own checkpoints/ for resuming a large file after a retry).
  bucket_objects = { for k, p in var.data_prefixes : k => "${var.data_bucket_arn}/${p}*" }

  # The repositories of the jobs that run as the module's execution role; a job without an
  # image_repository_arn (an image outside ECR) needs no ECR permissions.
  pull_repository_arns = distinct([
    for d in values(var.job_definitions) : d.image_repository_arn if d.execution_role_arn == null && d.image_repository_arn != null
  ])

  container_properties = { for key, d in var.job_definitions : key => jsonencode(merge(
    {
      image = d.image
      resourceRequirements = [
        { type = "VCPU", value = tostring(d.vcpu) },
        { type = "MEMORY", value = tostring(d.memory_mib) },
      ]
      # Sorted by name, as the provider orders them when comparing with AWS: re-plans stay clean.
      environment      = [for k in sort(keys(d.environment)) : { name = k, value = d.environment[k] }]
      executionRoleArn = d.execution_role_arn != null ? d.execution_role_arn : try(aws_iam_role.execution[0].arn, null)
      jobRoleArn       = d.job_role_arn != null ? d.job_role_arn : try(aws_iam_role.job[0].arn, null)
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = d.log_group_name != null ? d.log_group_name : local.log_group_name
          awslogs-region        = local.region
          awslogs-stream-prefix = key
        }
      }
    },
    d.command == null ? {} : { command = d.command },
    local.fargate ? {
      fargatePlatformConfiguration = { platformVersion = "LATEST" }
      # Private subnets only: the job reaches AWS APIs through NAT or VPC endpoints.
      networkConfiguration = { assignPublicIp = "DISABLED" }
    } : {},
  )) }
}

# ---------------------------------------------------------------------------------------------
# Job logs (of the jobs that log to the module's log group)
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  count = local.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = local.log_group_name })
}

# ---------------------------------------------------------------------------------------------
# Launch template (EC2/SPOT only): IMDSv2 only, one hop
# ---------------------------------------------------------------------------------------------
resource "aws_launch_template" "this" {
  count = local.create_instance_profile ? 1 : 0

  name        = "${var.name}-batch"
  description = "IMDSv2 only, one hop: job containers cannot read the instance role's credentials."

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  tags = merge(local.tags, { Name = "${var.name}-batch" })

  lifecycle {
    # The module sets no tag_specifications. moto 5.2.5 echoes the template's own tags back as a
    # "launch-template" tag specification, which would otherwise re-plan on every run.
    ignore_changes = [tag_specifications]
  }
}

# ---------------------------------------------------------------------------------------------
# Compute environment and job queue
# ---------------------------------------------------------------------------------------------
resource "aws_batch_compute_environment" "this" {
  count = local.create ? 1 : 0

  # A prefix, so a replacement can be created (and the queue moved to it) before the old one goes.
  compute_environment_name_prefix = "${var.name}-${lower(replace(var.compute_type, "_", "-"))}-"
  type                            = "MANAGED"
  state                           = "ENABLED"
  service_role                    = try(aws_iam_role.service[0].arn, null)

  compute_resources {
    type               = var.compute_type
    max_vcpus          = var.max_vcpus
    subnets            = var.subnet_ids
    security_group_ids = var.security_group_ids

    # EC2/SPOT only (Fargate rejects them).
    min_vcpus           = local.fargate ? null : 0
    instance_type       = local.fargate ? null : var.instance_types
    instance_role       = try(aws_iam_instance_profile.this[0].arn, null)
    allocation_strategy = local.fargate ? null : (var.compute_type == "SPOT" ? "SPOT_CAPACITY_OPTIMIZED" : "BEST_FIT_PROGRESSIVE")
    tags                = local.fargate ? null : merge(local.tags, { Name = "${var.name}-batch" })

    dynamic "launch_template" {
      for_each = local.fargate ? [] : [true]
      content {
        launch_template_id = aws_launch_template.this[0].id
        version            = aws_launch_template.this[0].latest_version
      }
    }
  }

  tags = merge(local.tags, { Name = "${var.name}-${lower(replace(var.compute_type, "_", "-"))}" })

  depends_on = [aws_iam_role_policy_attachment.service, aws_iam_role_policy_attachment.instance]

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_batch_job_queue" "this" {
  count = local.create ? 1 : 0

  name     = local.job_name
  state    = "ENABLED"
  priority = 1

  compute_environment_order {
    order               = 1
    compute_environment = aws_batch_compute_environment.this[0].arn
  }

  tags = merge(local.tags, { Name = local.job_name })
}

# ---------------------------------------------------------------------------------------------
# Job definitions: one container per job_definitions entry, with its retries and timeout
# ---------------------------------------------------------------------------------------------
resource "aws_batch_job_definition" "this" {
  for_each = local.create ? var.job_definitions : {}

  name                  = "${var.name}-${each.key}"
  type                  = "container"
  platform_capabilities = [local.fargate ? "FARGATE" : "EC2"]
  container_properties  = local.container_properties[each.key]
  propagate_tags        = true

  # Conditions are checked in order; the first match decides. Successful attempts are never checked.
  retry_strategy {
    attempts = each.value.attempts

    # The instance went away (Spot reclaim, host failure): the job itself did nothing wrong.
    evaluate_on_exit {
      on_status_reason = "Host EC2*"
      action           = "RETRY"
    }

    # The container ran and exited non-zero (exit 0 is success and never gets here).
    evaluate_on_exit {
      on_exit_code = "*"
      action       = "RETRY"
    }

    # Anything else (image cannot be pulled, bad job definition...) will not heal by retrying.
    evaluate_on_exit {
      on_reason = "*"
      action    = "EXIT"
    }
  }

  timeout {
    attempt_duration_seconds = each.value.timeout_seconds
  }

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}
