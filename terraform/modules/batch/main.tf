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

  # <account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag][@digest] → repository ARN.
  # Any other image (public registries) needs no ECR permissions at all.
  ecr_image            = try(regex("^([0-9]{12})\\.dkr\\.ecr\\.([a-z0-9-]+)\\.amazonaws\\.com(?:\\.cn)?/([^:@]+)", var.image), null)
  image_repository_arn = var.image_repository_arn != null ? var.image_repository_arn : try("arn:${local.partition}:ecr:${local.ecr_image[1]}:${local.ecr_image[0]}:repository/${local.ecr_image[2]}", null)

  # Prefixes of the data bucket the scoring job works in (the storage module's layout, plus the
  # job's own checkpoints/ for resuming a large file after a retry).
  bucket_objects = {
    for p in ["input", "output", "errors", "checkpoints"] : p => "${var.data_bucket_arn}/${p}/*"
  }

  container_properties = jsonencode(merge(
    {
      image = var.image
      resourceRequirements = [
        { type = "VCPU", value = tostring(var.vcpu) },
        { type = "MEMORY", value = tostring(var.memory_mib) },
      ]
      # Sorted by name, as the provider orders them when comparing with AWS: re-plans stay clean.
      environment      = [for k in sort(keys(var.environment)) : { name = k, value = var.environment[k] }]
      executionRoleArn = try(aws_iam_role.execution[0].arn, null)
      jobRoleArn       = try(aws_iam_role.job[0].arn, null)
      logConfiguration = {
        logDriver = "awslogs"
        options = {
          awslogs-group         = local.log_group_name
          awslogs-region        = local.region
          awslogs-stream-prefix = "scoring"
        }
      }
    },
    var.command == null ? {} : { command = var.command },
    local.fargate ? {
      fargatePlatformConfiguration = { platformVersion = "LATEST" }
      # Private subnets only: the job reaches AWS APIs through NAT or VPC endpoints.
      networkConfiguration = { assignPublicIp = "DISABLED" }
    } : {},
  ))
}

# ---------------------------------------------------------------------------------------------
# Job logs
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  count = local.create ? 1 : 0

  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = local.log_group_name })
}

# ---------------------------------------------------------------------------------------------
# Execution role: what ECS needs to start the container (pull the image, write its logs)
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "execution" {
  count = local.create ? 1 : 0

  name        = "${var.name}-batch-execution"
  description = "Starts the ${local.job_name} job's container: pulls its image and writes its logs."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${var.name}-batch-execution" })
}

resource "aws_iam_role_policy" "execution" {
  count = local.create ? 1 : 0

  name = "pull-image-write-logs"
  role = aws_iam_role.execution[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      local.image_repository_arn == null ? [] : [
        {
          # ecr:GetAuthorizationToken has no resource type: AWS requires Resource "*".
          Sid      = "AuthenticateToEcr"
          Effect   = "Allow"
          Action   = ["ecr:GetAuthorizationToken"]
          Resource = ["*"]
        },
        {
          Sid      = "PullJobImage"
          Effect   = "Allow"
          Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
          Resource = [local.image_repository_arn]
        },
      ],
      [
        {
          Sid      = "WriteJobLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${aws_cloudwatch_log_group.this[0].arn}:*"]
        },
      ],
    )
  })
}

# ---------------------------------------------------------------------------------------------
# Job role: what the scoring code may do (its prefixes of the bucket, the job table, endpoints)
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "job" {
  count = local.create ? 1 : 0

  name        = "${var.name}-batch-job"
  description = "Runs the ${local.job_name} job: reads input, writes results, records progress, invokes the endpoint."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${var.name}-batch-job" })
}

resource "aws_iam_role_policy" "job" {
  count = local.create ? 1 : 0

  name = "score-files"
  role = aws_iam_role.job[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadInputAndCheckpoints"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [local.bucket_objects.input, local.bucket_objects.checkpoints]
        },
        {
          Sid      = "WriteResultsAndCheckpoints"
          Effect   = "Allow"
          Action   = ["s3:AbortMultipartUpload", "s3:PutObject"]
          Resource = [local.bucket_objects.output, local.bucket_objects.errors, local.bucket_objects.checkpoints]
        },
        {
          Sid       = "ListJobPrefixes"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [var.data_bucket_arn]
          Condition = { StringLike = { "s3:prefix" = ["input/*", "output/*", "errors/*", "checkpoints/*"] } }
        },
        {
          Sid      = "RecordJobProgress"
          Effect   = "Allow"
          Action   = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = [var.job_table_arn]
        },
        {
          # The bucket's and table's data are encrypted with the platform key; only through them.
          Sid       = "UsePlatformKeyForBucketAndTable"
          Effect    = "Allow"
          Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource  = [var.kms_key_arn]
          Condition = { StringEquals = { "kms:ViaService" = ["s3.${local.region}.amazonaws.com", "dynamodb.${local.region}.amazonaws.com"] } }
        },
      ],
      length(var.endpoint_arns) == 0 ? [] : [
        {
          Sid      = "InvokeEndpoints"
          Effect   = "Allow"
          Action   = ["sagemaker:InvokeEndpoint"]
          Resource = var.endpoint_arns
        },
      ],
    )
  })
}

# ---------------------------------------------------------------------------------------------
# Service role (optional): AWS Batch uses its service-linked role unless one is created here
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "service" {
  count = local.create_service_role ? 1 : 0

  name        = "${var.name}-batch-service"
  description = "Lets AWS Batch manage the ${var.name} compute environment."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "batch.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${var.name}-batch-service" })
}

resource "aws_iam_role_policy_attachment" "service" {
  count = local.create_service_role ? 1 : 0

  role       = aws_iam_role.service[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWSBatchServiceRole"
}

# ---------------------------------------------------------------------------------------------
# Instance profile and launch template (EC2/SPOT only): the ECS agent's role, IMDSv2 only
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "instance" {
  count = local.create_instance_profile ? 1 : 0

  name        = "${var.name}-batch-instance"
  description = "ECS container instances of the ${var.name} compute environment."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${var.name}-batch-instance" })
}

resource "aws_iam_role_policy_attachment" "instance" {
  count = local.create_instance_profile ? 1 : 0

  role       = aws_iam_role.instance[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
}

resource "aws_iam_instance_profile" "this" {
  count = local.create_instance_profile ? 1 : 0

  name = "${var.name}-batch-instance"
  role = aws_iam_role.instance[0].name

  tags = merge(local.tags, { Name = "${var.name}-batch-instance" })
}

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
# Job definition: the scoring container, its retries and timeout
# ---------------------------------------------------------------------------------------------
resource "aws_batch_job_definition" "this" {
  count = local.create ? 1 : 0

  name                  = local.job_name
  type                  = "container"
  platform_capabilities = [local.fargate ? "FARGATE" : "EC2"]
  container_properties  = local.container_properties
  propagate_tags        = true

  # Conditions are checked in order; the first match decides. Successful attempts are never checked.
  retry_strategy {
    attempts = var.attempts

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
    attempt_duration_seconds = var.timeout_seconds
  }

  tags = merge(local.tags, { Name = local.job_name })
}
