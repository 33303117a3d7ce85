mock_provider "aws" {
  mock_data "aws_region" {
    defaults = { name = "eu-west-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    override_during = plan
    defaults        = { arn = "arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/byo" }
  }
  mock_resource "aws_iam_instance_profile" {
    override_during = plan
    defaults        = { arn = "arn:aws:iam::111122223333:instance-profile/byo-batch-instance" }
  }
  mock_resource "aws_launch_template" {
    override_during = plan
    defaults        = { id = "lt-0123456789abcdef0", latest_version = 1 }
  }
}

override_resource {
  target          = aws_iam_role.execution
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-batch-execution" }
}

override_resource {
  target          = aws_iam_role.job
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-batch-job" }
}

override_resource {
  target          = aws_iam_role.service
  override_during = plan
  values          = { arn = "arn:aws:iam::111122223333:role/byo-batch-service" }
}

variables {
  name               = "byo"
  subnet_ids         = ["subnet-0aaa", "subnet-0bbb"]
  security_group_ids = ["sg-0ccc"]
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  data_bucket_arn    = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  job_table_arn      = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"
  job_definitions = {
    scoring = {
      image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor:1.0.0"
      image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"
      environment = {
        BYO_JOB_TABLE     = "byo-jobs"
        BYO_DATA_BUCKET   = "byo-data-111122223333-eu-west-1"
        BYO_ENDPOINT_NAME = "byo-endpoint"
      }
    }
  }
  tags = { team = "ml" }
}

run "fargate_defaults_run_the_image_privately_with_the_given_environment" {
  command = plan

  assert {
    condition     = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).image == var.job_definitions.scoring.image
    error_message = "the job runs the given image"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).resourceRequirements == [
      { type = "VCPU", value = "1" }, { type = "MEMORY", value = "2048" },
    ]
    error_message = "1 vCPU and 2048 MiB by default, as Batch resourceRequirements strings"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).environment == [
      { name = "BYO_DATA_BUCKET", value = "byo-data-111122223333-eu-west-1" },
      { name = "BYO_ENDPOINT_NAME", value = "byo-endpoint" },
      { name = "BYO_JOB_TABLE", value = "byo-jobs" },
    ]
    error_message = "environment map becomes the container's environment, sorted by name"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.this["scoring"].container_properties).executionRoleArn == "arn:aws:iam::111122223333:role/byo-batch-execution"
    && jsondecode(aws_batch_job_definition.this["scoring"].container_properties).jobRoleArn == "arn:aws:iam::111122223333:role/byo-batch-job")
    error_message = "the container uses the module's execution and job roles"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).logConfiguration == {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/aws/batch/byo"
        awslogs-region        = "eu-west-1"
        awslogs-stream-prefix = "scoring"
      }
    }
    error_message = "logs go to the module's log group through awslogs"
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).networkConfiguration.assignPublicIp == "DISABLED"
    error_message = "Fargate jobs get no public IP"
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).fargatePlatformConfiguration.platformVersion == "LATEST"
    error_message = "Fargate jobs run on the LATEST platform version"
  }
  assert {
    condition     = aws_batch_job_definition.this["scoring"].name == "byo-scoring" && aws_batch_job_definition.this["scoring"].type == "container"
    error_message = "job definition is the container job byo-scoring"
  }
  assert {
    condition     = aws_batch_job_definition.this["scoring"].platform_capabilities == toset(["FARGATE"]) && aws_batch_job_definition.this["scoring"].propagate_tags
    error_message = "job definition targets Fargate and propagates tags to the tasks"
  }
  assert {
    condition     = one(aws_batch_job_definition.this["scoring"].timeout).attempt_duration_seconds == 3600
    error_message = "attempts time out after an hour by default"
  }
  assert {
    condition     = aws_batch_compute_environment.this[0].type == "MANAGED" && startswith(aws_batch_compute_environment.this[0].compute_environment_name_prefix, "byo-fargate-")
    error_message = "a managed compute environment named byo-fargate-*"
  }
  assert {
    condition = (one(aws_batch_compute_environment.this[0].compute_resources).type == "FARGATE"
      && one(aws_batch_compute_environment.this[0].compute_resources).max_vcpus == 16
      && one(aws_batch_compute_environment.this[0].compute_resources).subnets == toset(["subnet-0aaa", "subnet-0bbb"])
    && one(aws_batch_compute_environment.this[0].compute_resources).security_group_ids == toset(["sg-0ccc"]))
    error_message = "Fargate capacity of 16 vCPUs in the given subnets and security groups"
  }
  assert {
    condition     = length(one(aws_batch_compute_environment.this[0].compute_resources).launch_template) == 0
    error_message = "Fargate needs no launch template"
  }
  assert {
    condition     = length(aws_iam_instance_profile.this) + length(aws_iam_role.instance) + length(aws_launch_template.this) + length(aws_iam_role.service) == 0
    error_message = "no instance profile, launch template or service role on Fargate by default"
  }
  assert {
    condition = (aws_batch_job_queue.this[0].name == "byo-scoring" && aws_batch_job_queue.this[0].state == "ENABLED"
    && aws_batch_job_queue.this[0].priority == 1 && one(aws_batch_job_queue.this[0].compute_environment_order).order == 1)
    error_message = "an enabled queue of priority 1 in front of the compute environment"
  }
  assert {
    condition = (aws_cloudwatch_log_group.this[0].name == "/aws/batch/byo" && aws_cloudwatch_log_group.this[0].retention_in_days == 365
    && aws_cloudwatch_log_group.this[0].kms_key_id == var.kms_key_arn)
    error_message = "log group /aws/batch/byo keeps a year of logs, encrypted with the platform key"
  }
  assert {
    condition     = aws_batch_job_queue.this[0].tags["Name"] == "byo-scoring" && aws_batch_job_queue.this[0].tags["team"] == "ml"
    error_message = "resources carry the given tags plus their Name"
  }
  assert {
    condition = (output.job_queue_name == "byo-scoring" && output.job_definition_names == { scoring = "byo-scoring" }
      && output.log_group_name == "/aws/batch/byo" && output.instance_profile_arn == null
    && output.job_role_arn == "arn:aws:iam::111122223333:role/byo-batch-job" && output.service_role_arn == null)
    error_message = "outputs are set (instance profile and service role null on Fargate)"
  }
  # Retries host loss and nonzero exits then gives up on the rest:
  assert {
    condition     = one(aws_batch_job_definition.this["scoring"].retry_strategy).attempts == 3
    error_message = "three attempts by default"
  }
  assert {
    condition = jsonencode([for e in one(aws_batch_job_definition.this["scoring"].retry_strategy).evaluate_on_exit : [e.action, e.on_status_reason, e.on_exit_code, e.on_reason]]) == jsonencode([
      ["RETRY", "Host EC2*", null, null],
      ["RETRY", null, "*", null],
      ["EXIT", null, null, "*"],
    ])
    error_message = "retry on host loss, retry on any exit code, exit on everything else - in that order"
  }
  # No endpoints grant no invoke:
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s if s.Sid == "InvokeEndpoints"]) == 0
    error_message = "without endpoint_arns the job may invoke no endpoint"
  }
  # Execution role pulls only the job image and writes its logs:
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Resource if s.Sid == "PullJobImage"][0] == [
      "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor",
    ]
    error_message = "the execution role pulls only from the job's repository (its image_repository_arn)"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Action if contains(s.Resource, "*")] == [["ecr:GetAuthorizationToken"]]
    error_message = "only ecr:GetAuthorizationToken (which has no resource type) gets Resource \"*\""
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "WriteJobLogs"][0] == [
      ["logs:CreateLogStream", "logs:PutLogEvents"], ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/batch/byo:*"],
    ]
    error_message = "the execution role writes only to the module's log group"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions in the execution role policy"
  }
  assert {
    condition     = jsondecode(aws_iam_role.execution[0].assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "ECS tasks assume the execution role"
  }
}

run "job_role_is_least_privilege" {
  command = plan

  variables {
    endpoint_arns = ["arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo-endpoint"]
  }

  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : alltrue([for a in s.Action : !strcontains(a, "*")])])
    error_message = "no wildcard actions in the job role policy"
  }
  assert {
    condition     = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [for r in s.Resource : r != "*"]]))
    error_message = "no wildcard resources in the job role policy"
  }
  assert {
    condition = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [
      for r in s.Resource : can(regex("^arn:aws:s3:::byo-data-111122223333-eu-west-1/(input|output|errors|checkpoints)/\\*$", r))
    ] if anytrue([for a in s.Action : startswith(a, "s3:") && a != "s3:ListBucket"])]))
    error_message = "S3 object actions are scoped to the input/, output/, errors/ and checkpoints/ prefixes"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "ReadInputAndCheckpoints"][0] == [
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/input/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/checkpoints/*",
    ]
    error_message = "the job reads only input/ and checkpoints/"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "WriteResultsAndCheckpoints"][0] == [
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/output/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/errors/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/checkpoints/*",
    ]
    error_message = "the job writes only output/, errors/ and checkpoints/"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s if s.Sid == "ListJobPrefixes"][0] == {
      Sid       = "ListJobPrefixes"
      Effect    = "Allow"
      Action    = ["s3:ListBucket"]
      Resource  = ["arn:aws:s3:::byo-data-111122223333-eu-west-1"]
      Condition = { StringLike = { "s3:prefix" = ["input/*", "output/*", "errors/*", "checkpoints/*"] } }
    }
    error_message = "listing is limited to the job's prefixes"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "RecordJobProgress"][0] == [
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], ["arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"],
    ]
    error_message = "the job reads and writes items of the job table only"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource] if s.Sid == "InvokeEndpoints"][0] == [
      ["sagemaker:InvokeEndpoint"], ["arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo-endpoint"],
    ]
    error_message = "the job invokes only the given endpoints"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : [s.Action, s.Resource, s.Condition] if s.Sid == "UsePlatformKeyForBucketAndTable"][0] == [
      ["kms:Decrypt", "kms:GenerateDataKey"], ["arn:aws:kms:eu-west-1:111122223333:key/platform"],
      { StringEquals = { "kms:ViaService" = ["s3.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"] } },
    ]
    error_message = "the job uses the platform key only through S3 and DynamoDB"
  }
  assert {
    condition     = jsondecode(aws_iam_role.job[0].assume_role_policy).Statement[0].Principal.Service == "ecs-tasks.amazonaws.com"
    error_message = "ECS tasks assume the job role"
  }
}

run "the_module_execution_role_pulls_the_repositories_of_the_jobs_it_starts" {
  command = plan

  variables {
    job_definitions = {
      scoring = var.job_definitions.scoring
      replay = {
        image                = "444455556666.dkr.ecr.eu-west-1.amazonaws.com/shared/scorer:2.0.0"
        image_repository_arn = "arn:aws:ecr:eu-west-1:444455556666:repository/shared/scorer"
      }
      audit = {
        image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/audit:1.0.0"
        image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/audit"
        execution_role_arn   = "arn:aws:iam::111122223333:role/byo-audit-execution"
      }
    }
  }

  assert {
    condition = toset([for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Resource if s.Sid == "PullJobImage"][0]) == toset([
      "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor", "arn:aws:ecr:eu-west-1:444455556666:repository/shared/scorer",
    ])
    error_message = "the module's execution role may pull each repository of the jobs it starts, and not the one of a job with its own execution role"
  }
}

run "non_ecr_image_gets_no_ecr_permissions" {
  command = plan

  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { image = "public.example.com/scorer@sha256:0123456789abcdef", image_repository_arn = null }) }
  }

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Sid] == ["WriteJobLogs"]
    error_message = "an image outside ECR needs only the log permissions"
  }
}

run "ec2_variant_uses_an_instance_profile_and_imdsv2" {
  command = plan

  variables {
    compute_type    = "EC2"
    instance_types  = ["m5.large", "c5.xlarge"]
    max_vcpus       = 64
    job_definitions = { scoring = merge(var.job_definitions.scoring, { vcpu = 2, memory_mib = 3000 }) }
  }

  assert {
    condition     = length(aws_iam_instance_profile.this) == 1 && aws_iam_instance_profile.this[0].name == "byo-batch-instance"
    error_message = "EC2 capacity gets an instance profile"
  }
  assert {
    condition     = jsondecode(aws_iam_role.instance[0].assume_role_policy).Statement[0].Principal.Service == "ec2.amazonaws.com"
    error_message = "EC2 assumes the instance role"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.instance[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AmazonEC2ContainerServiceforEC2Role"
    error_message = "the instance role runs the ECS agent"
  }
  assert {
    condition     = one(aws_launch_template.this[0].metadata_options).http_tokens == "required" && one(aws_launch_template.this[0].metadata_options).http_put_response_hop_limit == 1
    error_message = "instances require IMDSv2 with one hop, so containers cannot reach instance credentials"
  }
  assert {
    condition = (one(aws_batch_compute_environment.this[0].compute_resources).type == "EC2"
      && one(aws_batch_compute_environment.this[0].compute_resources).instance_role == "arn:aws:iam::111122223333:instance-profile/byo-batch-instance"
      && one(aws_batch_compute_environment.this[0].compute_resources).instance_type == toset(["m5.large", "c5.xlarge"])
      && one(aws_batch_compute_environment.this[0].compute_resources).min_vcpus == 0
      && one(aws_batch_compute_environment.this[0].compute_resources).max_vcpus == 64
    && one(aws_batch_compute_environment.this[0].compute_resources).allocation_strategy == "BEST_FIT_PROGRESSIVE")
    error_message = "EC2 compute resources: the instance profile, the given types, scale from 0 to max_vcpus"
  }
  assert {
    condition     = one(one(aws_batch_compute_environment.this[0].compute_resources).launch_template).launch_template_id == "lt-0123456789abcdef0"
    error_message = "instances launch from the IMDSv2 launch template"
  }
  assert {
    condition     = startswith(aws_batch_compute_environment.this[0].compute_environment_name_prefix, "byo-ec2-")
    error_message = "the compute environment is named after its type"
  }
  assert {
    condition     = aws_batch_job_definition.this["scoring"].platform_capabilities == toset(["EC2"])
    error_message = "job definition targets EC2"
  }
  assert {
    condition     = length(setintersection(keys(jsondecode(aws_batch_job_definition.this["scoring"].container_properties)), ["networkConfiguration", "fargatePlatformConfiguration"])) == 0
    error_message = "Fargate-only settings are left out on EC2"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).resourceRequirements == [
      { type = "VCPU", value = "2" }, { type = "MEMORY", value = "3000" },
    ]
    error_message = "EC2 takes any memory >= 512 MiB"
  }
  assert {
    condition     = output.instance_profile_arn == "arn:aws:iam::111122223333:instance-profile/byo-batch-instance"
    error_message = "instance_profile_arn is exported on EC2"
  }
}

run "spot_variant_uses_capacity_optimized_allocation" {
  command = plan

  variables {
    compute_type = "SPOT"
  }

  assert {
    condition     = one(aws_batch_compute_environment.this[0].compute_resources).allocation_strategy == "SPOT_CAPACITY_OPTIMIZED" && length(aws_iam_instance_profile.this) == 1
    error_message = "Spot capacity is capacity-optimized and needs the instance profile"
  }
}

run "fargate_spot_with_fractional_vcpu" {
  command = plan

  variables {
    compute_type    = "FARGATE_SPOT"
    job_definitions = { scoring = merge(var.job_definitions.scoring, { vcpu = 0.25, memory_mib = 512 }) }
  }

  assert {
    condition     = one(aws_batch_compute_environment.this[0].compute_resources).type == "FARGATE_SPOT" && length(aws_iam_instance_profile.this) == 0
    error_message = "Fargate Spot is serverless: no instance profile"
  }
  assert {
    condition     = aws_batch_job_definition.this["scoring"].platform_capabilities == toset(["FARGATE"])
    error_message = "Fargate Spot jobs use the FARGATE platform"
  }
  assert {
    condition     = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).resourceRequirements[0].value == "0.25"
    error_message = "fractional vCPUs are written as Batch expects them"
  }
}

run "service_role_on_request" {
  command = plan

  variables {
    create_service_role = true
  }

  assert {
    condition     = aws_batch_compute_environment.this[0].service_role == "arn:aws:iam::111122223333:role/byo-batch-service"
    error_message = "the compute environment uses the created service role"
  }
  assert {
    condition = (jsondecode(aws_iam_role.service[0].assume_role_policy).Statement[0].Principal.Service == "batch.amazonaws.com"
    && aws_iam_role_policy_attachment.service[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AWSBatchServiceRole")
    error_message = "the service role is AWS Batch's, with the AWSBatchServiceRole managed policy"
  }
  assert {
    condition     = output.service_role_arn == "arn:aws:iam::111122223333:role/byo-batch-service"
    error_message = "service_role_arn is exported"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create       = false
    compute_type = "EC2"
  }

  assert {
    condition = (length(aws_batch_compute_environment.this) + length(aws_batch_job_queue.this) + length(aws_batch_job_definition.this)
      + length(aws_iam_role.execution) + length(aws_iam_role.job) + length(aws_iam_role.instance) + length(aws_iam_role.service)
    + length(aws_iam_instance_profile.this) + length(aws_launch_template.this) + length(aws_cloudwatch_log_group.this)) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition = (output.compute_environment_arn == null && output.job_queue_arn == null && output.job_queue_name == null
      && output.job_definition_arns == null && output.job_definition_names == null && output.job_role_arn == null
      && output.execution_role_arn == null && output.service_role_arn == null && output.instance_profile_arn == null
    && output.log_group_name == null)
    error_message = "outputs are null when nothing is created"
  }
}

# Bad inputs, merged so each run costs one provider load: every variable listed in a run's
# expect_failures must report its own validation error, so no case hides another. A variable
# with several bad cases appears in several runs, one case per run (job_definitions, with a
# case per validation, sets the number of runs). compute_type is read by job_definitions' vCPU
# and memory validations: runs with a Fargate-only job_definitions case keep the default
# FARGATE, runs with an EC2-only one (and the no-instance-types case) set a valid "EC2", and
# the bad compute_type has a run of its own (see rejects_bad_inputs_15).

# Rejects: a bad name; no subnets; no security groups; zero max vCPUs; a retention CloudWatch
# does not offer; a bad key ARN (an alias); an object ARN as bucket; a bad table ARN; a bad
# endpoint ARN (a model's); a prefix with a leading slash; an image with spaces.
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    name               = "Bad_Name"                                                               # a bad name
    subnet_ids         = []                                                                       # no subnets
    security_group_ids = []                                                                       # no security groups
    max_vcpus          = 0                                                                        # zero max vCPUs
    log_retention_days = 2                                                                        # a retention CloudWatch does not offer
    kms_key_arn        = "alias/byo-platform"                                                     # a bad key ARN (an alias)
    data_bucket_arn    = "arn:aws:s3:::byo-data/input/*"                                          # an object ARN as bucket
    job_table_arn      = "byo-jobs"                                                               # a bad table ARN
    endpoint_arns      = ["arn:aws:sagemaker:eu-west-1:111122223333:model/byo"]                   # a bad endpoint ARN (a model's)
    data_prefixes      = { input = "/input/" }                                                    # a prefix with a leading slash
    job_definitions    = { scoring = merge(var.job_definitions.scoring, { image = "my image" }) } # an image with spaces
  }
  expect_failures = [
    var.name,
    var.subnet_ids,
    var.security_group_ids,
    var.max_vcpus,
    var.log_retention_days,
    var.kms_key_arn,
    var.data_bucket_arn,
    var.job_table_arn,
    var.endpoint_arns,
    var.data_prefixes,
    var.job_definitions,
  ]
}

# Rejects: a bad repository ARN.
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { image_repository_arn = "byo/batch-processor" }) } # a bad repository ARN
  }
  expect_failures = [var.job_definitions]
}

# Rejects: a vCPU Fargate cannot run.
run "rejects_bad_inputs_3" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { vcpu = 3, memory_mib = 8192 }) } # a vCPU Fargate cannot run
  }
  expect_failures = [var.job_definitions]
}

# Rejects: too many max vCPUs; no instance types (on EC2); a fractional vCPU on EC2.
run "rejects_bad_inputs_4" {
  command = plan
  variables {
    max_vcpus       = 5000                                                             # too many max vCPUs
    instance_types  = []                                                               # no instance types (on EC2)
    compute_type    = "EC2"                                                            # valid: the case is an EC2 one
    job_definitions = { scoring = merge(var.job_definitions.scoring, { vcpu = 0.5 }) } # a fractional vCPU on EC2
  }
  expect_failures = [var.max_vcpus, var.instance_types, var.job_definitions]
}

# Rejects: too little memory.
run "rejects_bad_inputs_5" {
  command = plan
  variables {
    compute_type    = "EC2"                                                                  # valid: the case is an EC2 one
    job_definitions = { scoring = merge(var.job_definitions.scoring, { memory_mib = 256 }) } # too little memory
  }
  expect_failures = [var.job_definitions]
}

# Rejects: memory that does not fit the Fargate vCPU.
run "rejects_bad_inputs_6" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { vcpu = 1, memory_mib = 1024 }) } # memory that does not fit the Fargate vCPU
  }
  expect_failures = [var.job_definitions]
}

# Rejects: a reserved environment name.
run "rejects_bad_inputs_7" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { environment = { AWS_BATCH_JOB_ID = "x" } }) } # a reserved environment name
  }
  expect_failures = [var.job_definitions]
}

# Rejects: zero attempts.
run "rejects_bad_inputs_8" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { attempts = 0 }) } # zero attempts
  }
  expect_failures = [var.job_definitions]
}

# Rejects: eleven attempts.
run "rejects_bad_inputs_9" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { attempts = 11 }) } # eleven attempts
  }
  expect_failures = [var.job_definitions]
}

# Rejects: a short timeout.
run "rejects_bad_inputs_10" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { timeout_seconds = 30 }) } # a short timeout
  }
  expect_failures = [var.job_definitions]
}

# Rejects: an empty command.
run "rejects_bad_inputs_11" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { command = [] }) } # an empty command
  }
  expect_failures = [var.job_definitions]
}

# Rejects: a bad job key.
run "rejects_bad_inputs_12" {
  command = plan
  variables {
    job_definitions = { Scoring_Job = var.job_definitions.scoring } # a bad job key
  }
  expect_failures = [var.job_definitions]
}

# Rejects: a log group without an own execution role.
run "rejects_bad_inputs_13" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { log_group_name = "/aws/batch/elsewhere" }) } # a log group without an own execution role
  }
  expect_failures = [var.job_definitions]
}

# Rejects: a bad role ARN.
run "rejects_bad_inputs_14" {
  command = plan
  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { job_role_arn = "byo-monitor-job" }) } # a bad role ARN
  }
  expect_failures = [var.job_definitions]
}

# Rejects: an unknown compute type (lower case). On its own: while compute_type is invalid,
# job_definitions (whose validations read it) reports no error, so no job_definitions case fits here.
run "rejects_bad_inputs_15" {
  command = plan
  variables {
    compute_type = "fargate" # an unknown compute type (lower case)
  }
  expect_failures = [var.compute_type]
}

run "command_with_parameter_placeholders_lands_in_the_job_definition" {
  command = plan

  variables {
    job_definitions = { scoring = merge(var.job_definitions.scoring, { command = ["python", "-m", "batch_processor.job", "--bucket", "Ref::bucket", "--key", "Ref::key"] }) }
  }

  assert {
    condition     = jsondecode(aws_batch_job_definition.this["scoring"].container_properties).command == ["python", "-m", "batch_processor.job", "--bucket", "Ref::bucket", "--key", "Ref::key"]
    error_message = "the command (with Ref:: placeholders) is in the container properties"
  }
}

run "a_job_with_its_own_roles_and_log_group" {
  command = plan

  variables {
    job_definitions = {
      scoring = var.job_definitions.scoring
      monitor = {
        image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0"
        image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
        command              = ["monitor", "run", "--window", "1h"]
        environment          = { BYO_ENDPOINT_NAME = "byo-endpoint" }
        memory_mib           = 4096
        job_role_arn         = "arn:aws:iam::111122223333:role/byo-monitor-job"
        execution_role_arn   = "arn:aws:iam::111122223333:role/byo-monitor-execution"
        log_group_name       = "/aws/batch/byo-monitor"
        attempts             = 2
        timeout_seconds      = 1800
      }
    }
  }

  assert {
    condition     = aws_batch_job_definition.this["monitor"].name == "byo-monitor" && aws_batch_job_definition.this["scoring"].name == "byo-scoring"
    error_message = "each job definition is named <name>-<key>"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.this["monitor"].container_properties).executionRoleArn == "arn:aws:iam::111122223333:role/byo-monitor-execution"
    && jsondecode(aws_batch_job_definition.this["monitor"].container_properties).jobRoleArn == "arn:aws:iam::111122223333:role/byo-monitor-job")
    error_message = "a job with its own roles runs as them"
  }
  assert {
    condition = jsondecode(aws_batch_job_definition.this["monitor"].container_properties).logConfiguration == {
      logDriver = "awslogs"
      options = {
        awslogs-group         = "/aws/batch/byo-monitor"
        awslogs-region        = "eu-west-1"
        awslogs-stream-prefix = "monitor"
      }
    }
    error_message = "a job with its own log group logs there, under its key as stream prefix"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.this["monitor"].container_properties).command == ["monitor", "run", "--window", "1h"]
      && jsondecode(aws_batch_job_definition.this["monitor"].container_properties).environment == [{ name = "BYO_ENDPOINT_NAME", value = "byo-endpoint" }]
    && jsondecode(aws_batch_job_definition.this["monitor"].container_properties).resourceRequirements == [{ type = "VCPU", value = "1" }, { type = "MEMORY", value = "4096" }])
    error_message = "command, environment, vCPU and memory are the entry's"
  }
  assert {
    condition = (one(aws_batch_job_definition.this["monitor"].retry_strategy).attempts == 2 && one(aws_batch_job_definition.this["monitor"].timeout).attempt_duration_seconds == 1800
    && one(aws_batch_job_definition.this["scoring"].retry_strategy).attempts == 3 && one(aws_batch_job_definition.this["scoring"].timeout).attempt_duration_seconds == 3600)
    error_message = "attempts and timeout are each entry's"
  }
  assert {
    condition = (jsondecode(aws_batch_job_definition.this["monitor"].container_properties).networkConfiguration.assignPublicIp == "DISABLED"
      && jsondecode(aws_batch_job_definition.this["monitor"].container_properties).fargatePlatformConfiguration.platformVersion == "LATEST"
      && aws_batch_job_definition.this["monitor"].type == "container"
      && aws_batch_job_definition.this["monitor"].platform_capabilities == toset(["FARGATE"]) && aws_batch_job_definition.this["monitor"].propagate_tags
    && aws_batch_job_definition.this["monitor"].tags["Name"] == "byo-monitor" && aws_batch_job_definition.this["monitor"].tags["team"] == "ml")
    error_message = "every job runs on the compute environment's platform, privately, with the module's tags"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.execution[0].policy).Statement : s.Resource if s.Sid == "PullJobImage"][0] == ["arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"]
    error_message = "the module's execution role gets no pull permission for a job it does not start"
  }
  assert {
    condition     = keys(output.job_definition_arns) == ["monitor", "scoring"] && output.job_definition_names == { monitor = "byo-monitor", scoring = "byo-scoring" }
    error_message = "job_definition_arns and job_definition_names map every job by its key"
  }
}

run "data_prefixes_follow_the_storage_layout" {
  command = plan

  variables {
    data_prefixes = {
      input        = "in/"
      output       = "scores/"
      errors       = "rejected/"
      checkpoints  = "state/checkpoints/"
      captures     = "captures/"
      ground_truth = "ground-truth/"
    }
  }

  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "ReadInputAndCheckpoints"][0] == [
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/in/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/state/checkpoints/*",
    ]
    error_message = "the job reads its input and checkpoints prefixes"
  }
  assert {
    condition = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Resource if s.Sid == "WriteResultsAndCheckpoints"][0] == [
      "arn:aws:s3:::byo-data-111122223333-eu-west-1/scores/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/rejected/*", "arn:aws:s3:::byo-data-111122223333-eu-west-1/state/checkpoints/*",
    ]
    error_message = "the job writes its output, errors and checkpoints prefixes"
  }
  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.job[0].policy).Statement : s.Condition if s.Sid == "ListJobPrefixes"][0] == { StringLike = { "s3:prefix" = ["in/*", "scores/*", "rejected/*", "state/checkpoints/*"] } }
    error_message = "listing follows the prefixes; the layout's other prefixes are not the job's"
  }
}

run "example_basic_plans_the_scoring_job" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.job_definition_names == { scoring = "byo-scoring" }
    error_message = "the example defines the scoring job, byo-scoring"
  }
  assert {
    condition     = keys(output.job_definition_arns) == ["scoring"]
    error_message = "the example exports the scoring job definition's ARN by key"
  }
}
