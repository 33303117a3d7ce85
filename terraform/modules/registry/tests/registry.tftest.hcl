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
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/byo-sagemaker-pipeline" }
  }
  mock_resource "aws_sagemaker_model_package_group" {
    defaults = { arn = "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/byo-models" }
  }
}

variables {
  name                    = "byo"
  endpoint_name           = "byo"
  endpoint_role_arn       = "arn:aws:iam::111122223333:role/byo-sagemaker-endpoint"
  bucket_arn              = "arn:aws:s3:::byo-data"
  operator_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
  kms_key_arn             = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  tags                    = { team = "ml" }
}

# ---------------------------------------------------------------------------------------------
# The model registry (model package group)
# ---------------------------------------------------------------------------------------------
run "model_package_group_is_named_for_the_platform" {
  command = plan

  assert {
    condition     = aws_sagemaker_model_package_group.this[0].model_package_group_name == "byo-models"
    error_message = "the model package group is <name>-models"
  }
  assert {
    condition     = aws_sagemaker_model_package_group.this[0].model_package_group_description == "Model versions served by the SageMaker endpoint byo"
    error_message = "the group names the endpoint whose versions it holds"
  }
  assert {
    condition     = aws_sagemaker_model_package_group.this[0].tags["Name"] == "byo-models" && aws_sagemaker_model_package_group.this[0].tags["team"] == "ml"
    error_message = "the group carries the given tags plus its Name"
  }
}

run "outputs_are_set_after_apply" {
  command = apply

  assert {
    condition     = output.model_package_group_name == "byo-models" && output.model_package_group_arn == "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/byo-models"
    error_message = "the model package group is exported"
  }
  assert {
    condition     = output.pipeline_role_arn == "arn:aws:iam::111122223333:role/byo-sagemaker-pipeline"
    error_message = "the pipeline role ARN is exported"
  }
}

run "model_package_group_can_be_named_or_left_out" {
  command = plan

  variables {
    create_model_package_group = false
  }

  assert {
    condition     = length(aws_sagemaker_model_package_group.this) == 0 && output.model_package_group_name == null
    error_message = "no model package group when turned off"
  }
}

# ---------------------------------------------------------------------------------------------
# The SageMaker pipeline's role
# ---------------------------------------------------------------------------------------------
run "no_pipeline_role_when_turned_off" {
  command = plan

  variables {
    create_pipeline_role = false
  }

  assert {
    condition     = length(aws_iam_role.this) == 0 && length(aws_iam_role_policy.this) == 0
    error_message = "no pipeline role unless create_pipeline_role"
  }
  assert {
    condition     = output.pipeline_role_arn == null
    error_message = "the pipeline role ARN is null without the role"
  }
  assert {
    condition     = length(aws_sagemaker_model_package_group.this) == 1
    error_message = "the registry stands without the pipeline role"
  }
}

run "pipeline_role_is_least_privilege" {
  command = plan

  # The role's ARN known at plan, and distinct from the endpoint's, so the PassRole statements
  # can be checked.
  override_resource {
    target          = aws_iam_role.this
    override_during = plan
    values          = { arn = "arn:aws:iam::111122223333:role/byo-sagemaker-pipeline" }
  }

  assert {
    condition     = aws_iam_role.this[0].name == "byo-sagemaker-pipeline" && output.pipeline_role_arn == "arn:aws:iam::111122223333:role/byo-sagemaker-pipeline"
    error_message = "the role is <name>-sagemaker-pipeline and its ARN is exported"
  }
  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal.Service == "sagemaker.amazonaws.com" && length(jsondecode(aws_iam_role.this[0].assume_role_policy).Statement) == 1
    error_message = "only SageMaker assumes the pipeline role"
  }
  assert {
    condition = alltrue(flatten([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : [for a in flatten([s.Action]) : !strcontains(a, "*")]
    ]))
    error_message = "no action is a wildcard"
  }
  assert {
    condition = toset([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid if contains(flatten([s.Resource]), "*")
    ]) == toset(["ReadAutoscaling", "AuthenticateToEcr", "PublishJobMetrics"])
    error_message = "only the actions without resource-level permissions (autoscaling Describe*, GetAuthorizationToken, PutMetricData) use resource \"*\""
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "RunPipelineJobs"]) == [
      "arn:aws:sagemaker:eu-west-1:111122223333:processing-job/pipelines-*",
      "arn:aws:sagemaker:eu-west-1:111122223333:training-job/pipelines-*",
    ]
    error_message = "CreateProcessingJob/CreateTrainingJob are scoped to the jobs SageMaker Pipelines names pipelines-*"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "RegisterModelVersions"]) == [
      "arn:aws:sagemaker:eu-west-1:111122223333:model-package-group/byo-models",
      "arn:aws:sagemaker:eu-west-1:111122223333:model-package/byo-models/*",
    ]
    error_message = "registration is scoped to the endpoint's model package group and its versions"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "DeployToEndpoint"]) == [
      "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo",
      "arn:aws:sagemaker:eu-west-1:111122223333:endpoint-config/byo-*",
      "arn:aws:sagemaker:eu-west-1:111122223333:model/byo-*",
    ]
    error_message = "the deploy step may change only this endpoint and its own configs and models"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Condition.StringEquals if s.Sid == "ScaleNewVariants"])["application-autoscaling:service-namespace"] == "sagemaker"
    error_message = "autoscaling writes are limited to SageMaker scalable targets"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "ManageScalingAlarms"]) == ["arn:aws:cloudwatch:eu-west-1:111122223333:alarm:TargetTracking-endpoint/byo/*"]
    error_message = "alarm management is limited to the endpoint's target-tracking alarms"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "PassEndpointRoleToModels"]).Resource == ["arn:aws:iam::111122223333:role/byo-sagemaker-endpoint"] && one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "PassEndpointRoleToModels"
    ]).Condition.StringEquals["iam:PassedToService"] == "sagemaker.amazonaws.com"
    error_message = "the deploy step may pass the endpoint's execution role, to SageMaker only"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "PassPipelineRoleToJobs"]).Resource == ["arn:aws:iam::111122223333:role/byo-sagemaker-pipeline"] && one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "PassPipelineRoleToJobs"
    ]).Condition.StringEquals["iam:PassedToService"] == "sagemaker.amazonaws.com"
    error_message = "the pipeline may pass its own role, to SageMaker only"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if contains(flatten([s.Action]), "iam:PassRole")]) == 2
    error_message = "iam:PassRole only in the two scoped statements"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "ReadWritePipelineData"]) == ["arn:aws:s3:::byo-data/pipelines/*"]
    error_message = "pipeline data reads and writes are scoped to the pipelines prefix"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "ReadModels"]) == ["arn:aws:s3:::byo-data/models/*"]
    error_message = "model reads are scoped to the model prefix"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "WriteTrainedModels"]) == ["arn:aws:s3:::byo-data/models/pipelines/*"]
    error_message = "trained models are written under <model_prefix>pipelines/ only"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "ListPipelinePrefixes"]).Resource == ["arn:aws:s3:::byo-data"] && one([
      for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "ListPipelinePrefixes"
    ]).Condition.StringLike["s3:prefix"] == ["pipelines/*", "models/pipelines/*"]
    error_message = "listing is limited to the pipelines prefixes"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "UsePlatformKey"]) == [var.kms_key_arn]
    error_message = "KMS use is scoped to the platform key"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "PullOperatorsImage"]) == ["arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"]
    error_message = "image pulls are scoped to the operators repository"
  }
  assert {
    condition = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "WriteJobLogs"]) == [
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/ProcessingJobs",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/ProcessingJobs:*",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/TrainingJobs",
      "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/TrainingJobs:*",
    ]
    error_message = "logs are scoped to the processing and training jobs' log groups"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Condition.StringEquals["cloudwatch:namespace"] if s.Sid == "PublishJobMetrics"]) == ["/aws/sagemaker/ProcessingJobs", "/aws/sagemaker/TrainingJobs"]
    error_message = "metrics are limited to the jobs' namespaces"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "ManageJobNetworkInterfaces"]) == 0
    error_message = "no EC2 network permissions outside a VPC"
  }
  assert {
    condition     = length(distinct([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid])) == length(jsondecode(aws_iam_role_policy.this[0].policy).Statement)
    error_message = "every statement has its own Sid"
  }
}

run "pipeline_prefix_and_vpc_jobs" {
  command = plan

  variables {
    pipelines_prefix         = "ml/pipelines/"
    model_package_group_name = "fraud"
    jobs_in_vpc              = true
  }

  override_resource {
    target          = aws_iam_role.this
    override_during = plan
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "ReadWritePipelineData"]) == ["arn:aws:s3:::byo-data/ml/pipelines/*"]
    error_message = "the given prefix scopes the pipeline data"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Condition.StringLike["s3:prefix"] if s.Sid == "ListPipelinePrefixes"]) == ["ml/pipelines/*", "models/pipelines/*"]
    error_message = "listing follows the given prefix"
  }
  assert {
    condition     = contains(one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "RegisterModelVersions"]), "arn:aws:sagemaker:eu-west-1:111122223333:model-package/fraud/*")
    error_message = "registration follows the model package group's name"
  }
  assert {
    condition     = contains(one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Action if s.Sid == "ManageJobNetworkInterfaces"]), "ec2:CreateNetworkInterface")
    error_message = "jobs in the VPC get the network interface permissions"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  override_resource {
    target          = module.registry.aws_iam_role.this
    override_during = plan
    values          = { arn = "arn:aws:iam::111122223333:role/byo-sagemaker-pipeline" }
  }

  assert {
    condition     = output.model_package_group_name == "byo-models" && output.pipeline_role_arn == "arn:aws:iam::111122223333:role/byo-sagemaker-pipeline"
    error_message = "the example creates the registry and the pipeline role"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_sagemaker_model_package_group.this) + length(aws_iam_role.this) + length(aws_iam_role_policy.this) == 0
    error_message = "create = false creates no registry and no pipeline role"
  }
  assert {
    condition     = output.model_package_group_name == null && output.model_package_group_arn == null && output.pipeline_role_arn == null
    error_message = "outputs are null when nothing is created"
  }
}

# rejects_bad_inputs_1: one bad value per variable, each must be rejected:
#   rejects_a_bad_name (var.name)
#   rejects_a_bad_model_package_group_name (var.model_package_group_name)
#   rejects_a_bad_endpoint_name (var.endpoint_name)
#   rejects_an_endpoint_role_that_is_not_a_role_arn (var.endpoint_role_arn)
#   rejects_a_pipeline_prefix_without_trailing_slash (var.pipelines_prefix)
#   rejects_a_models_prefix_with_a_wildcard (var.models_prefix)
#   rejects_a_pipeline_bucket_that_is_not_an_arn (var.bucket_arn)
#   rejects_an_operator_repository_that_is_not_an_ecr_arn (var.operator_repository_arn)
#   rejects_a_bad_key_arn (var.kms_key_arn)
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # rejects_a_bad_name
    name = "Bad_Name"
    # rejects_a_bad_model_package_group_name
    model_package_group_name = "fraud_models"
    # rejects_a_bad_endpoint_name
    endpoint_name = "Bad_Endpoint"
    # rejects_an_endpoint_role_that_is_not_a_role_arn
    endpoint_role_arn = "byo-sagemaker-endpoint"
    # rejects_a_pipeline_prefix_without_trailing_slash
    pipelines_prefix = "pipelines"
    # rejects_a_models_prefix_with_a_wildcard
    models_prefix = "models/*"
    # rejects_a_pipeline_bucket_that_is_not_an_arn
    bucket_arn = "byo-data"
    # rejects_an_operator_repository_that_is_not_an_ecr_arn
    operator_repository_arn = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators"
    # rejects_a_bad_key_arn
    kms_key_arn = "alias/platform"
  }
  expect_failures = [
    var.name,
    var.model_package_group_name,
    var.endpoint_name,
    var.endpoint_role_arn,
    var.pipelines_prefix,
    var.models_prefix,
    var.bucket_arn,
    var.operator_repository_arn,
    var.kms_key_arn,
  ]
}

# rejects_bad_inputs_2: one bad value per variable, each must be rejected:
#   rejects_a_pipeline_prefix_with_leading_slash (var.pipelines_prefix)
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    # rejects_a_pipeline_prefix_with_leading_slash
    pipelines_prefix = "/pipelines/"
  }
  expect_failures = [
    var.pipelines_prefix,
  ]
}
