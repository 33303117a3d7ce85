mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_codebuild_project" {
    override_during = plan
    defaults        = { arn = "arn:aws:codebuild:eu-west-1:111122223333:project/mocked" }
  }
  mock_resource "aws_iam_role" {
    override_during = plan
    defaults        = { arn = "arn:aws:iam::111122223333:role/mocked" }
  }
}

variables {
  name               = "byo"
  bundle_bucket_name = "byo-data-111122223333-eu-west-1"
  bundle_bucket_arn  = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  images = {
    serving = {
      repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving"
      repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/serving"
      dockerfile     = "serving/Dockerfile"
    }
    batch-processor = {
      repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor"
      repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"
      dockerfile     = "batch_processor/Dockerfile"
      image_tag      = "0.3.1"
    }
  }
  tags = { team = "ml" }
}

run "create_false_creates_nothing" {
  command = plan
  variables {
    create = false
  }
  assert {
    condition = (length(aws_codebuild_project.this) + length(aws_cloudwatch_log_group.this) + length(aws_iam_role.this)
      + length(aws_iam_role_policy.this) + length(aws_iam_role.events) + length(aws_cloudwatch_event_rule.this)
    + length(aws_cloudwatch_event_target.this)) == 0
    error_message = "create = false creates nothing"
  }
  assert {
    condition = (output.project_names == null && output.project_arns == null && output.log_group_names == null
    && output.role_arn == null && output.rule_name == null && output.bundle_uri == null)
    error_message = "outputs are null when nothing is created"
  }
}

run "one_project_per_image_builds_the_bundle_into_its_repository" {
  command = plan
  assert {
    condition     = { for k, p in aws_codebuild_project.this : k => p.name } == { serving = "byo-build-serving", batch-processor = "byo-build-batch-processor" }
    error_message = "one project per image, named <name>-build-<image>"
  }
  assert {
    condition     = alltrue([for p in aws_codebuild_project.this : p.source[0].type == "S3" && p.source[0].location == "byo-data-111122223333-eu-west-1/bundles/source.zip"])
    error_message = "every project builds the bundle at <bucket>/<key> from S3"
  }
  assert {
    condition = { for v in aws_codebuild_project.this["batch-processor"].environment[0].environment_variable : v.name => v.value } == {
      IMAGE_NAME     = "batch-processor"
      REPOSITORY_URI = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor"
      REGISTRY       = "111122223333.dkr.ecr.eu-west-1.amazonaws.com"
      IMAGE_TAG      = "0.3.1"
      DOCKERFILE     = "batch_processor/Dockerfile"
    }
    error_message = "the project's environment names its image, repository, registry, own tag and Dockerfile"
  }
  assert {
    condition     = [for v in aws_codebuild_project.this["serving"].environment[0].environment_variable : v.value if v.name == "IMAGE_TAG"] == ["0.1.0"]
    error_message = "an image without its own tag is pushed with image_tag"
  }
  assert {
    condition = alltrue([for p in aws_codebuild_project.this :
      p.environment[0].type == "LINUX_CONTAINER" && p.environment[0].privileged_mode && p.environment[0].compute_type == "BUILD_GENERAL1_SMALL"
      && p.environment[0].image == "aws/codebuild/amazonlinux2-x86_64-standard:5.0"
      && p.artifacts[0].type == "NO_ARTIFACTS" && p.concurrent_build_limit == 1 && p.build_timeout == 60
    && p.encryption_key == "arn:aws:kms:eu-west-1:111122223333:key/platform" && length(p.vpc_config) == 0])
    error_message = "Docker builds (privileged) on EC2 compute, no artifacts, one at a time, encrypted with the platform key, outside a VPC"
  }
  assert {
    condition = (yamldecode(aws_codebuild_project.this["serving"].source[0].buildspec).version == "0.2"
      && yamldecode(aws_codebuild_project.this["serving"].source[0].buildspec).phases.pre_build.commands == ["aws ecr get-login-password --region $AWS_DEFAULT_REGION | docker login --username AWS --password-stdin $REGISTRY"]
      && strcontains(yamldecode(aws_codebuild_project.this["serving"].source[0].buildspec).phases.build.commands[0], "docker build -f $DOCKERFILE -t $REPOSITORY_URI:$IMAGE_TAG .")
      && strcontains(yamldecode(aws_codebuild_project.this["serving"].source[0].buildspec).phases.build.commands[0], "aws ecr describe-images --repository-name \"$${REPOSITORY_URI#*/}\" --image-ids imageTag=\"$IMAGE_TAG\"")
      && strcontains(yamldecode(aws_codebuild_project.this["serving"].source[0].buildspec).phases.post_build.commands[0], "docker push $REPOSITORY_URI:$IMAGE_TAG")
    && strcontains(yamldecode(aws_codebuild_project.this["serving"].source[0].buildspec).phases.post_build.commands[1], "> imageDetail.json"))
    error_message = "the buildspec logs in to ECR, builds the Dockerfile from the bundle's root unless the tag is already pushed, pushes it and writes imageDetail.json"
  }
  assert {
    condition     = aws_codebuild_project.this["serving"].tags["Name"] == "byo-build-serving" && aws_codebuild_project.this["serving"].tags["team"] == "ml"
    error_message = "projects carry the given tags plus their Name"
  }
  assert {
    condition     = output.bundle_uri == "s3://byo-data-111122223333-eu-west-1/bundles/source.zip"
    error_message = "bundle_uri says where to upload the bundle"
  }
  # The service role is least privilege:
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal.Service == "codebuild.amazonaws.com" && jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "only CodeBuild, for this account, assumes the role"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid] == ["WriteBuildLogs", "ReadSourceBundle", "UsePlatformKey", "LogInToEcr", "PushImages"]
    error_message = "logs, the bundle, the key, the registry login and the pushes; no network statements outside a VPC"
  }
  assert {
    condition = alltrue([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement :
    alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions"
  }
  assert {
    condition = ([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid if contains(s.Resource, "*")] == ["LogInToEcr"]
    && [for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Action if s.Sid == "LogInToEcr"] == [["ecr:GetAuthorizationToken"]])
    error_message = "only ecr:GetAuthorizationToken (account-wide by AWS's design) has Resource \"*\""
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.this[0].policy).Statement[0].Resource == [
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/codebuild/byo-build-batch-processor",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/codebuild/byo-build-batch-processor:*",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/codebuild/byo-build-serving",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/codebuild/byo-build-serving:*",
    ]
    error_message = "the builds write only to their own log groups"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this[0].policy).Statement[4].Resource == ["arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor", "arn:aws:ecr:eu-west-1:111122223333:repository/byo/serving"]
    error_message = "images are pushed only to the given repositories"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this[0].policy).Statement[2].Resource == ["arn:aws:kms:eu-west-1:111122223333:key/platform"]
    error_message = "the role uses only the platform key"
  }
}

run "builds_log_to_their_kms_encrypted_groups" {
  command = plan
  variables {
    log_retention_days = 90
  }
  assert {
    condition     = { for k, g in aws_cloudwatch_log_group.this : k => g.name } == { serving = "/aws/codebuild/byo-build-serving", batch-processor = "/aws/codebuild/byo-build-batch-processor" }
    error_message = "one log group per project, /aws/codebuild/<project>"
  }
  assert {
    condition     = alltrue([for g in aws_cloudwatch_log_group.this : g.kms_key_id == "arn:aws:kms:eu-west-1:111122223333:key/platform" && g.retention_in_days == 90])
    error_message = "the log groups are KMS-encrypted and expire"
  }
  assert {
    condition = alltrue([for k, p in aws_codebuild_project.this :
      p.logs_config[0].cloudwatch_logs[0].status == "ENABLED" && p.logs_config[0].cloudwatch_logs[0].group_name == "/aws/codebuild/byo-build-${k}"
    && p.logs_config[0].s3_logs[0].status == "DISABLED"])
    error_message = "each project logs to its own group in CloudWatch, not to S3"
  }
}

run "uploading_the_bundle_starts_every_build" {
  command = plan
  variables {
    bundle_key = "images/bundle.zip"
  }
  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.this[0].event_pattern) == {
      source        = ["aws.s3"]
      "detail-type" = ["Object Created"]
      detail        = { bucket = { name = ["byo-data-111122223333-eu-west-1"] }, object = { key = ["images/bundle.zip"] } }
    }
    error_message = "the rule matches Object Created events of exactly the bundle's key in the bucket"
  }
  assert {
    condition = (keys(aws_cloudwatch_event_target.this) == ["batch-processor", "serving"]
      && alltrue([for k, t in aws_cloudwatch_event_target.this : t.arn == aws_codebuild_project.this[k].arn && t.target_id == "build-${k}"])
    && alltrue([for t in aws_cloudwatch_event_target.this : t.role_arn == "arn:aws:iam::111122223333:role/mocked"]))
    error_message = "the rule has one target per project, started with the events role"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.events[0].policy).Statement == [{
      Sid      = "StartTheBuilds"
      Effect   = "Allow"
      Action   = ["codebuild:StartBuild"]
      Resource = ["arn:aws:codebuild:eu-west-1:111122223333:project/byo-build-batch-processor", "arn:aws:codebuild:eu-west-1:111122223333:project/byo-build-serving"]
    }]
    error_message = "the events role may start exactly these projects' builds"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.this[0].policy).Statement[1].Resource == ["arn:aws:s3:::byo-data-111122223333-eu-west-1/images/bundle.zip"]
    error_message = "the projects read exactly the bundle's key"
  }
}

run "build_on_upload_false_leaves_builds_to_be_started_by_hand" {
  command = plan
  variables {
    build_on_upload = false
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.this) == 0 && length(aws_cloudwatch_event_target.this) == 0 && length(aws_iam_role.events) == 0 && output.rule_name == null
    error_message = "no rule, targets or events role without build_on_upload"
  }
  assert {
    condition     = length(aws_codebuild_project.this) == 2
    error_message = "the projects are still there"
  }
}

run "in_a_vpc_the_role_manages_network_interfaces_in_those_subnets" {
  command = plan
  variables {
    vpc_config = {
      vpc_id             = "vpc-0a1b2c3d4e5f60718"
      subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
      security_group_ids = ["sg-0c3d4e5f607182930"]
    }
  }
  assert {
    condition = alltrue([for p in aws_codebuild_project.this :
      p.vpc_config[0].vpc_id == "vpc-0a1b2c3d4e5f60718" && p.vpc_config[0].subnets == toset(["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"])
    && p.vpc_config[0].security_group_ids == toset(["sg-0c3d4e5f607182930"])])
    error_message = "the projects run in the given subnets and security groups"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid] == ["WriteBuildLogs", "ReadSourceBundle", "UsePlatformKey", "LogInToEcr", "PushImages", "ManageBuildNetworkInterfaces", "AttachBuildNetworkInterfaces"]
    error_message = "a VPC adds the network interface statements"
  }
  assert {
    condition = jsondecode(aws_iam_role_policy.this[0].policy).Statement[6].Condition == {
      StringEquals = {
        "ec2:Subnet"            = ["arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0a1b2c3d4e5f60718", "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0b2c3d4e5f6071829"]
        "ec2:AuthorizedService" = "codebuild.amazonaws.com"
      }
    }
    error_message = "interfaces may be attached only in the given subnets, for CodeBuild"
  }
}

# Rejects, in one plan, one bad value per variable (no validation of these reads another
# variable): a bundle key with a leading slash (and not .zip), an image tag starting with "-", a
# retention CloudWatch does not offer, a Lambda compute type, a timeout over 480 minutes, a
# vpc_config without subnets, and no images (rejects_no_images).
run "rejects_bad_keys_tags_and_settings_and_no_images" {
  command = plan
  variables {
    bundle_key            = "/bundles/source.tar.gz"
    image_tag             = "-latest"
    log_retention_days    = 100
    compute_type          = "BUILD_LAMBDA_1GB"
    build_timeout_minutes = 600
    vpc_config            = { vpc_id = "vpc-0a1b2c3d4e5f60718", subnet_ids = [], security_group_ids = ["sg-0c3d4e5f607182930"] }
    images                = {}
  }
  expect_failures = [var.bundle_key, var.image_tag, var.log_retention_days, var.compute_type, var.build_timeout_minutes, var.vpc_config, var.images]
}

run "rejects_an_image_without_a_dockerfile" {
  command = plan
  variables {
    images = {
      serving = {
        repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving"
        repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/serving"
        dockerfile     = " "
      }
    }
  }
  expect_failures = [var.images]
}

run "the_basic_example_builds_three_images" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.project_names == { serving = "byo-build-serving", batch-processor = "byo-build-batch-processor", operators = "byo-build-operators" }
    error_message = "the example builds the serving, batch and operators images"
  }
}
