locals {
  # Everything the jobs need comes from here: they never read Terraform at run time.
  job_environment = {
    BYO_DATA_BUCKET                  = var.data_bucket_name
    BYO_JOB_TABLE                    = var.job_table_name
    BYO_ENDPOINT_NAME                = var.endpoint_name
    BYO_MODEL_PACKAGE_GROUP          = var.model_package_group_name
    BYO_SAGEMAKER_EXECUTION_ROLE_ARN = var.sagemaker_execution_role_arn
    BYO_SERVING_IMAGE                = var.serving_image
    BYO_NAME                         = var.name
    BYO_DATA_PREFIXES                = jsonencode(local.data_prefixes)
  }

  sagemaker_arn_base = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
  group_arns = [
    "${local.sagemaker_arn_base}:model-package-group/${lower(var.model_package_group_name)}",
    "${local.sagemaker_arn_base}:model-package/${lower(var.model_package_group_name)}/*",
  ]
  # The endpoint and what the operators name after it (configs and models <endpoint>-…).
  endpoint_arns = [
    "${local.sagemaker_arn_base}:endpoint/${lower(var.endpoint_name)}",
    "${local.sagemaker_arn_base}:endpoint-config/${lower(var.endpoint_name)}-*",
    "${local.sagemaker_arn_base}:model/${lower(var.endpoint_name)}-*",
  ]
  # The job table items of the loops and the endpoints' rollout locks.
  loop_items = ["loops/*"]
  bucket_via = { StringEquals = { "kms:ViaService" = ["s3.${local.region}.amazonaws.com"] } }

  assume = {
    ecs    = "ecs-tasks.amazonaws.com"
    states = "states.amazonaws.com"
    events = "events.amazonaws.com"
  }
}

# ---------------------------------------------------------------------------------------------
# Execution role: what ECS needs to start the jobs' containers (pull the image, write logs)
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "execution" {
  count = local.create ? 1 : 0

  name        = "${var.name}-loops-execution"
  description = "Starts the ${local.retrain_job} and ${local.deploy_job} jobs' containers: pulls their image and writes their logs."
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = local.assume.ecs }, Action = "sts:AssumeRole" }]
  })

  tags = merge(local.tags, { Name = "${var.name}-loops-execution" })
}

resource "aws_iam_role_policy" "execution" {
  count = local.create ? 1 : 0

  name = "pull-image-write-logs"
  role = aws_iam_role.execution[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      var.image_repository_arn == null ? [] : [
        {
          # ecr:GetAuthorizationToken has no resource type: AWS requires Resource "*".
          Sid      = "AuthenticateToEcr"
          Effect   = "Allow"
          Action   = ["ecr:GetAuthorizationToken"]
          Resource = ["*"]
        },
        {
          Sid      = "PullOperatorsImage"
          Effect   = "Allow"
          Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
          Resource = [var.image_repository_arn]
        },
      ],
      [{
        Sid      = "WriteJobLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.this["jobs"].arn}:*"]
      }],
    )
  })
}

# ---------------------------------------------------------------------------------------------
# Job roles: what `byo loops retrain` and `byo loops deploy` may do
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "job" {
  for_each = local.create ? toset(["retrain", "deploy"]) : toset([])

  name        = "${var.name}-loops-${each.key}"
  description = each.key == "retrain" ? "Runs ${local.retrain_job}: reads datasets, writes the pipeline's outputs and models, registers versions, records its outcome." : "Runs ${local.deploy_job}: rolls an approved version out to ${var.endpoint_name} under its rollout lock, records the outcome."
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = local.assume.ecs }, Action = "sts:AssumeRole" }]
  })

  tags = merge(local.tags, { Name = "${var.name}-loops-${each.key}" })
}

resource "aws_iam_role_policy" "retrain" {
  count = local.create ? 1 : 0

  name = "retrain"
  role = aws_iam_role.job["retrain"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadDatasetsAndPipelineOutputs"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [for p in [local.data_prefixes.datasets, local.data_prefixes.pipelines, local.data_prefixes.models] : "${var.data_bucket_arn}/${p}*"]
      },
      {
        Sid      = "WritePipelineOutputsModelsAndBaselines"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:PutObject"]
        Resource = [for p in [local.data_prefixes.pipelines, local.data_prefixes.models, local.data_prefixes.monitoring] : "${var.data_bucket_arn}/${p}*"]
      },
      {
        Sid       = "ListDatasetsAndPipelineOutputs"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [var.data_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = [for p in [local.data_prefixes.datasets, local.data_prefixes.pipelines, local.data_prefixes.models] : "${p}*"] } }
      },
      {
        Sid       = "UsePlatformKeyForBucket"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = [var.kms_key_arn]
        Condition = local.bucket_via
      },
      {
        Sid    = "RegisterAndApproveVersions"
        Effect = "Allow"
        Action = [
          "sagemaker:CreateModelPackage", "sagemaker:DescribeModelPackage", "sagemaker:DescribeModelPackageGroup",
          "sagemaker:ListModelPackages", "sagemaker:UpdateModelPackage",
        ]
        Resource = local.group_arns
      },
      {
        Sid      = "ReadTheServingVersion"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel", "sagemaker:ListTags"]
        Resource = local.endpoint_arns
      },
      {
        Sid       = "RecordTheOutcome"
        Effect    = "Allow"
        Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource  = [var.job_table_arn]
        Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = local.loop_items } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "deploy" {
  count = local.create ? 1 : 0

  name = "deploy"
  role = aws_iam_role.job["deploy"].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadApprovedVersions"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages"]
        Resource = local.group_arns
      },
      {
        Sid    = "RollOutToTheEndpoint"
        Effect = "Allow"
        Action = [
          "sagemaker:CreateEndpointConfig", "sagemaker:CreateModel", "sagemaker:DescribeEndpoint",
          "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel", "sagemaker:ListTags", "sagemaker:UpdateEndpoint",
          "sagemaker:UpdateEndpointWeightsAndCapacities",
        ]
        Resource = local.endpoint_arns
      },
      {
        Sid       = "PassTheModelRole"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [var.sagemaker_execution_role_arn]
        Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
      },
      {
        # The gate: the platform's alarms (named <name>-…) that roll the deploy back.
        Sid      = "ReadTheGateAlarms"
        Effect   = "Allow"
        Action   = ["cloudwatch:DescribeAlarms"]
        Resource = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${var.name}-*"]
      },
      {
        # GetMetricStatistics has no resource-level permissions: AWS requires Resource "*".
        Sid      = "ReadTheVariantsMetrics"
        Effect   = "Allow"
        Action   = ["cloudwatch:GetMetricStatistics"]
        Resource = ["*"]
      },
      {
        Sid       = "TakeTheRolloutLockAndRecord"
        Effect    = "Allow"
        Action    = ["dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource  = [var.job_table_arn]
        Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = concat(local.loop_items, ["rollout-lock/*"]) } }
      },
      {
        Sid      = "ReadModelsForTheNewConfig"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = ["${var.data_bucket_arn}/${local.data_prefixes.models}*"]
      },
      {
        Sid       = "UsePlatformKeyForBucket"
        Effect    = "Allow"
        Action    = ["kms:Decrypt"]
        Resource  = [var.kms_key_arn]
        Condition = local.bucket_via
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# State machine roles
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "machine" {
  for_each = local.create ? toset(["retraining", "deploy"]) : toset([])

  name        = "${var.name}-${each.key}-machine"
  description = "Runs the ${var.name}-${each.key} state machine: its Batch job, its records and lock in the job table, its notifications."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = local.assume.states }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
    }]
  })

  tags = merge(local.tags, { Name = "${var.name}-${each.key}-machine" })
}

resource "aws_iam_role_policy" "machine" {
  for_each = local.create ? toset(["retraining", "deploy"]) : toset([])

  name = "run-${each.key}"
  role = aws_iam_role.machine[each.key].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      each.key == "deploy" || var.pipeline_backend == "batch" ? [
        {
          # SubmitJob is authorised against the definition as named and in its unrevisioned
          # form; TerminateJob lets a stopped execution stop its job.
          Sid    = "SubmitItsJob"
          Effect = "Allow"
          Action = ["batch:SubmitJob"]
          Resource = compact([
            var.job_queue_arn,
            try(var.job_definition_arns[each.key == "deploy" ? "deploy" : "retrain"], ""),
            try(replace(var.job_definition_arns[each.key == "deploy" ? "deploy" : "retrain"], "/:[0-9]+$/", ""), ""),
          ])
        },
        {
          # What AWS requires for a .sync Batch task: DescribeJobs has no resource-level
          # permissions (Resource "*"), and the managed rule that reports job state changes.
          Sid      = "WaitForItsJob"
          Effect   = "Allow"
          Action   = ["batch:DescribeJobs", "batch:TerminateJob"]
          Resource = ["*"]
        },
        {
          Sid      = "ManagedRuleForBatchSync"
          Effect   = "Allow"
          Action   = ["events:DescribeRule", "events:PutRule", "events:PutTargets"]
          Resource = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/StepFunctionsGetEventsForBatchJobsRule"]
        },
        ] : [
        {
          Sid      = "RunTheSageMakerPipeline"
          Effect   = "Allow"
          Action   = ["sagemaker:DescribePipelineExecution", "sagemaker:StartPipelineExecution"]
          Resource = [local.pipeline_arn, "${local.pipeline_arn}/execution/*"]
        },
      ],
      [
        {
          Sid       = "LockAndRecord"
          Effect    = "Allow"
          Action    = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource  = [var.job_table_arn]
          Condition = { "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = local.loop_items } }
        },
        {
          Sid      = "Notify"
          Effect   = "Allow"
          Action   = ["sns:Publish"]
          Resource = [var.sns_topic_arn]
        },
        {
          # The topic and the table are encrypted with the platform key; only through them.
          Sid      = "UsePlatformKeyForTopicAndTable"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = [var.kms_key_arn]
          Condition = { StringEquals = { "kms:ViaService" = [
            "sns.${local.region}.amazonaws.com", "dynamodb.${local.region}.amazonaws.com",
          ] } }
        },
        {
          # Log delivery and X-Ray have no resource-level permissions: AWS requires Resource "*"
          # (Step Functions' logging and tracing documentation).
          Sid    = "DeliverLogsAndTraces"
          Effect = "Allow"
          Action = [
            "logs:CreateLogDelivery", "logs:DeleteLogDelivery", "logs:DescribeLogGroups",
            "logs:DescribeResourcePolicies", "logs:GetLogDelivery", "logs:ListLogDeliveries",
            "logs:PutResourcePolicy", "logs:UpdateLogDelivery",
            "xray:GetSamplingRules", "xray:GetSamplingTargets", "xray:PutTelemetryRecords", "xray:PutTraceSegments",
          ]
          Resource = ["*"]
        },
      ],
    )
  })
}

# ---------------------------------------------------------------------------------------------
# Trigger role: the rules may start the two machines, and nothing else
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "events" {
  count = local.create ? 1 : 0

  name        = "${var.name}-loops-triggers"
  description = "Lets the ${var.name}-loops-* rules start the retraining and deploy state machines, and nothing else."
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = local.assume.events }, Action = "sts:AssumeRole" }]
  })

  tags = merge(local.tags, { Name = "${var.name}-loops-triggers" })
}

resource "aws_iam_role_policy" "events" {
  count = local.create ? 1 : 0

  name = "start-the-loops"
  role = aws_iam_role.events[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "StartTheLoops"
      Effect   = "Allow"
      Action   = ["states:StartExecution"]
      Resource = values(local.state_machine_arns)
    }]
  })
}
