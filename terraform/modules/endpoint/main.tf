data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

# SageMaker's prebuilt XGBoost image for this region; resolved locally by the provider (no API call).
data "aws_sagemaker_prebuilt_ecr_image" "this" {
  count = var.create && var.default_image == null ? 1 : 0

  repository_name = "sagemaker-xgboost"
  image_tag       = var.xgboost_image_tag
}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  # What SageMaker needs of a role whose containers run in the given subnets (the endpoint's,
  # the pipeline's jobs): it creates, describes and deletes their network interfaces with it.
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

  default_image            = var.default_image != null ? var.default_image : try(data.aws_sagemaker_prebuilt_ecr_image.this[0].registry_path, null)
  model_package_group_name = coalesce(var.model_package_group_name, "${var.name}-models")
  in_vpc                   = length(var.vpc_subnet_ids) > 0

  # What each variant's model runs. Model names carry a hash of it: a changed model is a new
  # model (SageMaker models are immutable), created before the endpoint config that uses it.
  models = {
    for k, v in var.variants : k => {
      image          = v.image != null ? v.image : local.default_image
      model_data_url = v.model_data_url
      environment    = v.environment
    }
  }
  model_names = {
    for k, m in local.models : k => "${var.name}-${k}-${substr(sha256(jsonencode([
      m, var.enable_network_isolation, sort(var.vpc_subnet_ids), sort(var.vpc_security_group_ids),
    ])), 0, 8)}"
  }

  # Variants in name order, so the endpoint config's production_variants list plans stably.
  production_variants = [
    for k in sort(keys(var.variants)) : {
      variant_name           = k
      model_name             = local.model_names[k]
      instance_type          = var.variants[k].instance_type
      initial_instance_count = var.variants[k].initial_instance_count
      initial_variant_weight = var.variants[k].initial_weight
    }
  ]

  capture_modes = var.data_capture == null ? [] : concat(
    var.data_capture.capture_input ? ["Input"] : [],
    var.data_capture.capture_output ? ["Output"] : [],
  )

  # Endpoint configs are immutable: the name changes with the content, so a change creates a new
  # config next to the old one (create_before_destroy) for the operators to roll out.
  endpoint_config_name = "${var.name}-${substr(sha256(jsonencode([
    local.production_variants, var.kms_key_arn, var.data_capture,
  ])), 0, 8)}"

  model_objects_arn = "${var.model_bucket_arn}/${var.model_prefix}*"
  # s3://bucket/captures/ -> arn:aws:s3:::bucket/captures/*
  capture_objects_arn = var.data_capture == null ? null : "${coalesce(
    var.capture_prefix_arn,
    "arn:${local.partition}:s3:::${trimsuffix(trimprefix(var.data_capture.destination_s3_uri, "s3://"), "/")}/",
  )}*"
  endpoint_log_group_arn = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/Endpoints/${var.name}*"

  # The SageMaker pipeline's role (optional). Its ARNs are built from names, so the policy is
  # known (and reviewable) at plan time.
  create_pipeline    = local.create && var.pipeline != null
  sagemaker_arn_base = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}"
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
  pipeline_prefix       = try(var.pipeline.prefix, null)
  pipeline_model_prefix = "${var.model_prefix}pipelines/"
  pipeline_job_log_groups = [
    for kind in ["ProcessingJobs", "TrainingJobs"] :
    "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:/aws/sagemaker/${kind}"
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

# ---------------------------------------------------------------------------------------------
# Pipeline role: what the SageMaker pipeline (`byo pipeline upsert`) and its jobs may do
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "pipeline" {
  count = local.create_pipeline ? 1 : 0

  name        = "${var.name}-sagemaker-pipeline"
  description = "${var.name}: the SageMaker pipeline that trains, registers and deploys model versions of the endpoint ${var.name}, and its jobs"
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

resource "aws_iam_role_policy" "pipeline" {
  count = local.create_pipeline ? 1 : 0

  name = "pipeline-least-privilege"
  role = aws_iam_role.pipeline[0].id
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
            "${local.sagemaker_arn_base}:endpoint/${var.name}",
            "${local.sagemaker_arn_base}:endpoint-config/${var.name}-*",
            "${local.sagemaker_arn_base}:model/${var.name}-*",
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
          Resource = ["arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:TargetTracking-endpoint/${var.name}/*"]
        },
        {
          # CreateModel passes the endpoint's execution role to the models it creates.
          Sid       = "PassEndpointRoleToModels"
          Effect    = "Allow"
          Action    = ["iam:PassRole"]
          Resource  = [aws_iam_role.this[0].arn]
          Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
        },
        {
          # The pipeline passes its own role to the jobs it starts.
          Sid       = "PassPipelineRoleToJobs"
          Effect    = "Allow"
          Action    = ["iam:PassRole"]
          Resource  = [aws_iam_role.pipeline[0].arn]
          Condition = { StringEquals = { "iam:PassedToService" = "sagemaker.amazonaws.com" } }
        },
        {
          # Inputs, step outputs, property files (JsonGet) and run records of every pipeline.
          Sid      = "ReadWritePipelineData"
          Effect   = "Allow"
          Action   = ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"]
          Resource = ["${var.pipeline.bucket_arn}/${local.pipeline_prefix}*"]
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
          Resource = ["${var.model_bucket_arn}/${local.pipeline_model_prefix}*"]
        },
        {
          # SageMaker lists S3 prefixes it downloads into jobs (the step outputs, the trained model).
          Sid       = "ListPipelinePrefixes"
          Effect    = "Allow"
          Action    = ["s3:ListBucket"]
          Resource  = [var.pipeline.bucket_arn]
          Condition = { StringLike = { "s3:prefix" = ["${local.pipeline_prefix}*", "${local.pipeline_model_prefix}*"] } }
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
          Resource = [var.pipeline.operator_repository_arn]
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
      ] : s if local.in_vpc],
    )
  })
}

# ---------------------------------------------------------------------------------------------
# Models: one per variant
# ---------------------------------------------------------------------------------------------
resource "aws_sagemaker_model" "this" {
  for_each = local.create ? local.models : {}

  # checkov:skip=CKV_AWS_370:Network isolation is opt-in (var.enable_network_isolation): bring-your-own containers may need to reach AWS APIs from inside; they run in private subnets with var.vpc_subnet_ids.
  name                     = local.model_names[each.key]
  execution_role_arn       = aws_iam_role.this[0].arn
  enable_network_isolation = var.enable_network_isolation

  primary_container {
    image          = each.value.image
    model_data_url = each.value.model_data_url
    environment    = each.value.environment
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [true] : []
    content {
      subnets            = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = merge(local.tags, { Name = local.model_names[each.key], Variant = each.key })

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------------------------------------
# Endpoint configuration: the endpoint's initial variants, weights and data capture
# ---------------------------------------------------------------------------------------------
resource "aws_sagemaker_endpoint_configuration" "this" {
  count = local.create ? 1 : 0

  name        = local.endpoint_config_name
  kms_key_arn = var.kms_key_arn

  dynamic "production_variants" {
    for_each = local.production_variants
    content {
      variant_name           = production_variants.value.variant_name
      model_name             = aws_sagemaker_model.this[production_variants.value.variant_name].name
      instance_type          = production_variants.value.instance_type
      initial_instance_count = production_variants.value.initial_instance_count
      # Relative integers: fractions round-trip through some APIs as float32 and re-plan forever.
      initial_variant_weight = production_variants.value.initial_variant_weight
    }
  }

  dynamic "data_capture_config" {
    for_each = var.data_capture == null ? [] : [var.data_capture]
    content {
      enable_capture              = data_capture_config.value.enabled
      initial_sampling_percentage = data_capture_config.value.sampling_percentage
      destination_s3_uri          = data_capture_config.value.destination_s3_uri
      kms_key_id                  = var.kms_key_arn

      dynamic "capture_options" {
        for_each = local.capture_modes
        content {
          capture_mode = capture_options.value
        }
      }

      capture_content_type_header {
        csv_content_types  = data_capture_config.value.csv_content_types
        json_content_types = data_capture_config.value.json_content_types
      }
    }
  }

  tags = merge(local.tags, { Name = local.endpoint_config_name })

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------------------------------------
# Endpoint
# ---------------------------------------------------------------------------------------------
resource "aws_sagemaker_endpoint" "this" {
  count = local.create ? 1 : 0

  name                 = var.name
  endpoint_config_name = aws_sagemaker_endpoint_configuration.this[0].name

  tags = local.tags

  lifecycle {
    # The operators own the live config (rollouts, weights, instance counts). Without this,
    # apply would switch the endpoint back to Terraform's config and reset the weights
    # (hashicorp/terraform-provider-aws#48990). A changed config is created; the operators roll it out.
    ignore_changes = [endpoint_config_name]
  }

  # The endpoint pulls the model artifacts with the role as soon as it is created.
  depends_on = [aws_iam_role_policy.this]
}

# ---------------------------------------------------------------------------------------------
# Model registry: the endpoint's model versions
# ---------------------------------------------------------------------------------------------
resource "aws_sagemaker_model_package_group" "this" {
  count = local.create && var.create_model_package_group ? 1 : 0

  model_package_group_name        = local.model_package_group_name
  model_package_group_description = "Model versions served by the SageMaker endpoint ${var.name}"

  tags = merge(local.tags, { Name = local.model_package_group_name })
}
