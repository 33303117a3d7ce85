locals {
  # The execution role's resources are built from the inputs, so the policy is known (and
  # reviewable) at plan time.
  model_objects_arn = "${var.model_bucket_arn}/${var.model_prefix}*"
  # s3://bucket/captures/ -> arn:aws:s3:::bucket/captures/*
  capture_objects_arn = var.data_capture == null ? null : "${coalesce(
    var.capture_prefix_arn,
    "arn:${local.partition}:s3:::${trimsuffix(trimprefix(var.data_capture.destination_s3_uri, "s3://"), "/")}/",
  )}*"
  # Asynchronous inference: SageMaker writes results and errors under these prefixes, reads
  # request payloads under the input prefix and notifies the topics, as the execution role.
  async_prefix_arns = var.async_inference == null ? {} : {
    for use, uri in {
      output  = var.async_inference.output_s3_uri
      failure = var.async_inference.failure_s3_uri
      input   = var.async_inference.input_s3_uri
    } : use => "arn:${local.partition}:s3:::${trimsuffix(trimprefix(uri, "s3://"), "/")}/*" if uri != null
  }
  async_topic_arns = var.async_inference == null ? [] : distinct(compact([
    var.async_inference.success_topic_arn, var.async_inference.error_topic_arn,
  ]))
  endpoint_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/Endpoints/${var.name}*"

  # What SageMaker needs of a role whose containers run in the given subnets: it creates,
  # describes and deletes their network interfaces with it.
  network_interface_actions = [
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
  ]
}

# ---------------------------------------------------------------------------------------------
# Execution role: what the endpoint's containers (and SageMaker on their behalf) may do
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "this" {
  count = local.create ? 1 : 0

  name        = "${var.name}-sagemaker-endpoint"
  description = "${var.name}: execution role of the SageMaker endpoint ${var.name} and its models"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect    = "Allow"
        Principal = { Service = "sagemaker.amazonaws.com" }
        Action    = "sts:AssumeRole"
      },
    ]
  })

  tags = local.tags
}

resource "aws_iam_role_policy" "this" {
  count = local.create ? 1 : 0

  name = "endpoint-least-privilege"
  role = aws_iam_role.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          Sid      = "ReadModelArtifacts"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [local.model_objects_arn]
        },
        {
          Sid      = "UsePlatformKey"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"]
          Resource = [var.kms_key_arn]
        },
        {
          Sid    = "WriteEndpointLogs"
          Effect = "Allow"
          Action = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
          # The trailing * covers the log group's streams (":log-stream:...").
          Resource = [local.endpoint_log_group_arn]
        },
        {
          # PutMetricData has no resource-level permissions: AWS requires "*"; the namespace
          # condition keeps the role to the endpoint's instance metrics.
          Sid       = "PublishEndpointMetrics"
          Effect    = "Allow"
          Action    = ["cloudwatch:PutMetricData"]
          Resource  = "*"
          Condition = { StringEquals = { "cloudwatch:namespace" = "/aws/sagemaker/Endpoints" } }
        },
      ],
      [for s in [
        {
          Sid      = "WriteCapturedData"
          Effect   = "Allow"
          Action   = ["s3:PutObject"]
          Resource = [local.capture_objects_arn]
        },
      ] : s if var.data_capture != null],
      [for s in [
        {
          Sid      = "WriteAsyncResults"
          Effect   = "Allow"
          Action   = ["s3:PutObject", "s3:AbortMultipartUpload"]
          Resource = distinct([for use in ["output", "failure"] : local.async_prefix_arns[use] if contains(keys(local.async_prefix_arns), use)])
        },
      ] : s if var.async_inference != null],
      [for s in [
        {
          Sid      = "ReadAsyncRequests"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [lookup(local.async_prefix_arns, "input", "")]
        },
      ] : s if contains(keys(local.async_prefix_arns), "input")],
      [for s in [
        {
          # The topics may be KMS-encrypted: UsePlatformKey covers the platform key.
          Sid      = "PublishAsyncNotifications"
          Effect   = "Allow"
          Action   = ["sns:Publish"]
          Resource = local.async_topic_arns
        },
      ] : s if length(local.async_topic_arns) > 0],
      [for s in [
        {
          Sid      = "PullBringYourOwnImages"
          Effect   = "Allow"
          Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
          Resource = var.ecr_repository_arns
        },
        {
          # GetAuthorizationToken is account-wide (no resource-level permissions): AWS requires "*".
          Sid      = "AuthenticateToEcr"
          Effect   = "Allow"
          Action   = ["ecr:GetAuthorizationToken"]
          Resource = "*"
        },
      ] : s if length(var.ecr_repository_arns) > 0],
      [for s in [
        {
          # SageMaker creates, describes and deletes the containers' network interfaces in the
          # given subnets with this role. The Describe* actions have no resource-level
          # permissions, and the interfaces' ids are unknown before SageMaker creates them:
          # AWS's documented policy for VPC-attached endpoints grants these on "*".
          Sid      = "ManageEndpointNetworkInterfaces"
          Effect   = "Allow"
          Action   = local.network_interface_actions
          Resource = "*"
        },
      ] : s if local.in_vpc],
    )
  })
}
