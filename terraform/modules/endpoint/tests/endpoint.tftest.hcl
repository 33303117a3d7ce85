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
  # Data capture is configured with sampling content types and key:
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
  # Default image is the prebuilt xgboost image and byo overrides it:
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
  # Execution role is least privilege:
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
  # Single container model names are unchanged by pipeline support:
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
  # Instance variants send no serverless config:
  assert {
    condition     = alltrue([for v in aws_sagemaker_endpoint_configuration.this[0].production_variants : length(v.serverless_config) == 0])
    error_message = "instance variants have no serverless_config"
  }
  assert {
    condition     = output.variant_kinds == { challenger = "instance", champion = "instance" } && length(output.shadow_variant_names) == 0
    error_message = "instance variants are exported as such; no shadow"
  }
  # Single model containers send no mode:
  assert {
    condition     = alltrue([for m in aws_sagemaker_model.this : m.primary_container[0].mode == null])
    error_message = "one-model variants leave mode to SageMaker's default (SingleModel)"
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

run "a_serverless_variant_has_a_serverless_config_and_no_instance_fields" {
  command = plan

  variables {
    variants = {
      serverless = {
        model_data_url = "s3://byo-data/models/aaa/model.tar.gz"
        serverless     = { memory_size_in_mb = 2048, max_concurrency = 10, provisioned_concurrency = 2 }
      }
    }
    data_capture        = null
    ecr_repository_arns = []
  }

  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this[0].production_variants[0].serverless_config[0].memory_size_in_mb == 2048
      && aws_sagemaker_endpoint_configuration.this[0].production_variants[0].serverless_config[0].max_concurrency == 10
      && aws_sagemaker_endpoint_configuration.this[0].production_variants[0].serverless_config[0].provisioned_concurrency == 2
    )
    error_message = "the variant's serverless settings land in its serverless_config"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].production_variants[0].instance_type == null && aws_sagemaker_endpoint_configuration.this[0].production_variants[0].initial_instance_count == null
    error_message = "a serverless variant sends no instance type or count"
  }
  assert {
    condition     = length(aws_sagemaker_endpoint_configuration.this[0].async_inference_config) == 0 && length(aws_sagemaker_endpoint_configuration.this[0].shadow_production_variants) == 0
    error_message = "no async config and no shadow unless given"
  }
  assert {
    condition     = output.variant_kinds == { serverless = "serverless" } && output.async_output_s3_uri == null && output.multi_model_prefixes == {}
    error_message = "the variant's kind is exported"
  }
}

run "async_inference_writes_to_s3_notifies_topics_and_limits_concurrency" {
  command = plan

  variables {
    async_inference = {
      output_s3_uri                           = "s3://byo-data/async/output/"
      failure_s3_uri                          = "s3://byo-data/async/failures/"
      input_s3_uri                            = "s3://byo-data/async/input/"
      success_topic_arn                       = "arn:aws:sns:eu-west-1:111122223333:byo-async-success"
      error_topic_arn                         = "arn:aws:sns:eu-west-1:111122223333:byo-async-error"
      max_concurrent_invocations_per_instance = 4
    }
  }

  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].output_config[0].s3_output_path == "s3://byo-data/async/output/"
      && aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].output_config[0].s3_failure_path == "s3://byo-data/async/failures/"
      && aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].output_config[0].kms_key_id == var.kms_key_arn
    )
    error_message = "results and failures go to their prefixes, encrypted with the platform key"
  }
  assert {
    condition = (
      aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].output_config[0].notification_config[0].success_topic == "arn:aws:sns:eu-west-1:111122223333:byo-async-success"
      && aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].output_config[0].notification_config[0].error_topic == "arn:aws:sns:eu-west-1:111122223333:byo-async-error"
    )
    error_message = "the success and error topics are notified"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].client_config[0].max_concurrent_invocations_per_instance == 4
    error_message = "each instance runs at most 4 requests at once"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "WriteAsyncResults"]).Resource == ["arn:aws:s3:::byo-data/async/output/*", "arn:aws:s3:::byo-data/async/failures/*"]
    error_message = "the role writes results and failures under their prefixes only"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "ReadAsyncRequests"]).Resource == ["arn:aws:s3:::byo-data/async/input/*"] && one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "ReadAsyncRequests"]).Action == ["s3:GetObject"]
    error_message = "the role reads request payloads under the input prefix only"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "PublishAsyncNotifications"]).Resource == ["arn:aws:sns:eu-west-1:111122223333:byo-async-success", "arn:aws:sns:eu-west-1:111122223333:byo-async-error"]
    error_message = "the role publishes to the two topics only"
  }
  assert {
    condition     = output.async_output_s3_uri == "s3://byo-data/async/output/" && output.async_failure_s3_uri == "s3://byo-data/async/failures/"
    error_message = "the async output and failure locations are exported"
  }
  assert {
    condition     = output.endpoint_config_name != "byo-cd270f8c"
    error_message = "an async config is a different endpoint config"
  }
}

run "minimal_async_inference_has_no_notifications_client_config_or_input_read" {
  command = plan

  variables {
    async_inference = { output_s3_uri = "s3://byo-data/async/output" }
  }

  assert {
    condition     = length(aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].output_config[0].notification_config) == 0 && length(aws_sagemaker_endpoint_configuration.this[0].async_inference_config[0].client_config) == 0
    error_message = "no notification or client config unless given"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if s.Sid == "WriteAsyncResults"]).Resource == ["arn:aws:s3:::byo-data/async/output/*"]
    error_message = "the role writes under the output prefix only"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.this[0].policy).Statement : s if contains(["ReadAsyncRequests", "PublishAsyncNotifications"], s.Sid)]) == 0
    error_message = "no input read and no publish without an input prefix or topics"
  }
  assert {
    condition     = output.async_failure_s3_uri == "s3://byo-data/async/output"
    error_message = "failures land with the output without a failure prefix"
  }
}

run "a_multi_model_variant_serves_a_prefix" {
  command = plan

  variables {
    variants = { mme = { model_data_url = "s3://byo-data/models/mme/", multi_model = true } }
  }

  assert {
    condition     = aws_sagemaker_model.this["mme"].primary_container[0].mode == "MultiModel" && aws_sagemaker_model.this["mme"].primary_container[0].model_data_url == "s3://byo-data/models/mme/"
    error_message = "the model's container is MultiModel over the prefix"
  }
  assert {
    condition     = output.multi_model_prefixes == { mme = "s3://byo-data/models/mme/" } && output.variant_kinds == { mme = "multi-model" }
    error_message = "the multi-model prefix and kind are exported"
  }
}

run "a_shadow_variant_gets_its_own_model_and_shares_capture" {
  command = plan

  variables {
    variants = { champion = { model_data_url = "s3://byo-data/models/aaa/model.tar.gz", initial_weight = 2 } }
    shadow_variants = {
      shadow = { model_data_url = "s3://byo-data/models/bbb/model.tar.gz", instance_type = "ml.c5.large" }
    }
  }

  assert {
    condition     = [for v in aws_sagemaker_endpoint_configuration.this[0].shadow_production_variants : [v.variant_name, v.model_name, v.instance_type, v.initial_instance_count, v.initial_variant_weight]] == [["shadow", aws_sagemaker_model.this["shadow"].name, "ml.c5.large", 1, 1]]
    error_message = "the shadow variant serves its own model with its instance settings and weight"
  }
  assert {
    condition     = [for v in aws_sagemaker_endpoint_configuration.this[0].production_variants : v.variant_name] == ["champion"]
    error_message = "the shadow is not a production variant"
  }
  assert {
    condition     = can(regex("^byo-shadow-[0-9a-f]{8}$", aws_sagemaker_model.this["shadow"].name)) && aws_sagemaker_model.this["shadow"].primary_container[0].model_data_url == "s3://byo-data/models/bbb/model.tar.gz"
    error_message = "the shadow's model is named as the production ones and carries its artifact"
  }
  assert {
    condition     = aws_sagemaker_endpoint_configuration.this[0].data_capture_config[0].enable_capture
    error_message = "data capture applies to the endpoint, shadow included"
  }
  assert {
    condition     = output.shadow_variant_names == tolist(["shadow"]) && output.variant_names == tolist(["champion"]) && keys(output.variant_kinds) == ["champion", "shadow"]
    error_message = "shadow and production variant names are exported apart"
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
      output.execution_role_arn, output.image, output.data_capture_s3_uri, output.shadow_variant_names,
      output.variant_kinds, output.multi_model_prefixes, output.async_output_s3_uri, output.async_failure_s3_uri,
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

# Rejects, in one plan: a bad name, a bad key ARN, a bad bucket ARN and subnets without
# security groups. None of these validations reads another of them; variants, shadow_variants,
# data_capture and async_inference stay valid here, because their validations read name and
# model_bucket_arn and are skipped when those are invalid.
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # a bad name
    name = "Bad_Name"
    # a bad key ARN
    kms_key_arn = "alias/platform"
    # a bad bucket ARN
    model_bucket_arn = "arn:aws:s3:::byo-data/models"
    # subnets without security groups (vpc_security_group_ids stays empty)
    vpc_subnet_ids = ["subnet-a"]
  }
  expect_failures = [
    var.name,
    var.kms_key_arn,
    var.model_bucket_arn,
    var.vpc_security_group_ids,
  ]
}

# Rejects, in one plan: sampling above 100 (data_capture) and a non-S3 async output.
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    # sampling above 100
    data_capture = { destination_s3_uri = "s3://byo-data/captures/", sampling_percentage = 101 }
    # a non-S3 async output
    async_inference = { output_s3_uri = "https://byo-data/async/output/" }
  }
  expect_failures = [
    var.data_capture,
    var.async_inference,
  ]
}

# Rejects, in one plan: a non-S3 capture URI (data_capture) and a non-SNS async topic.
run "rejects_bad_inputs_3" {
  command = plan
  variables {
    # a non-S3 capture URI
    data_capture = { destination_s3_uri = "byo-data/captures/" }
    # a non-SNS async topic
    async_inference = { output_s3_uri = "s3://byo-data/async/output/", success_topic_arn = "arn:aws:sqs:eu-west-1:111122223333:q" }
  }
  expect_failures = [
    var.data_capture,
    var.async_inference,
  ]
}

# Rejects, in one plan: capturing nothing (data_capture) and async concurrency above 1000.
run "rejects_bad_inputs_4" {
  command = plan
  variables {
    # capturing nothing
    data_capture = { destination_s3_uri = "s3://byo-data/captures/", capture_input = false, capture_output = false }
    # async concurrency above 1000
    async_inference = { output_s3_uri = "s3://byo-data/async/output/", max_concurrent_invocations_per_instance = 1001 }
  }
  expect_failures = [
    var.data_capture,
    var.async_inference,
  ]
}

# Rejects, in one plan: data capture (the file's default) and async inference beside a valid
# serverless variant. variants must be valid here: the serverless exclusions read it.
run "rejects_bad_inputs_5" {
  command = plan
  variables {
    # a valid serverless variant (context, not a bad value)
    variants = { s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 } } }
    # async inference with serverless
    async_inference = { output_s3_uri = "s3://byo-data/async/output/" }
    # data_capture keeps the file's default: data capture with serverless
  }
  expect_failures = [
    var.data_capture,
    var.async_inference,
  ]
}

run "rejects_serverless_memory_off_the_1_gb_steps" {
  command = plan
  variables {
    variants     = { s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1500, max_concurrency = 5 } } }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_serverless_max_concurrency_above_200" {
  command = plan
  variables {
    variants     = { s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 201 } } }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_provisioned_concurrency_above_max_concurrency" {
  command = plan
  variables {
    variants     = { s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5, provisioned_concurrency = 6 } } }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_an_instance_type_beside_serverless" {
  command = plan
  variables {
    variants     = { s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 }, instance_type = "ml.m5.large" } }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_a_multi_model_serverless_variant" {
  command = plan
  variables {
    variants     = { s = { model_data_url = "s3://byo-data/models/mme/", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 }, multi_model = true } }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_serverless_and_instance_variants_mixed" {
  command = plan
  variables {
    variants = {
      s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 } }
      i = { model_data_url = "s3://byo-data/models/a/model.tar.gz" }
    }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_two_serverless_variants" {
  command = plan
  variables {
    variants = {
      a = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 } }
      b = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 } }
    }
    data_capture = null
  }
  expect_failures = [var.variants]
}

run "rejects_serverless_in_a_vpc" {
  command = plan
  variables {
    variants               = { s = { model_data_url = "s3://byo-data/models/a/model.tar.gz", serverless = { memory_size_in_mb = 1024, max_concurrency = 5 } } }
    data_capture           = null
    vpc_subnet_ids         = ["subnet-1"]
    vpc_security_group_ids = ["sg-1"]
  }
  expect_failures = [var.variants]
}

run "rejects_a_multi_model_url_without_trailing_slash" {
  command = plan
  variables {
    variants = { mme = { model_data_url = "s3://byo-data/models/mme", multi_model = true } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_prefix_url_without_multi_model" {
  command = plan
  variables {
    variants = { mme = { model_data_url = "s3://byo-data/models/mme/" } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_multi_model_prefix_outside_the_model_prefix" {
  command = plan
  variables {
    variants = { mme = { model_data_url = "s3://byo-data/other/mme/", multi_model = true } }
  }
  expect_failures = [var.variants]
}

run "rejects_two_shadow_variants" {
  command = plan
  variables {
    variants = { champion = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
    shadow_variants = {
      s1 = { model_data_url = "s3://byo-data/models/a/model.tar.gz" }
      s2 = { model_data_url = "s3://byo-data/models/a/model.tar.gz" }
    }
  }
  expect_failures = [var.shadow_variants]
}

run "rejects_a_shadow_beside_two_production_variants" {
  command = plan
  variables {
    shadow_variants = { shadow = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
  }
  expect_failures = [var.shadow_variants]
}

run "rejects_a_shadow_named_as_the_production_variant" {
  command = plan
  variables {
    variants        = { champion = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
    shadow_variants = { champion = { model_data_url = "s3://byo-data/models/b/model.tar.gz" } }
  }
  expect_failures = [var.shadow_variants]
}

run "rejects_a_shadow_outside_the_model_prefix" {
  command = plan
  variables {
    variants        = { champion = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
    shadow_variants = { shadow = { model_data_url = "s3://elsewhere/models/b/model.tar.gz" } }
  }
  expect_failures = [var.shadow_variants]
}

run "rejects_a_serverless_shadow_with_bad_memory" {
  command = plan
  variables {
    variants        = { champion = { model_data_url = "s3://byo-data/models/a/model.tar.gz" } }
    shadow_variants = { shadow = { model_data_url = "s3://byo-data/models/b/model.tar.gz", serverless = { memory_size_in_mb = 512, max_concurrency = 5 } } }
    data_capture    = null
  }
  expect_failures = [var.shadow_variants]
}
