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

  default_image = var.default_image != null ? var.default_image : try(data.aws_sagemaker_prebuilt_ecr_image.this[0].registry_path, null)
  in_vpc        = length(var.vpc_subnet_ids) > 0

  # Production and shadow variants (names are unique across both): each serves its own model.
  all_variants = merge(var.variants, var.shadow_variants)

  # What each variant's model runs: one container (a multi-model one serves every model under
  # its prefix), or a serial inference pipeline of several (each container's response is the
  # next one's request). Model names carry a hash of it: a changed model is a new model
  # (SageMaker models are immutable), created before the endpoint config that uses it.
  single_models = {
    for k, v in local.all_variants : k => {
      image          = v.image != null ? v.image : local.default_image
      model_data_url = v.model_data_url
      environment    = v.environment
      mode           = v.multi_model ? "MultiModel" : null
    } if v.containers == null
  }
  pipeline_models = {
    for k, v in local.all_variants : k => [
      for c in v.containers : {
        image              = c.image != null ? c.image : local.default_image
        model_data_url     = c.model_data_url
        environment        = c.environment
        container_hostname = c.container_hostname
      }
    ] if v.containers != null
  }
  # Null fields are left out of the hash, so models of the shapes before multi-model support
  # keep their names (nothing is replaced on upgrade).
  model_contents = merge(
    { for k, m in local.single_models : k => { for f, x in m : f => x if x != null } },
    local.pipeline_models,
  )
  model_names = {
    for k, m in local.model_contents : k => "${var.name}-${k}-${substr(sha256(jsonencode([
      m, var.enable_network_isolation, sort(var.vpc_subnet_ids), sort(var.vpc_security_group_ids),
    ])), 0, 8)}"
  }

  # Variants in name order, so the endpoint config's variant lists plan stably. A serverless
  # variant has a serverless_config and no instance fields; the others default to one
  # ml.m5.large instance.
  variant_settings = {
    for k, v in local.all_variants : k => {
      variant_name           = k
      model_name             = local.model_names[k]
      instance_type          = v.serverless == null ? coalesce(v.instance_type, "ml.m5.large") : null
      initial_instance_count = v.serverless == null ? coalesce(v.initial_instance_count, 1) : null
      serverless_config      = v.serverless
      initial_variant_weight = v.initial_weight
    }
  }
  production_variants = [for k in sort(keys(var.variants)) : local.variant_settings[k]]
  shadow_variants     = [for k in sort(keys(var.shadow_variants)) : local.variant_settings[k]]

  variant_kinds = {
    for k, v in local.all_variants : k => v.serverless != null ? "serverless" : (v.multi_model ? "multi-model" : "instance")
  }
  capture_modes = var.data_capture == null ? [] : concat(
    var.data_capture.capture_input ? ["Input"] : [],
    var.data_capture.capture_output ? ["Output"] : [],
  )

  # Endpoint configs are immutable: the name changes with the content, so a change creates a new
  # config next to the old one (create_before_destroy) for the operators to roll out.
  # Null fields and absent features are left out of the hash, so configs of the shapes before
  # serverless, asynchronous and shadow support keep their names.
  endpoint_config_name = "${var.name}-${substr(sha256(jsonencode(concat(
    [[for pv in local.production_variants : { for f, x in pv : f => x if x != null }], var.kms_key_arn, var.data_capture],
    var.async_inference == null ? [] : [{ async_inference = var.async_inference }],
    length(local.shadow_variants) == 0 ? [] : [{ shadow_variants = [for pv in local.shadow_variants : { for f, x in pv : f => x if x != null }] }],
  ))), 0, 8)}"
}

# ---------------------------------------------------------------------------------------------
# Models: one per variant and shadow variant (one container, multi-model or not, or a pipeline)
# ---------------------------------------------------------------------------------------------
resource "aws_sagemaker_model" "this" {
  for_each = local.create ? local.model_names : {}

  # checkov:skip=CKV_AWS_370:Network isolation is opt-in (var.enable_network_isolation): bring-your-own containers may need to reach AWS APIs from inside; they run in private subnets with var.vpc_subnet_ids.
  name                     = each.value
  execution_role_arn       = aws_iam_role.this[0].arn
  enable_network_isolation = var.enable_network_isolation

  dynamic "primary_container" {
    for_each = contains(keys(local.single_models), each.key) ? [local.single_models[each.key]] : []
    content {
      image          = primary_container.value.image
      model_data_url = primary_container.value.model_data_url
      environment    = primary_container.value.environment
      # MultiModel: model_data_url is a prefix; each request's TargetModel names the artifact.
      mode = primary_container.value.mode
    }
  }

  # A serial inference pipeline: the containers in the order given.
  dynamic "container" {
    for_each = lookup(local.pipeline_models, each.key, [])
    content {
      image              = container.value.image
      model_data_url     = container.value.model_data_url
      environment        = container.value.environment
      container_hostname = container.value.container_hostname
    }
  }

  dynamic "inference_execution_config" {
    for_each = contains(keys(local.pipeline_models), each.key) ? [true] : []
    content {
      mode = "Serial"
    }
  }

  dynamic "vpc_config" {
    for_each = local.in_vpc ? [true] : []
    content {
      subnets            = var.vpc_subnet_ids
      security_group_ids = var.vpc_security_group_ids
    }
  }

  tags = merge(local.tags, { Name = each.value, Variant = each.key })

  lifecycle {
    create_before_destroy = true
  }
}

# ---------------------------------------------------------------------------------------------
# Endpoint configuration: the initial variants, weights, shadow, data capture and async output
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

      dynamic "serverless_config" {
        for_each = production_variants.value.serverless_config == null ? [] : [production_variants.value.serverless_config]
        content {
          memory_size_in_mb       = serverless_config.value.memory_size_in_mb
          max_concurrency         = serverless_config.value.max_concurrency
          provisioned_concurrency = serverless_config.value.provisioned_concurrency
        }
      }
    }
  }

  # SageMaker mirrors production requests to the shadow and returns only production's answers.
  dynamic "shadow_production_variants" {
    for_each = local.shadow_variants
    content {
      variant_name           = shadow_production_variants.value.variant_name
      model_name             = aws_sagemaker_model.this[shadow_production_variants.value.variant_name].name
      instance_type          = shadow_production_variants.value.instance_type
      initial_instance_count = shadow_production_variants.value.initial_instance_count
      initial_variant_weight = shadow_production_variants.value.initial_variant_weight

      dynamic "serverless_config" {
        for_each = shadow_production_variants.value.serverless_config == null ? [] : [shadow_production_variants.value.serverless_config]
        content {
          memory_size_in_mb       = serverless_config.value.memory_size_in_mb
          max_concurrency         = serverless_config.value.max_concurrency
          provisioned_concurrency = serverless_config.value.provisioned_concurrency
        }
      }
    }
  }

  dynamic "async_inference_config" {
    for_each = var.async_inference == null ? [] : [var.async_inference]
    content {
      output_config {
        s3_output_path  = async_inference_config.value.output_s3_uri
        s3_failure_path = async_inference_config.value.failure_s3_uri
        kms_key_id      = var.kms_key_arn

        dynamic "notification_config" {
          for_each = async_inference_config.value.success_topic_arn == null && async_inference_config.value.error_topic_arn == null ? [] : [true]
          content {
            success_topic = async_inference_config.value.success_topic_arn
            error_topic   = async_inference_config.value.error_topic_arn
          }
        }
      }

      dynamic "client_config" {
        for_each = async_inference_config.value.max_concurrent_invocations_per_instance == null ? [] : [true]
        content {
          max_concurrent_invocations_per_instance = async_inference_config.value.max_concurrent_invocations_per_instance
        }
      }
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
    # The deployment config of the last rollout (byo deploy --blue-green, the deploy loop) is
    # theirs too: the provider reads it back, and a change of it replaces the endpoint.
    ignore_changes = [endpoint_config_name, deployment_config]
  }

  # The endpoint pulls the model artifacts with the role as soon as it is created.
  depends_on = [aws_iam_role_policy.this]
}
