# ---------------------------------------------------------------------------------------------
# The platform in two regions: the primary (registry, loops, the audit trail) and a secondary
# that serves the same approved models, so clients configured with both keep scoring when the
# primary's endpoint is gone (the failover runbook in README.md).
# ---------------------------------------------------------------------------------------------
data "aws_caller_identity" "current" {
  provider = aws.primary
}

locals {
  secondary_name = coalesce(var.secondary_name, "${var.name}-dr")
  common = {
    emulator             = var.emulator
    environment          = var.environment
    variant_weights      = var.variant_weights
    instance_type        = var.instance_type
    max_instances        = var.max_instances
    initial_model_path   = var.initial_model_path
    trigger_package_path = var.trigger_package_path
    force_destroy        = var.force_destroy
  }
}

module "primary" {
  source = "../platform"

  name                 = var.name
  region               = var.primary_region
  emulator             = local.common.emulator
  environment          = local.common.environment
  variant_weights      = local.common.variant_weights
  instance_type        = local.common.instance_type
  max_instances        = local.common.max_instances
  serving_image        = var.serving_image
  initial_model_path   = local.common.initial_model_path
  trigger_package_path = local.common.trigger_package_path
  force_destroy        = local.common.force_destroy
  loops                = var.loops
  tags                 = merge(var.tags, { Region = "primary" })
}

module "secondary" {
  source = "../platform"

  name                 = local.secondary_name
  region               = var.secondary_region
  emulator             = local.common.emulator
  environment          = local.common.environment
  variant_weights      = local.common.variant_weights
  instance_type        = local.common.instance_type
  max_instances        = local.common.max_instances
  serving_image        = var.secondary_serving_image
  initial_model_path   = local.common.initial_model_path
  trigger_package_path = local.common.trigger_package_path
  force_destroy        = local.common.force_destroy
  # Versions come from the primary's registry (mirrored), not from retraining here.
  enable_pipeline = false
  # The primary's multi-region trail records this region's calls too.
  enable_audit = false
  # The images are built once, in the primary (the bundle is uploaded to its bucket); the
  # secondary runs secondary_serving_image (`make push` to its repositories, or ECR replication).
  enable_build = false
  tags         = merge(var.tags, { Region = "secondary" })
}

check "regions_differ" {
  assert {
    condition     = var.primary_region != var.secondary_region
    error_message = "primary_region and secondary_region are both ${var.primary_region}: a second region must be another region."
  }
}

# ---------------------------------------------------------------------------------------------
# Model artifacts: the primary bucket's replicated prefixes copied to the secondary's, encrypted
# there with the secondary's key (SSE-KMS objects replicate only when the rule selects them).
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket_replication_configuration" "this" {
  provider = aws.primary

  bucket = module.primary.data_bucket
  role   = aws_iam_role.replication.arn

  dynamic "rule" {
    for_each = { for index, prefix in var.replicated_prefixes : prefix => index }
    content {
      id       = "replicate-${trimsuffix(replace(rule.key, "/", "-"), "-")}"
      priority = rule.value
      status   = "Enabled"

      filter {
        prefix = rule.key
      }

      # A model deleted in the primary stays in the secondary until someone deletes it there.
      delete_marker_replication {
        status = "Disabled"
      }

      source_selection_criteria {
        sse_kms_encrypted_objects {
          status = "Enabled"
        }
      }

      destination {
        bucket        = "arn:aws:s3:::${module.secondary.data_bucket}"
        storage_class = "STANDARD"

        encryption_configuration {
          replica_kms_key_id = module.secondary.kms_key_arn
        }
      }
    }
  }
}
