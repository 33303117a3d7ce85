# The hourly monitoring job, as the platform stack wires it: its job definition is an entry of the
# batch module's job_definitions, and the schedule submits that definition to the batch queue.
# (The stack passes the storage, kms, ecr, endpoint and observability modules' outputs where this
# example has literals.)
provider "aws" {
  region = "eu-west-1"
}

locals {
  data_bucket_name = "byo-data-111122223333-eu-west-1"
  kms_key_arn      = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
}

module "monitoring" {
  source = "../.."

  name                 = "byo"
  kms_key_arn          = local.kms_key_arn
  endpoint_name        = "byo-scoring"
  image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0"
  image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
  job_queue_arn        = module.batch.job_queue_arn
  job_definition_arn   = module.batch.job_definition_arns["monitor"]
  sns_topic_arn        = "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
  data_bucket_name     = local.data_bucket_name
  data_bucket_arn      = "arn:aws:s3:::${local.data_bucket_name}"
  capture_s3_uri       = "s3://${local.data_bucket_name}/captures"
  data_prefixes        = { ground_truth = "ground-truth/", monitoring = "monitoring/", models = "models/" }

  schedule_expression = "rate(1 hour)"
  window              = "1h"
  drift_threshold     = 0.1
  ndcg_threshold      = 0.9
  tags                = { team = "ml" }
}

module "batch" {
  source = "../../../batch"

  name               = "byo"
  subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
  security_group_ids = ["sg-0c3d4e5f607182930"]
  kms_key_arn        = local.kms_key_arn
  data_bucket_arn    = "arn:aws:s3:::${local.data_bucket_name}"
  job_table_arn      = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"

  job_definitions = {
    scoring = {
      image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor:1.0.0"
      image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"
    }
    # The key names the definition byo-monitor, the name the schedule submits.
    monitor = module.monitoring.job_definition
  }
  tags = { team = "ml" }
}
