# The S3 trigger of the scoring jobs, as the platform stack wires it (the stack passes the kms,
# storage, batch and network modules' outputs where this example has literals).
provider "aws" {
  region = "eu-west-1"
}

module "trigger" {
  source = "../.."

  name               = "byo"
  package_path       = var.package_path
  data_bucket_name   = "byo-data-111122223333-eu-west-1"
  data_bucket_arn    = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  input_prefix       = "input/"
  job_queue_arn      = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  job_definition_arn = "arn:aws:batch:eu-west-1:111122223333:job-definition/byo-scoring:1"
  job_table_name     = "byo-jobs"
  job_table_arn      = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

  subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
  security_group_ids = ["sg-0c3d4e5f607182930"]

  environment = { LOG_LEVEL = "INFO" }
  tags        = { team = "ml" }
}
