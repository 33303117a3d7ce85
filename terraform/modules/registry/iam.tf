locals {
  sagemaker_arn_base   = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
  create_pipeline_role = local.create && var.create_pipeline_role

  # The role's ARNs are built from names, so the policy is known (and reviewable) at plan time.
  # Versions of a model package group are "model-package/<group>/<version>".
  model_package_group_arn = "${local.sagemaker_arn_base}:model-package-group/${local.model_package_group_name}"
  model_package_arns      = "${local.sagemaker_arn_base}:model-package/${local.model_package_group_name}/*"
  # Pipelines (without custom job prefixes, which the definition does not use) names its jobs
  # "pipelines-<execution id>-<step name>-<token>-<failure count>": AWS's IAM guide for Pipelines
  # ("Customize access management for Pipelines jobs") says to match IAM policies on that string.
  pipeline_job_arns = [
    "${local.sagemaker_arn_base}:processing-job/pipelines-*",
    "${local.sagemaker_arn_base}:training-job/pipelines-*",
  ]
  model_objects_arn     = "${var.bucket_arn}/${var.models_prefix}*"
  pipeline_model_prefix = "${var.models_prefix}pipelines/"
  pipeline_job_log_groups = [
    for kind in ["ProcessingJobs", "TrainingJobs"] :
    "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/${kind}"
  ]

  # What SageMaker needs of a role whose jobs run in your subnets: it creates, describes and
  # deletes their network interfaces with it.
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
# Pipeline role: what the SageMaker pipeline (`byo pipeline upsert`) and its jobs may do
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "this" {
  count = local.create_pipeline_role ? 1 : 0

  name        = "${var.name}-sagemaker-pipeline"
  description = "${var.name}: the SageMaker pipeline that trains, registers and deploys model versions of the endpoint ${var.endpoint_name}, and its jobs"
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

  tags = merge(local.tags, { Name = "${var.name}-sagemaker-pipeline" })
}

resource "aws_iam_role_policy" "this" {
  count = local.create_pipeline_role ? 1 : 0

  name = "pipeline-least-privilege"
  role = aws_iam_role.this[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # The pipeline runs its steps as processing and training jobs, and tags them.
          Sid    = "RunPipelineJobs"
          Effect = "Allow"
          Action = [
            "sagemaker:CreateProcessingJob",
            "sagemaker:CreateTrainingJob",
            "sagemaker:DescribeProcessingJob",
            "sagemaker:DescribeTrainingJob",
            "sagemaker:StopProcessingJob",
            "sagemaker:StopTrainingJob",
            "sagemaker:AddTags",
          ]
          Resource = local.pipeline_job_arns
        },
        {
          # The register step creates a version in the group (AddTags: creating it with tags);
          # the deploy step finds it by version and reads it.
          Sid    = "RegisterModelVersions"
          Effect = "Allow"
          Action = [
            "sagemaker:CreateModelPackage",
            "sagemaker:DescribeModelPackage",
            "sagemaker:UpdateModelPackage",
            "sagemaker:ListModelPackages",
            "sagemaker:AddTags",
          ]
          Resource = [local.model_package_group_arn, local.model_package_arns]
        },
        {
          # The deploy step (`byo pipeline step deploy`, operators/deploy.py): a new model and
          # endpoint config, then UpdateEndpoint. UpdateEndpointWeightsAndCapacities: Application
          # Auto Scaling requires it of whoever registers a variant as a scalable target.
          Sid    = "DeployToEndpoint"
          Effect = "Allow"
          Action = [
            "sagemaker:CreateModel",
            "sagemaker:DescribeModel",
            "sagemaker:CreateEndpointConfig",
            "sagemaker:DescribeEndpointConfig",
            "sagemaker:UpdateEndpoint",
            "sagemaker:DescribeEndpoint",
            "sagemaker:UpdateEndpointWeightsAndCapacities",
            "sagemaker:ListTags",
            "sagemaker:AddTags",
          ]
          Resource = [
            "${local.sagemaker_arn_base}:endpoint/${var.endpoint_name}",
            "${local.sagemaker_arn_base}:endpoint-config/${var.endpoint_name}-*",
            "${local.sagemaker_arn_base}:model/${var.endpoint_name}-*",
          ]
        },
        {
          # A new variant gets the autoscaling of an existing one. Scalable-target ARNs carry an
          # id Application Auto Scaling assigns, not the endpoint's name: the conditions keep
          # the role to SageMaker variants' instance counts.
          Sid      = "ScaleNewVariants"
          Effect   = "Allow"
          Action   = ["application-autoscaling:RegisterScalableTarget", "application-autoscaling:PutScalingPolicy"]
          Resource = ["arn:${local.partition}:application-autoscaling:${local.region}:${local.account_id}:scalable-target/*"]
          Condition = {
            StringEquals = {
              "application-autoscaling:service-namespace"  = "sagemaker"
              "application-autoscaling:scalable-dimension" = "sagemaker:variant:DesiredInstanceCount"
            }
          }
        },
        {
          # The Describe* actions of Application Auto Scaling have no resource-level
          # permissions: AWS requires "*".
          Sid      = "ReadAutoscaling"
          Effect   = "Allow"
          Action   = ["application-autoscaling:DescribeScalableTargets", "application-autoscaling:DescribeScalingPolicies"]
          Resource = "*"
        },
        {
          # A target-tracking policy's alarms ("TargetTracking-endpoint/<name>/variant/..."),
          # which Application Auto Scaling requires its caller to be allowed to manage.
          Sid      = "ManageScalingAlarms"
          Effect   = "Allow"
          Action   = ["cloudwatch:PutMetricAlarm", "cloudwatch:DescribeAlarms", "cloudwatch:DeleteAlarms"]
          Resource = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:TargetTracking-endpoint/${var.endpoint_name}/*"]
        },
        {
          # CreateModel passes the endpoint's execution role to the models it creates.
          Sid       = "PassEndpointRoleToModels"
          Effect    = "Allow"
          Action    = ["iam:PassRole"]
          Resource  = [var.endpoint_role_arn]
          Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
        },
        {
          # The pipeline passes its own role to the jobs it starts.
          Sid       = "PassPipelineRoleToJobs"
          Effect    = "Allow"
          Action    = ["iam:PassRole"]
          Resource  = [aws_iam_role.this[0].arn]
          Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
        },
        {
          # Inputs, step outputs, property files (JsonGet) and run records of every pipeline.
          Sid      = "ReadWritePipelineData"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
          Resource = ["${var.bucket_arn}/${var.pipelines_prefix}*"]
        },
        {
          # Registered models are read for deployment and evaluation; trained models are
          # written under <model_prefix>pipelines/, where the endpoint's role can read them.
          Sid      = "ReadModels"
          Effect   = "Allow"
          Action   = ["s3:GetObject"]
          Resource = [local.model_objects_arn]
        },
        {
          Sid      = "WriteTrainedModels"
          Effect   = "Allow"
          Action   = ["s3:PutObject", "s3:AbortMultipartUpload"]
          Resource = ["${var.bucket_arn}/${local.pipeline_model_prefix}*"]
        },
        {
          # SageMaker lists S3 prefixes it downloads into jobs (the step outputs, the trained model).
          Sid       = "ListPipelinePrefixes"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [var.bucket_arn]
          Condition = { StringLike = { "s3:prefix" = ["${var.pipelines_prefix}*", "${local.pipeline_model_prefix}*"] } }
        },
        {
          # Encrypted bucket objects, job outputs and the jobs' storage volumes.
          Sid      = "UsePlatformKey"
          Effect   = "Allow"
          Action   = ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
          Resource = [var.kms_key_arn]
        },
        {
          # A job's ML storage volume encrypted with the key (VolumeKmsKeyId): SageMaker creates
          # a grant for the volume; only grants for AWS resources.
          Sid       = "GrantJobVolumes"
          Effect    = "Allow"
          Action    = ["kms:CreateGrant"]
          Resource  = [var.kms_key_arn]
          Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" } }
        },
        {
          Sid      = "PullOperatorsImage"
          Effect   = "Allow"
          Action   = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"]
          Resource = [var.operator_repository_arn]
        },
        {
          # GetAuthorizationToken is account-wide (no resource-level permissions): AWS requires "*".
          Sid      = "AuthenticateToEcr"
          Effect   = "Allow"
          Action   = ["ecr:GetAuthorizationToken"]
          Resource = "*"
        },
        {
          Sid    = "WriteJobLogs"
          Effect = "Allow"
          Action = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"]
          # The jobs' log groups are SageMaker's, shared by all jobs of the account; ":*" covers
          # their streams (one per job instance) and the ARN form of group-level actions.
          Resource = flatten([for group in local.pipeline_job_log_groups : [group, "${group}:*"]])
        },
        {
          # PutMetricData has no resource-level permissions: AWS requires "*"; the namespace
          # condition keeps the role to the jobs' instance metrics.
          Sid       = "PublishJobMetrics"
          Effect    = "Allow"
          Action    = ["cloudwatch:PutMetricData"]
          Resource  = "*"
          Condition = { StringEquals = { "cloudwatch:namespace" = ["/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs"] } }
        },
      ],
      [for s in [
        {
          # The jobs run in the given subnets: SageMaker creates, describes and deletes their
          # network interfaces with this role. The Describe* actions have no resource-level
          # permissions, and the interfaces' ids are unknown before SageMaker creates them:
          # AWS's documented policy for VPC-attached jobs grants these on "*".
          Sid      = "ManageJobNetworkInterfaces"
          Effect   = "Allow"
          Action   = local.network_interface_actions
          Resource = "*"
        },
      ] : s if var.jobs_in_vpc],
    )
  })
}
