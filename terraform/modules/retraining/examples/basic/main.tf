# The loops as the platform stack wires them: the module's jobs are entries of the batch module's
# job_definitions, whose ARNs come back as job_definition_arns. (The stack passes the storage,
# kms, ecr, endpoint, registry, observability and monitoring modules' outputs where this example
# has literals.)
provider "aws" {
  region = "eu-west-1"
}

locals {
  data_bucket_name = "byo-data-111122223333-eu-west-1"
  kms_key_arn      = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

module "retraining" {
  source = "../.."

  name                         = "byo"
  kms_key_arn                  = local.kms_key_arn
  image                        = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0"
  image_repository_arn         = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
  serving_image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving:1.0.0"
  job_queue_arn                = module.batch.job_queue_arn
  job_definition_arns          = { retrain = module.batch.job_definition_arns["retrain"], deploy = module.batch.job_definition_arns["deploy"] }
  job_table_name               = "byo-jobs"
  job_table_arn                = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"
  data_bucket_name             = local.data_bucket_name
  data_bucket_arn              = "arn:aws:s3:::${local.data_bucket_name}"
  sns_topic_arn                = "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
  endpoint_name                = "byo"
  model_package_group_name     = "byo-models"
  sagemaker_execution_role_arn = "arn:aws:iam::111122223333:role/byo-sagemaker"

  retrain_schedule       = "rate(7 days)"
  retrain_on_new_data    = true
  retrain_on_alarms      = ["byo-monitor-drift", "byo-monitor-model-quality"]
  alarm_cooldown_seconds = 3600
  auto_approve_if        = { auc_margin = 0.01 }
  rollback_alarm_names   = ["byo-variant-a-5xx", "byo-variant-a-latency-p99"]
  tags                   = { team = "ml" }
}

module "batch" {
  source = "../../../batch"

  name               = "byo"
  subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
  security_group_ids = ["sg-0c3d4e5f607182930"]
  kms_key_arn        = local.kms_key_arn
  data_bucket_arn    = "arn:aws:s3:::${local.data_bucket_name}"
  job_table_arn      = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"

  job_definitions = merge(
    {
      scoring = {
        image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor:1.0.0"
        image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"
      }
    },
    # Keys retrain and deploy name the definitions byo-retrain and byo-deploy.
    module.retraining.job_definitions,
  )
  tags = { team = "ml" }
}
