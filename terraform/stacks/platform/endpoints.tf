# ---------------------------------------------------------------------------------------------
# Optional endpoint kinds, each off by default (null): a serverless endpoint, an asynchronous
# endpoint, a multi-model endpoint and an endpoint with a shadow variant, each its own endpoint
# (<name>-serverless, <name>-async, <name>-mme, <name>-shadow) serving the initial model.
# ---------------------------------------------------------------------------------------------

variable "serverless_endpoint" {
  description = <<-EOT
    A serverless endpoint <name>-serverless (variant "serverless") serving the initial model on
    Serverless Inference: memory_size_in_mb (1024-6144 in 1024 steps), max_concurrency (1-200),
    provisioned_concurrency (null: on demand only). With provisioned concurrency, autoscaling
    holds its utilization at 0.5 between provisioned_concurrency and max_provisioned_concurrency
    (null: max_concurrency). Serverless endpoints run outside the VPC and capture no data
    (AWS's exclusions). null: none.
  EOT
  type = object({
    memory_size_in_mb           = optional(number, 2048)
    max_concurrency             = optional(number, 5)
    provisioned_concurrency     = optional(number)
    max_provisioned_concurrency = optional(number)
  })
  default = null
}

variable "async_endpoint" {
  description = <<-EOT
    An asynchronous endpoint <name>-async (variant "async", InvokeEndpointAsync) serving the
    initial model on instance_type (null: var.instance_type): requests are read from the data
    bucket's async/input/, results written to async/output/, errors to async/failures/, and the
    <name>-async-success / <name>-async-error topics notified (KMS-encrypted). Each instance runs
    max_concurrent_invocations_per_instance requests at once; autoscaling follows the backlog
    (target_backlog_per_instance per instance) between min_instances (0: scale to zero) and
    max_instances, scaling out from zero on the HasBacklogWithoutCapacity alarm. null: none.
  EOT
  type = object({
    instance_type                           = optional(string)
    min_instances                           = optional(number, 0)
    max_instances                           = optional(number, 2)
    max_concurrent_invocations_per_instance = optional(number, 4)
    target_backlog_per_instance             = optional(number, 5)
  })
  default = null
}

variable "multi_model_endpoint" {
  description = "A multi-model endpoint <name>-mme (variant \"mme\") on instance_type (null: var.instance_type) serving every model.tar.gz under s3://<data bucket>/<models prefix>mme/; the initial model is copied there as initial.tar.gz (TargetModel \"initial.tar.gz\"), `byo model add-to-mme` adds others. null: none."
  type = object({
    instance_type = optional(string)
  })
  default = null
}

variable "shadow_variant" {
  description = <<-EOT
    An endpoint <name>-shadow whose production variant ("production") and shadow variant
    ("shadow", on instance_type, null: var.instance_type) both serve the initial model; the
    shadow receives initial_weight / 1 of the requests (1: all), its answers are captured under
    its own variant name. A separate endpoint because SageMaker allows a shadow only beside one
    production variant (the platform's endpoint has several), and the operators own the main
    endpoint's live config (`byo deploy`, `byo shadow promote`). null: none.
  EOT
  type = object({
    instance_type  = optional(string)
    initial_weight = optional(number, 1)
  })
  default = null
}

locals {
  initial_model_s3_uri = "s3://${module.storage.bucket_name}/${aws_s3_object.initial_model.key}"
  mme_prefix           = "${module.storage.prefixes.models}mme/"
  async_s3_uris = {
    input   = "s3://${module.storage.bucket_name}/async/input/"
    output  = "s3://${module.storage.bucket_name}/async/output/"
    failure = "s3://${module.storage.bucket_name}/async/failures/"
  }
  async_topics = var.async_endpoint == null ? {} : { success = "${var.name}-async-success", error = "${var.name}-async-error" }

  # Each kind that is on, as the endpoint module's arguments (endpoint <name>-<kind>). Every
  # kind but serverless (which AWS runs outside any VPC) sits in the private subnets.
  endpoint_kinds = { for kind, e in {
    serverless = var.serverless_endpoint == null ? null : {
      variants = {
        serverless = {
          model_data_url = local.initial_model_s3_uri
          serverless = {
            memory_size_in_mb       = var.serverless_endpoint.memory_size_in_mb
            max_concurrency         = var.serverless_endpoint.max_concurrency
            provisioned_concurrency = var.serverless_endpoint.provisioned_concurrency
          }
        }
      }
      in_vpc = false
    }
    async = var.async_endpoint == null ? null : {
      variants = {
        async = {
          model_data_url = local.initial_model_s3_uri
          instance_type  = coalesce(var.async_endpoint.instance_type, var.instance_type)
        }
      }
      async_inference = {
        input_s3_uri                            = local.async_s3_uris.input
        output_s3_uri                           = local.async_s3_uris.output
        failure_s3_uri                          = local.async_s3_uris.failure
        success_topic_arn                       = aws_sns_topic.async["success"].arn
        error_topic_arn                         = aws_sns_topic.async["error"].arn
        max_concurrent_invocations_per_instance = var.async_endpoint.max_concurrent_invocations_per_instance
      }
    }
    mme = var.multi_model_endpoint == null ? null : {
      variants = {
        mme = {
          model_data_url = "s3://${module.storage.bucket_name}/${local.mme_prefix}"
          multi_model    = true
          instance_type  = coalesce(var.multi_model_endpoint.instance_type, var.instance_type)
        }
      }
    }
    shadow = var.shadow_variant == null ? null : {
      variants = {
        production = {
          model_data_url = local.initial_model_s3_uri
          instance_type  = var.instance_type
        }
      }
      shadow_variants = {
        shadow = {
          model_data_url = local.initial_model_s3_uri
          instance_type  = coalesce(var.shadow_variant.instance_type, var.instance_type)
          initial_weight = var.shadow_variant.initial_weight
        }
      }
      data_capture = {
        destination_s3_uri  = local.capture_s3_uri
        sampling_percentage = var.capture_sampling_percentage
      }
    }
  } : kind => e if e != null }

  # Autoscaling of the kinds that scale: serverless on provisioned concurrency (when it has
  # some), asynchronous on its backlog, down to zero.
  endpoint_kind_scaling = merge(
    try(var.serverless_endpoint.provisioned_concurrency, null) == null ? {} : {
      serverless = {
        provisioned_concurrency = {
          serverless = {
            min_capacity = var.serverless_endpoint.provisioned_concurrency
            max_capacity = coalesce(var.serverless_endpoint.max_provisioned_concurrency, var.serverless_endpoint.max_concurrency)
          }
        }
      }
    },
    var.async_endpoint == null ? {} : {
      async = {
        async_backlog = {
          async = {
            min_capacity                = var.async_endpoint.min_instances
            max_capacity                = var.async_endpoint.max_instances
            target_backlog_per_instance = var.async_endpoint.target_backlog_per_instance
          }
        }
      }
    },
  )
}

resource "aws_sns_topic" "async" {
  for_each = local.async_topics

  name              = each.value
  kms_master_key_id = module.kms.key_arn

  tags = merge({ Name = each.value }, var.tags)
}

# The multi-model endpoint serves every model.tar.gz under the models prefix's mme/.
resource "aws_s3_object" "mme_initial_model" {
  count = var.multi_model_endpoint == null ? 0 : 1

  bucket = module.storage.bucket_name
  key    = "${local.mme_prefix}initial.tar.gz"
  source = var.initial_model_path
  # The key is fixed (it is the TargetModel): a new initial model replaces the object's content.
  source_hash = local.initial_model_digest
  kms_key_id  = module.kms.key_arn
}

module "endpoint_kind" {
  source   = "../../modules/endpoint"
  for_each = local.endpoint_kinds

  name                   = "${var.name}-${each.key}"
  variants               = each.value.variants
  shadow_variants        = try(each.value.shadow_variants, {})
  async_inference        = try(each.value.async_inference, null)
  data_capture           = try(each.value.data_capture, null)
  default_image          = var.serving_image
  kms_key_arn            = module.kms.key_arn
  model_bucket_arn       = module.storage.bucket_arn
  model_prefix           = module.storage.prefixes.models
  ecr_repository_arns    = [module.ecr.repository_arns["serving"]]
  vpc_subnet_ids         = try(each.value.in_vpc, true) ? module.network.private_subnet_ids : []
  vpc_security_group_ids = try(each.value.in_vpc, true) ? [module.network.endpoint_security_group_id] : []
  tags                   = var.tags
}

module "endpoint_kind_autoscaling" {
  source   = "../../modules/autoscaling"
  for_each = local.endpoint_kind_scaling

  endpoint_name           = module.endpoint_kind[each.key].endpoint_name
  provisioned_concurrency = try(each.value.provisioned_concurrency, {})
  async_backlog           = try(each.value.async_backlog, {})
  tags                    = var.tags
}

# ---------------------------------------------------------------------------------------------
# Outputs (null when the kind is off)
# ---------------------------------------------------------------------------------------------
output "serverless_endpoint_name" {
  description = "Name of the serverless endpoint (null without serverless_endpoint)."
  value       = try(module.endpoint_kind["serverless"].endpoint_name, null)
}

output "async_endpoint_name" {
  description = "Name of the asynchronous endpoint (null without async_endpoint)."
  value       = try(module.endpoint_kind["async"].endpoint_name, null)
}

output "async_s3_uris" {
  description = "Where the asynchronous endpoint reads requests (input), writes results (output) and errors (failure); null without async_endpoint."
  value       = var.async_endpoint == null ? null : local.async_s3_uris
}

output "async_topic_arns" {
  description = "SNS topics the asynchronous endpoint notifies (success, error); null without async_endpoint."
  value       = var.async_endpoint == null ? null : { for k, t in aws_sns_topic.async : k => t.arn }
}

output "multi_model_endpoint_name" {
  description = "Name of the multi-model endpoint (null without multi_model_endpoint)."
  value       = try(module.endpoint_kind["mme"].endpoint_name, null)
}

output "multi_model_prefix" {
  description = "S3 prefix the multi-model endpoint serves models from (its TargetModel is a key under it, e.g. initial.tar.gz); null without multi_model_endpoint."
  value       = try(module.endpoint_kind["mme"].multi_model_prefixes["mme"], null)
}

output "shadow_endpoint_name" {
  description = "Name of the endpoint with the shadow variant (null without shadow_variant)."
  value       = try(module.endpoint_kind["shadow"].endpoint_name, null)
}

output "endpoint_kinds" {
  description = "Every endpoint of the stack and the kind of each of its variants (endpoint name => variant name => instance, serverless or multi-model)."
  value = merge(
    { (module.endpoint.endpoint_name) = module.endpoint.variant_kinds },
    { for m in module.endpoint_kind : m.endpoint_name => m.variant_kinds },
  )
}
