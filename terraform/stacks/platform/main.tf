# ---------------------------------------------------------------------------------------------
# Platform composition: every module wired with the platform's defaults. Local (emulator) and
# AWS targets differ only in provider settings (providers.tf); `make` selects them.
# ---------------------------------------------------------------------------------------------
data "aws_caller_identity" "current" {}

data "aws_region" "current" {}

locals {
  force_destroy  = coalesce(var.force_destroy, var.emulator)
  instance_count = var.environment == "dev" ? 1 : 2
  variants = {
    for name, weight in var.variant_weights : name => {
      model_data_url         = "s3://${module.storage.bucket_name}/${aws_s3_object.initial_model.key}"
      image                  = var.serving_image
      instance_type          = var.instance_type
      initial_instance_count = local.instance_count
      initial_weight         = weight
    }
  }
  capture_s3_uri = "s3://${module.storage.bucket_name}/${trimsuffix(module.storage.prefixes.captures, "/")}"

  # The model's content addresses its key. Without the file (a checkout that never trained, a CI
  # machine destroying the stack) plan and destroy still evaluate: the key says it is missing,
  # and the check initial_model_exists says that an apply needs it.
  initial_model_digest = fileexists(var.initial_model_path) ? filesha256(var.initial_model_path) : "model-file-not-found"
}

# ---------------------------------------------------------------------------------------------
# The platform key, network and data at rest
# ---------------------------------------------------------------------------------------------
module "kms" {
  source = "../../modules/kms"

  name             = var.name
  allow_cloudtrail = var.enable_audit
  tags             = var.tags
}

module "storage" {
  source = "../../modules/storage"

  name          = var.name
  kms_key_arn   = module.kms.key_arn
  force_destroy = local.force_destroy
  tags          = var.tags
}

module "network" {
  source = "../../modules/network"

  name        = var.name
  az_count    = var.az_count
  kms_key_arn = module.kms.key_arn
  tags        = var.tags
}

module "ecr" {
  source = "../../modules/ecr"

  name         = var.name
  kms_key_arn  = module.kms.key_arn
  force_delete = local.force_destroy
  tags         = var.tags
}

# The first model version the endpoint serves; later versions are the operators' (byo deploy).
resource "aws_s3_object" "initial_model" {
  bucket = module.storage.bucket_name
  key    = "${module.storage.prefixes.models}initial/${local.initial_model_digest}/model.tar.gz"
  source = var.initial_model_path
  # The bucket's default SSE-KMS applies; the key is content-addressed, so the object never changes.
  kms_key_id = module.kms.key_arn
}

check "initial_model_exists" {
  assert {
    condition     = fileexists(var.initial_model_path)
    error_message = "initial_model_path ${var.initial_model_path} does not exist: apply uploads it as the endpoint's first model (`make model` builds it), and fails without it; plan and destroy work without it."
  }
}

# ---------------------------------------------------------------------------------------------
# Serving: endpoint with production variants, data capture and autoscaling
# ---------------------------------------------------------------------------------------------
module "endpoint" {
  source = "../../modules/endpoint"

  name                   = var.name
  variants               = local.variants
  kms_key_arn            = module.kms.key_arn
  model_bucket_arn       = module.storage.bucket_arn
  model_prefix           = module.storage.prefixes.models
  ecr_repository_arns    = [module.ecr.repository_arns["serving"]]
  vpc_subnet_ids         = module.network.private_subnet_ids
  vpc_security_group_ids = [module.network.endpoint_security_group_id]
  data_capture = {
    destination_s3_uri  = local.capture_s3_uri
    sampling_percentage = var.capture_sampling_percentage
  }
  tags = var.tags
}

# The endpoint's model registry, and the role of the SageMaker pipeline (`byo pipeline upsert`)
# that trains, registers and deploys its model versions; its jobs run the operators image in the
# private subnets.
module "registry" {
  source = "../../modules/registry"

  name                    = var.name
  create_pipeline_role    = var.enable_pipeline
  endpoint_name           = module.endpoint.endpoint_name
  endpoint_role_arn       = module.endpoint.execution_role_arn
  bucket_arn              = module.storage.bucket_arn
  pipelines_prefix        = module.storage.prefixes.pipelines
  models_prefix           = module.storage.prefixes.models
  operator_repository_arn = module.ecr.repository_arns["operators"]
  kms_key_arn             = module.kms.key_arn
  jobs_in_vpc             = true
  tags                    = var.tags
}

module "autoscaling" {
  source = "../../modules/autoscaling"

  endpoint_name = module.endpoint.endpoint_name
  variants = {
    for name in keys(var.variant_weights) : name => {
      min_capacity = local.instance_count
      max_capacity = max(local.instance_count, var.max_instances)
    }
  }
  target_invocations_per_instance = var.target_invocations_per_instance
  tags                            = var.tags
}

module "trigger" {
  source = "../../modules/trigger"

  name               = var.name
  package_path       = var.trigger_package_path
  data_bucket_name   = module.storage.bucket_name
  data_bucket_arn    = module.storage.bucket_arn
  input_prefix       = module.storage.prefixes.input
  job_queue_arn      = module.batch.job_queue_arn
  job_definition_arn = module.batch.job_definition_arns["scoring"]
  job_table_name     = module.storage.job_table_name
  job_table_arn      = module.storage.job_table_arn
  kms_key_arn        = module.kms.key_arn
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.batch_security_group_id]
  # The retraining loop's new-data rule listens for the bucket's events.
  eventbridge = try(var.loops.retrain_on_new_data, false) || var.enable_build # so does the build's upload rule
  tags        = var.tags
}

