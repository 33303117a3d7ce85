data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  images          = local.create ? var.images : {}
  project_names   = { for image in keys(local.images) : image => "${var.name}-build-${image}" }
  log_group_names = { for image, project in local.project_names : image => "/aws/codebuild/${project}" }

  # Known at plan time (not read back from the resources) so the policies are reviewable in a plan.
  project_arns   = { for image, project in local.project_names : image => "arn:${local.partition}:codebuild:${local.region}:${local.account_id}:project/${project}" }
  log_group_arns = { for image, group in local.log_group_names : image => "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:${group}" }

  bundle_location   = "${var.bundle_bucket_name}/${var.bundle_key}"
  bundle_object_arn = "${var.bundle_bucket_arn}/${var.bundle_key}"

  environment = {
    for image, i in local.images : image => {
      IMAGE_NAME     = image
      REPOSITORY_URI = i.repository_url
      # The registry host <account>.dkr.ecr.<region>.amazonaws.com, which docker logs in to.
      REGISTRY   = split("/", i.repository_url)[0]
      IMAGE_TAG  = coalesce(i.image_tag, var.image_tag)
      DOCKERFILE = i.dockerfile
    }
  }

  # One buildspec for every image; the project's environment variables say which image it is.
  # The build context is the bundle's root (CodeBuild unpacks the ZIP there), as `make images`
  # builds from the repository root.
  buildspec = yamlencode({
    version = "0.2"
    phases = {
      pre_build = {
        "on-failure" = "ABORT"
        commands = [
          "aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin $REGISTRY",
        ]
      }
      build = {
        "on-failure" = "ABORT"
        commands = [
          # The repositories' tags are immutable, and one bundle starts every image's build: an
          # image whose tag is already pushed is left as it is (bump its tag to rebuild it).
          "if aws ecr describe-images --repository-name \"$${REPOSITORY_URI#*/}\" --image-ids imageTag=\"$IMAGE_TAG\" > /dev/null 2>&1; then echo \"$REPOSITORY_URI:$IMAGE_TAG is already in ECR (tags are immutable): not rebuilt; bump the image tag to build it from this bundle\"; else docker build -f $DOCKERFILE -t $REPOSITORY_URI:$IMAGE_TAG .; fi",
        ]
      }
      post_build = {
        commands = [
          "if docker image inspect $REPOSITORY_URI:$IMAGE_TAG > /dev/null 2>&1; then docker push $REPOSITORY_URI:$IMAGE_TAG; fi",
          # What a CodePipeline wrapping the project reads as the image built (its artifacts).
          "printf '{\"ImageURI\":\"%s\"}' \"$REPOSITORY_URI:$IMAGE_TAG\" > imageDetail.json",
        ]
      }
    }
    artifacts = { files = ["imageDetail.json"] }
  })
}

# ---------------------------------------------------------------------------------------------
# Build logs: one KMS-encrypted group per project, created before it so CodeBuild does not
# create an unencrypted, unexpiring one
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  for_each = local.log_group_names

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = each.value })
}

# ---------------------------------------------------------------------------------------------
# Projects: one per image, building the bundle from S3 into the image's ECR repository
# ---------------------------------------------------------------------------------------------
resource "aws_codebuild_project" "this" {
  for_each = local.images

  # checkov:skip=CKV_AWS_316:docker build needs the Docker daemon, which CodeBuild runs only in privileged mode; the builds run the project's own Dockerfiles from the platform's bundle.
  name           = local.project_names[each.key]
  description    = "${var.name}: builds the ${each.key} image (${each.value.dockerfile}) from s3://${local.bundle_location} into ${each.value.repository_url}"
  service_role   = aws_iam_role.this[0].arn
  build_timeout  = var.build_timeout_minutes
  encryption_key = var.kms_key_arn
  # Two builds of one tag would race to push it (tags are immutable): one build at a time.
  concurrent_build_limit = 1

  source {
    type      = "S3"
    location  = local.bundle_location
    buildspec = local.buildspec
  }

  artifacts {
    type = "NO_ARTIFACTS"
  }

  environment {
    type                        = "LINUX_CONTAINER"
    compute_type                = var.compute_type
    image                       = var.build_image
    image_pull_credentials_type = "CODEBUILD"
    privileged_mode             = true

    dynamic "environment_variable" {
      for_each = local.environment[each.key]
      content {
        name  = environment_variable.key
        value = environment_variable.value
        type  = "PLAINTEXT"
      }
    }
  }

  logs_config {
    cloudwatch_logs {
      status     = "ENABLED"
      group_name = aws_cloudwatch_log_group.this[each.key].name
    }

    s3_logs {
      status = "DISABLED"
    }
  }

  dynamic "vpc_config" {
    for_each = var.vpc_config == null ? [] : [var.vpc_config]
    content {
      vpc_id             = vpc_config.value.vpc_id
      subnets            = vpc_config.value.subnet_ids
      security_group_ids = vpc_config.value.security_group_ids
    }
  }

  tags = merge(local.tags, { Name = local.project_names[each.key] })

  # CodeBuild checks the role's VPC permissions when the project is created.
  depends_on = [aws_iam_role_policy.this]
}

# ---------------------------------------------------------------------------------------------
# Trigger: uploading the bundle starts every project's build
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_event_rule" "this" {
  count = local.create && var.build_on_upload ? 1 : 0

  name        = "${var.name}-build-on-upload"
  description = "${var.name}: build the images when s3://${local.bundle_location} is uploaded"
  event_pattern = jsonencode({
    source        = ["aws.s3"]
    "detail-type" = ["Object Created"]
    detail = {
      bucket = { name = [var.bundle_bucket_name] }
      object = { key = [var.bundle_key] }
    }
  })

  tags = merge(local.tags, { Name = "${var.name}-build-on-upload" })
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.create && var.build_on_upload ? local.images : {}

  rule      = aws_cloudwatch_event_rule.this[0].name
  target_id = "build-${each.key}"
  arn       = aws_codebuild_project.this[each.key].arn
  role_arn  = aws_iam_role.events[0].arn
}
