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
      length(local.pull_repository_arns) == 0 ? [] : [
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
          Resource = local.pull_repository_arns
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
          Condition = { StringLike = { "s3:prefix" = [for p in [var.data_prefixes.input, var.data_prefixes.output, var.data_prefixes.errors, var.data_prefixes.checkpoints] : "${p}*"] } }
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

