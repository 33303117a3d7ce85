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
  mock_data "aws_sagemaker_prebuilt_ecr_image" {
    defaults = { registry_path = "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/byo-sagemaker-endpoint" }
  }
  mock_resource "aws_sagemaker_endpoint" {
    defaults = { arn = "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo" }
  }
}

variables {
  name             = "byo"
  kms_key_arn      = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  model_bucket_arn = "arn:aws:s3:::byo-data"
  variants = {
    champion = {
      model_data_url         = "s3://byo-data/models/aaa/model.tar.gz"
      initial_weight         = 9
      instance_type          = "ml.c5.large"
      initial_instance_count = 2
      environment            = { SAGEMAKER_PROGRAM = "inference.py" }
    }
    challenger = {
      model_data_url = "s3://byo-data/models/bbb/model.tar.gz"
      image          = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1"
      initial_weight = 1
    }
  }
  data_capture = {
    destination_s3_uri  = "s3://byo-data/captures/"
    sampling_percentage = 50
  }
  ecr_repository_arns = ["arn:aws:ecr:eu-west-1:111122223333:repository/byo-serving"]
  tags                = { team = "ml" }
}

run "two_variants_land_in_the_endpoint_config_sorted_with_their_weights" {
  command = plan

  assert {
    condition     = [for v in aws_sagemaker_endpoint_configuration.this[0].production_variants : v.variant_name] == ["challenger", "champion"]
    error_message = "production variants are sorted by variant name"
  }
  assert {
    condition     = [for v in aws_sagemaker_endpoint_configuration.this[0].production_variants : v.initial_variant_weight] == [1, 9]
    error_message = "weights 9 (champion) and 1 (challenger) land as given"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].production_variants[1].instance_type == "ml.c5.large" && aws_sagemaker_endpoint_configuration.this[0].production_variants[1].initial_instance_count == 2
    error_message = "champion keeps its instance type and count"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].production_variants[0].instance_type == "ml.m5.large" && aws_sagemaker_endpoint_configuration.this[0].production_variants[0].initial_instance_count == 1
    error_message = "challenger gets the default instance type and count"
  }
  assert {
    condition     = [for v in aws_sagemaker_endpoint_configuration.this[0].production_variants : v.model_name] == [aws_sagemaker_model.this["challenger"].name, aws_sagemaker_model.this["champion"].name]
    error_message = "each variant serves its own model"
  }
  assert {
    condition     = can(regex("^byo-champion-[0-9a-f]{8}$", aws_sagemaker_model.this["champion"].name))
    error_message = "model names are <name>-<variant>-<content hash>"
  }
  assert {
    condition     = can(regex("^byo-[0-9a-f]{8}$", aws_sagemaker_endpoint_configuration.this[0].name))
    error_message = "the endpoint config is named <name>-<content hash>"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].kms_key_arn == var.kms_key_arn
    error_message = "instance storage is encrypted with the platform key"
  }
  assert {
    condition     = aws_sagemaker_endpoint.this[0].name == "byo" && aws_sagemaker_endpoint.this[0].endpoint_config_name == aws_sagemaker_endpoint_configuration.this[0].name
    error_message = "the endpoint starts on the module's config"
  }
  assert {
    condition     = aws_sagemaker_endpoint.this[0].tags["Name"] == "byo" && aws_sagemaker_endpoint.this[0].tags["team"] == "ml"
    error_message = "the endpoint carries the given tags plus its Name"
  }
  assert {
    condition     = aws_sagemaker_model.this["champion"].primary_container[0].environment["SAGEMAKER_PROGRAM"] == "inference.py" && aws_sagemaker_model.this["champion"].primary_container[0].model_data_url == "s3://byo-data/models/aaa/model.tar.gz"
    error_message = "the model carries its artifact and environment"
  }
  assert {
    condition     = length(aws_sagemaker_model.this["champion"].vpc_config) == 0 && !aws_sagemaker_model.this["champion"].enable_network_isolation
    error_message = "without subnets the models have no VPC config; isolation is off by default"
  }
  assert {
    condition     = output.variant_names == tolist(["challenger", "champion"])
    error_message = "variant names are exported sorted"
  }
}

run "data_capture_is_configured_with_sampling_content_types_and_key" {
  command = plan

  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].enable_capture && aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].initial_sampling_percentage == 50
    error_message = "capture is on at the given sampling percentage"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].destination_s3_uri == "s3://byo-data/captures/"
    error_message = "capture goes to the given prefix"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].kms_key_id == var.kms_key_arn
    error_message = "captured data is encrypted with the platform key"
  }
  assert {
    condition     = [for o in aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_options : o.capture_mode] == ["Input", "Output"]
    error_message = "requests and responses are captured"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_content_type_header[0].csv_content_types == toset(["text/csv"])
    error_message = "CSV content types are captured as text"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_content_type_header[0].json_content_types == toset(["application/json"])
    error_message = "JSON content types are captured as JSON"
  }
  assert {
    condition     = output.data_capture_s3_uri == "s3://byo-data/captures/"
    error_message = "the capture URI is exported"
  }
}

run "default_image_is_the_prebuilt_xgboost_image_and_byo_overrides_it" {
  command = plan

  assert {
    condition     = data.aws_sagemaker_prebuilt_ecr_image.this[0].repository_name == "sagemaker-xgboost" && data.aws_sagemaker_prebuilt_ecr_image.this[0].image_tag == "1.7-1"
    error_message = "the default image is looked up as sagemaker-xgboost:1.7-1"
  }
  assert {
    condition     = aws_sagemaker_model.this["champion"].primary_container[0].image == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    error_message = "a variant without image uses the resolved prebuilt image"
  }
  assert {
    condition     = aws_sagemaker_model.this["challenger"].primary_container[0].image == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1"
    error_message = "a variant's own image overrides the default"
  }
  assert {
    condition     = output.image == "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    error_message = "the resolved default image is exported"
  }
}

run "given_default_image_skips_the_lookup" {
  command = plan

  variables {
    default_image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:2"
  }

  assert {
    condition     = length(data.aws_sagemaker_prebuilt_ecr_image.this) == 0
    error_message = "no prebuilt image lookup when default_image is given"
  }
  assert {
    condition     = aws_sagemaker_model.this["champion"].primary_container[0].image == var.default_image
    error_message = "variants without image use default_image"
  }
}

run "execution_role_is_least_privilege" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role.this[0].assume_role_policy).Statement[0].Principal.Service == "sagemaker.amazonaws.com"
    error_message = "only SageMaker assumes the role"
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
    ]) == toset(["PublishEndpointMetrics", "AuthenticateToEcr"])
    error_message = "only PutMetricData and GetAuthorizationToken (no resource-level permissions) use resource \"*\""
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "PublishEndpointMetrics"]).Condition.StringEquals["cloudwatch:namespace"] == "/aws/sagemaker/Endpoints"
    error_message = "metrics are limited to the endpoints namespace"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "ReadModelArtifacts"]) == ["arn:aws:s3:::byo-data/models/*"]
    error_message = "s3:GetObject is scoped to the model prefix"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "WriteCapturedData"]) == ["arn:aws:s3:::byo-data/captures/*"]
    error_message = "s3:PutObject is scoped to the capture prefix derived from the capture URI"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "UsePlatformKey"]) == [var.kms_key_arn]
    error_message = "KMS use is scoped to the platform key"
  }
  assert {
    condition     = tolist(one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "PullBringYourOwnImages"])) == var.ecr_repository_arns
    error_message = "image pulls are scoped to the given repositories"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "WriteEndpointLogs"]) == ["arn:aws:logs:eu-west-1:111122223333:log-group:/aws/sagemaker/Endpoints/byo*"]
    error_message = "logs are scoped to the endpoint's log group"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "ManageEndpointNetworkInterfaces"]) == 0
    error_message = "no EC2 network permissions outside a VPC"
  }
}

run "minimal_endpoint_has_no_capture_ecr_or_network_permissions" {
  command = plan

  variables {
    variants            = { main = { model_data_url = "s3://byo-data/models/aaa/model.tar.gz" } }
    data_capture        = null
    ecr_repository_arns = []
  }

  assert {
    condition     = length(aws_sagemaker_endpoint_configuration.this[0].data_capture_config) == 0
    error_message = "no data capture unless configured"
  }
  assert {
    condition = toset([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Sid]) == toset([
      "ReadModelArtifacts", "UsePlatformKey", "WriteEndpointLogs", "PublishEndpointMetrics",
    ])
    error_message = "only model reads, key use, logs and metrics are granted"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].production_variants[0].initial_variant_weight == 1
    error_message = "a single variant gets weight 1 by default"
  }
  assert {
    condition     = output.data_capture_s3_uri == null
    error_message = "no capture URI without capture"
  }
}

run "explicit_capture_prefix_arn_and_output_only_capture" {
  command = plan

  variables {
    capture_prefix_arn = "arn:aws:s3:::byo-data/captures/byo/"
    data_capture = {
      destination_s3_uri = "s3://byo-data/captures/byo"
      capture_input      = false
      csv_content_types  = ["text/csv", "application/x-csv"]
    }
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Resource if s.Sid == "WriteCapturedData"]) == ["arn:aws:s3:::byo-data/captures/byo/*"]
    error_message = "the given capture prefix ARN is used"
  }
  assert {
    condition     = [for o in aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_options : o.capture_mode] == ["Output"]
    error_message = "only responses are captured"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].initial_sampling_percentage == 100
    error_message = "sampling defaults to 100 percent"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].capture_content_type_header[0].csv_content_types == toset(["text/csv", "application/x-csv"])
    error_message = "the given CSV content types are captured"
  }
}

run "vpc_models_get_vpc_config_and_network_interface_permissions" {
  command = plan

  variables {
    vpc_subnet_ids           = ["subnet-a", "subnet-b"]
    vpc_security_group_ids   = ["sg-1"]
    enable_network_isolation = true
  }

  assert {
    condition     = alltrue([for m in aws_sagemaker_model.this : m.vpc_config[0].subnets == toset(["subnet-a", "subnet-b"]) && m.vpc_config[0].security_group_ids == toset(["sg-1"])])
    error_message = "every model attaches to the given subnets and security groups"
  }
  assert {
    condition     = alltrue([for m in aws_sagemaker_model.this : m.enable_network_isolation])
    error_message = "network isolation is passed through"
  }
  assert {
    condition     = contains(one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s.Action if s.Sid == "ManageEndpointNetworkInterfaces"]), "ec2:CreateNetworkInterface")
    error_message = "the role may manage the containers' network interfaces"
  }
  assert {
    condition     = aws_sagemaker_model.this["champion"].name != run.two_variants_land_in_the_endpoint_config_sorted_with_their_weights.model_names["champion"]
    error_message = "a changed model is a new model (new name), created before the old one is destroyed"
  }
}

run "changed_weights_make_a_new_endpoint_config" {
  command = plan

  variables {
    variants = {
      champion   = { model_data_url = "s3://byo-data/models/aaa/model.tar.gz", initial_weight = 1, instance_type = "ml.c5.large", initial_instance_count = 2, environment = { SAGEMAKER_PROGRAM = "inference.py" } }
      challenger = { model_data_url = "s3://byo-data/models/bbb/model.tar.gz", image = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1", initial_weight = 1 }
    }
  }

  assert {
    condition     = output.endpoint_config_name != run.two_variants_land_in_the_endpoint_config_sorted_with_their_weights.endpoint_config_name
    error_message = "a changed config gets a new name"
  }
  assert {
    condition     = output.model_names == run.two_variants_land_in_the_endpoint_config_sorted_with_their_weights.model_names
    error_message = "unchanged models keep their names"
  }
}

run "single_container_model_names_are_unchanged_by_pipeline_support" {
  command = plan

  # The names the module gave before variants could hold serial pipelines: upgrading the module
  # replaces no model and no endpoint config.
  assert {
    condition     = output.model_names == { challenger = "byo-challenger-c00a8171", champion = "byo-champion-d292174d" }
    error_message = "one-container variants keep their model names (the hashed content is the same)"
  }
  assert {
    condition     = output.endpoint_config_name == "byo-cd270f8c"
    error_message = "the endpoint config keeps its name"
  }
  assert {
    condition     = alltrue([for m in aws_sagemaker_model.this : length(m.primary_container) == 1 && length(m.container) == 0 && length(m.inference_execution_config) == 0])
    error_message = "one-container variants have a primary container and no pipeline"
  }
}

run "a_serial_pipeline_variant_runs_its_containers_in_order" {
  command = plan

  variables {
    variants = {
      champion = { model_data_url = "s3://byo-data/models/aaa/model.tar.gz", initial_weight = 9 }
      pipeline = {
        initial_weight = 1
        containers = [
          {
            model_data_url     = "s3://byo-data/models/pre/model.tar.gz"
            image              = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1"
            environment        = { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT = "text/csv" }
            container_hostname = "preprocess"
          },
          { model_data_url = "s3://byo-data/models/xgb/model.tar.gz", container_hostname = "model" },
        ]
      }
    }
  }

  assert {
    condition     = length(aws_sagemaker_model.this["pipeline"].container) == 2 && length(aws_sagemaker_model.this["pipeline"].primary_container) == 0
    error_message = "a pipeline variant's model has its two containers and no primary container"
  }
  assert {
    condition     = aws_sagemaker_model.this["pipeline"].inference_execution_config[0].mode == "Serial"
    error_message = "the containers run as a serial pipeline"
  }
  assert {
    condition     = [for c in aws_sagemaker_model.this["pipeline"].container : c.model_data_url] == ["s3://byo-data/models/pre/model.tar.gz", "s3://byo-data/models/xgb/model.tar.gz"]
    error_message = "the containers keep the order given"
  }
  assert {
    condition     = [for c in aws_sagemaker_model.this["pipeline"].container : c.container_hostname] == ["preprocess", "model"]
    error_message = "each container has its hostname"
  }
  assert {
    condition = [for c in aws_sagemaker_model.this["pipeline"].container : c.image] == [
      "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1",
      "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
    ]
    error_message = "a container's own image is used, a container without one gets the default image"
  }
  assert {
    condition     = aws_sagemaker_model.this["pipeline"].container[0].environment == tomap({ SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT = "text/csv" }) && length(aws_sagemaker_model.this["pipeline"].container[1].environment) == 0
    error_message = "each container gets its own environment"
  }
  assert {
    condition     = length(aws_sagemaker_model.this["champion"].primary_container) == 1 && length(aws_sagemaker_model.this["champion"].inference_execution_config) == 0
    error_message = "a one-container variant next to it keeps its primary container"
  }
  assert {
    condition     = [for v in aws_sagemaker_endpoint_configuration.this[0].production_variants : v.model_name] == [aws_sagemaker_model.this["champion"].name, aws_sagemaker_model.this["pipeline"].name]
    error_message = "the pipeline model serves its variant in the endpoint config"
  }
  assert {
    condition     = can(regex("^byo-pipeline-[0-9a-f]{8}$", output.model_names["pipeline"])) && output.variant_names == tolist(["champion", "pipeline"])
    error_message = "the pipeline's model name is exported like any variant's"
  }
  assert {
    condition     = output.container_counts == { champion = 1, pipeline = 2 }
    error_message = "the container count of each variant's model is exported"
  }
}

run "a_changed_container_makes_a_new_pipeline_model" {
  command = plan

  variables {
    variants = {
      champion = { model_data_url = "s3://byo-data/models/aaa/model.tar.gz", initial_weight = 9 }
      pipeline = {
        initial_weight = 1
        containers = [
          {
            model_data_url     = "s3://byo-data/models/pre/model.tar.gz"
            image              = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1"
            environment        = { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT = "application/json" }
            container_hostname = "preprocess"
          },
          { model_data_url = "s3://byo-data/models/xgb/model.tar.gz", container_hostname = "model" },
        ]
      }
    }
  }

  assert {
    condition     = output.model_names["pipeline"] != run.a_serial_pipeline_variant_runs_its_containers_in_order.model_names["pipeline"]
    error_message = "a changed container (here its environment) is a new model"
  }
  assert {
    condition     = output.model_names["champion"] == run.a_serial_pipeline_variant_runs_its_containers_in_order.model_names["champion"]
    error_message = "the unchanged variant keeps its model"
  }
}

run "reordered_containers_make_a_new_pipeline_model" {
  command = plan

  variables {
    variants = {
      champion = { model_data_url = "s3://byo-data/models/aaa/model.tar.gz", initial_weight = 9 }
      pipeline = {
        initial_weight = 1
        containers = [
          { model_data_url = "s3://byo-data/models/xgb/model.tar.gz", container_hostname = "model" },
          {
            model_data_url     = "s3://byo-data/models/pre/model.tar.gz"
            image              = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1"
            environment        = { SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT = "text/csv" }
            container_hostname = "preprocess"
          },
        ]
      }
    }
  }

  assert {
    condition     = output.model_names["pipeline"] != run.a_serial_pipeline_variant_runs_its_containers_in_order.model_names["pipeline"]
    error_message = "the same containers in another order are another model"
  }
}

run "outputs_are_set_after_apply" {
  command = apply

  assert {
    condition     = output.endpoint_name == "byo" && output.endpoint_arn == "arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo"
    error_message = "endpoint name and ARN are exported"
  }
  assert {
    condition     = output.execution_role_arn == "arn:aws:iam::111122223333:role/byo-sagemaker-endpoint"
    error_message = "the execution role ARN is exported"
  }
  assert {
    condition     = keys(output.model_names) == ["challenger", "champion"] && startswith(output.model_names["champion"], "byo-champion-")
    error_message = "model names are exported per variant"
  }
  assert {
    condition     = startswith(output.endpoint_config_name, "byo-")
    error_message = "the endpoint config name is exported"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  override_resource {
    target          = module.endpoint.aws_iam_role.this
    override_during = plan
    values          = { arn = "arn:aws:iam::111122223333:role/byo-sagemaker-endpoint" }
  }

  assert {
    condition     = output.variant_names == tolist(["challenger", "champion", "pipeline"]) && output.execution_role_arn == "arn:aws:iam::111122223333:role/byo-sagemaker-endpoint"
    error_message = "the example plans an endpoint with three variants and its execution role"
  }
  assert {
    condition     = output.container_counts == { challenger = 1, champion = 1, pipeline = 2 }
    error_message = "the example's pipeline variant runs two containers, the others one"
  }
  assert {
    condition     = startswith(output.model_names["pipeline"], "byo-pipeline-")
    error_message = "the example exports the pipeline's model name"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition = (length(aws_iam_role.this) + length(aws_iam_role_policy.this) + length(aws_sagemaker_model.this)
    + length(aws_sagemaker_endpoint_configuration.this) + length(aws_sagemaker_endpoint.this) + length(data.aws_sagemaker_prebuilt_ecr_image.this)) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition = alltrue([for o in [
      output.endpoint_name, output.endpoint_arn, output.endpoint_config_name, output.model_names, output.container_counts, output.variant_names,
      output.execution_role_arn, output.image, output.data_capture_s3_uri,
    ] : o == null])
    error_message = "outputs are null when nothing is created"
  }
}

run "rejects_a_fractional_weight" {
  command = plan
  variables {
    variants = {
      champion   = { model_data_url = "s3://byo-data/models/a/model.tar.gz", initial_weight = 0.9 }
      challenger = { model_data_url = "s3://byo-data/models/b/model.tar.gz", initial_weight = 0.1 }
    }
  }
  expect_failures = [var.variants]
}

run "rejects_all_zero_weights" {
  command = plan
  variables {
    variants = {
      champion   = { model_data_url = "s3://byo-data/models/a/model.tar.gz", initial_weight = 0 }
      challenger = { model_data_url = "s3://byo-data/models/b/model.tar.gz", initial_weight = 0 }
    }
  }
  expect_failures = [var.variants]
}

run "rejects_a_negative_weight" {
  command = plan
  variables {
    variants = { champion = { model_data_url = "s3://byo-data/models/a/model.tar.gz", initial_weight = -1 } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_bad_variant_name" {
  command = plan
  variables {
    variants = { "bad_name" = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_variant_name_too_long_for_its_model_name" {
  command = plan
  variables {
    variants = { "${join("", [for i in range(60) : "v"])}" = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
  }
  expect_failures = [var.variants]
}

run "rejects_no_variants" {
  command = plan
  variables {
    variants = {}
  }
  expect_failures = [var.variants]
}

run "rejects_zero_instances" {
  command = plan
  variables {
    variants = { champion = { model_data_url = "s3://byo-data/models/a/model.tar.gz", initial_instance_count = 0 } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_non_s3_model_url" {
  command = plan
  variables {
    variants = { champion = { model_data_url = "https://byo-data.s3.amazonaws.com/models/a/model.tar.gz" } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_model_outside_the_readable_prefix" {
  command = plan
  variables {
    variants = { champion = { model_data_url = "s3://other-bucket/models/a/model.tar.gz" } }
  }
  expect_failures = [var.variants]
}

run "rejects_both_shapes_in_one_variant" {
  command = plan
  variables {
    variants = { champion = {
      model_data_url = "s3://byo-data/models/a/model.tar.gz"
      containers     = [{ model_data_url = "s3://byo-data/models/b/model.tar.gz" }, { model_data_url = "s3://byo-data/models/c/model.tar.gz" }]
    } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_variant_with_neither_shape" {
  command = plan
  variables {
    variants = { champion = { initial_weight = 1 } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_variant_image_next_to_containers" {
  command = plan
  variables {
    variants = { champion = {
      image      = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo-serving:1"
      containers = [{ model_data_url = "s3://byo-data/models/b/model.tar.gz" }, { model_data_url = "s3://byo-data/models/c/model.tar.gz" }]
    } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_pipeline_of_one_container" {
  command = plan
  variables {
    variants = { champion = { containers = [{ model_data_url = "s3://byo-data/models/b/model.tar.gz" }] } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_pipeline_of_sixteen_containers" {
  command = plan
  variables {
    variants = { champion = { containers = [for i in range(16) : { model_data_url = "s3://byo-data/models/${i}/model.tar.gz" }] } }
  }
  expect_failures = [var.variants]
}

run "accepts_a_pipeline_of_fifteen_containers" {
  command = plan
  variables {
    variants = { champion = { containers = [for i in range(15) : { model_data_url = "s3://byo-data/models/${i}/model.tar.gz" }] } }
  }
  assert {
    condition     = length(aws_sagemaker_model.this["champion"].container) == 15
    error_message = "15 containers, SageMaker's limit, are planned"
  }
}

run "rejects_a_non_s3_container_url" {
  command = plan
  variables {
    variants = { champion = { containers = [
      { model_data_url = "s3://byo-data/models/b/model.tar.gz" },
      { model_data_url = "https://byo-data.s3.amazonaws.com/models/c/model.tar.gz" },
    ] } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_container_outside_the_readable_prefix" {
  command = plan
  variables {
    variants = { champion = { containers = [
      { model_data_url = "s3://byo-data/models/b/model.tar.gz" },
      { model_data_url = "s3://byo-data/captures/c/model.tar.gz" },
    ] } }
  }
  expect_failures = [var.variants]
}

run "rejects_duplicate_container_hostnames" {
  command = plan
  variables {
    variants = { champion = { containers = [
      { model_data_url = "s3://byo-data/models/b/model.tar.gz", container_hostname = "model" },
      { model_data_url = "s3://byo-data/models/c/model.tar.gz", container_hostname = "model" },
    ] } }
  }
  expect_failures = [var.variants]
}

run "rejects_hostnames_on_some_containers_only" {
  command = plan
  variables {
    variants = { champion = { containers = [
      { model_data_url = "s3://byo-data/models/b/model.tar.gz", container_hostname = "preprocess" },
      { model_data_url = "s3://byo-data/models/c/model.tar.gz" },
    ] } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_bad_container_hostname" {
  command = plan
  variables {
    variants = { champion = { containers = [
      { model_data_url = "s3://byo-data/models/b/model.tar.gz", container_hostname = "pre_process" },
      { model_data_url = "s3://byo-data/models/c/model.tar.gz", container_hostname = "model" },
    ] } }
  }
  expect_failures = [var.variants]
}

run "rejects_sampling_above_100" {
  command = plan
  variables {
    data_capture = { destination_s3_uri = "s3://byo-data/captures/", sampling_percentage = 101 }
  }
  expect_failures = [var.data_capture]
}

run "rejects_a_non_s3_capture_uri" {
  command = plan
  variables {
    data_capture = { destination_s3_uri = "byo-data/captures/" }
  }
  expect_failures = [var.data_capture]
}

run "rejects_capturing_nothing" {
  command = plan
  variables {
    data_capture = { destination_s3_uri = "s3://byo-data/captures/", capture_input = false, capture_output = false }
  }
  expect_failures = [var.data_capture]
}

run "rejects_subnets_without_security_groups" {
  command = plan
  variables {
    vpc_subnet_ids = ["subnet-a"]
  }
  expect_failures = [var.vpc_security_group_ids]
}

run "rejects_a_bad_name" {
  command = plan
  variables {
    name = "Bad_Name"
  }
  expect_failures = [var.name]
}

run "rejects_a_bad_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/platform"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_a_bad_bucket_arn" {
  command = plan
  variables {
    model_bucket_arn = "arn:aws:s3:::byo-data/models"
  }
  expect_failures = [var.model_bucket_arn]
}
