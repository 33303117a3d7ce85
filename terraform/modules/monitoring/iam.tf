# ---------------------------------------------------------------------------------------------
# Execution role: what ECS needs to start the job's container (pull its image, write its logs)
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "execution" {
  count = local.create ? 1 : 0

  name        = "${local.job_name}-execution"
  description = "Starts the ${local.job_name} job's container: pulls its image and writes its logs."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${local.job_name}-execution" })
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
          Sid      = "PullMonitorImage"
          Effect   = "Allow"
          Action   = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
          Resource = [var.image_repository_arn]
        },
      ],
      [
        {
          Sid      = "WriteMonitorLogs"
          Effect   = "Allow"
          Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
          Resource = ["${local.log_group_arn}:*"]
        },
      ],
    )
  })
}

# ---------------------------------------------------------------------------------------------
# Job role: what `byo monitor run` may do (its prefixes of the bucket, the endpoint, its metrics)
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "job" {
  count = local.create ? 1 : 0

  name        = "${local.job_name}-job"
  description = "Runs the ${local.job_name} job: reads captures, ground truth, baselines and models, writes results, publishes metrics."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ecs-tasks.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = "${local.job_name}-job" })
}

resource "aws_iam_role_policy" "job" {
  count = local.create ? 1 : 0

  name = "monitor-endpoint"
  role = aws_iam_role.job[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadCapturesGroundTruthBaselinesAndModels"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = [for p in local.read_prefixes : "${var.data_bucket_arn}/${p}*"]
      },
      {
        Sid      = "WriteMonitoringResults"
        Effect   = "Allow"
        Action   = ["s3:AbortMultipartUpload", "s3:PutObject"]
        Resource = ["${var.data_bucket_arn}/${local.data_prefixes.monitoring}*"]
      },
      {
        Sid       = "ListMonitoredPrefixes"
        Effect    = "Allow"
        Action    = ["s3:ListBucket"]
        Resource  = [var.data_bucket_arn]
        Condition = { StringLike = { "s3:prefix" = [for p in local.read_prefixes : "${p}*"] } }
      },
      {
        # The bucket's objects are encrypted with the platform key; only through S3.
        Sid       = "UsePlatformKeyForBucket"
        Effect    = "Allow"
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = [var.kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = ["s3.${local.region}.amazonaws.com"] } }
      },
      {
        Sid      = "DescribeEndpointConfigsAndModels"
        Effect   = "Allow"
        Action   = ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"]
        Resource = local.monitored_sagemaker_arns
      },
      {
        # cloudwatch:PutMetricData has no resource type: AWS requires Resource "*"; the namespace
        # condition keeps the job to its own metrics.
        Sid       = "PublishMonitoringMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = ["*"]
        Condition = { StringEquals = { "cloudwatch:namespace" = local.namespace } }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Schedule role: EventBridge may submit this job, and nothing else
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "schedule" {
  count = local.create ? 1 : 0

  name        = local.rule_name
  description = "Lets the ${local.rule_name} rule submit ${local.job_name} jobs, and nothing else."
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })

  tags = merge(local.tags, { Name = local.rule_name })
}

resource "aws_iam_role_policy" "schedule" {
  count = local.create ? 1 : 0

  name = "submit-monitor-job"
  role = aws_iam_role.schedule[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      # SubmitJob is authorised against the definition as named in the call and as its
      # unrevisioned "…:job-definition/<name>" form, so both are allowed (as in the trigger).
      Sid    = "SubmitMonitorJobs"
      Effect = "Allow"
      Action = ["batch:SubmitJob"]
      Resource = [
        var.job_queue_arn,
        var.job_definition_arn,
        replace(var.job_definition_arn, "/:[0-9]+$/", ""),
      ]
    }]
  })
}
