# The scoring job on Fargate, as the platform stack wires it (the stack passes the network,
# storage, ecr and endpoint modules' outputs where this example has literals).
provider "aws" {
  region = "eu-west-1"
}

module "batch" {
  source = "../.."

  name               = "byo"
  subnet_ids         = ["subnet-0a1b2c3d4e5f60718", "subnet-0b2c3d4e5f6071829"]
  security_group_ids = ["sg-0c3d4e5f607182930"]
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  data_bucket_arn    = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  job_table_arn      = "arn:aws:dynamodb:eu-west-1:111122223333:table/byo-jobs"
  endpoint_arns      = ["arn:aws:sagemaker:eu-west-1:111122223333:endpoint/byo-scoring"]

  job_definitions = {
    scoring = {
      image                = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor:1.0.0"
      image_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"
      # The trigger submits each object's coordinates as job parameters.
      command = [
        "--bucket", "Ref::bucket", "--key", "Ref::key", "--etag", "Ref::etag", "--version-id", "Ref::version",
        "--shards", "Ref::shards",
      ]
      environment = {
        BYO_DATA_BUCKET   = "byo-data-111122223333-eu-west-1"
        BYO_JOB_TABLE     = "byo-jobs"
        BYO_ENDPOINT_NAME = "byo-scoring"
      }
    }
  }

  # The embedded emulator (moto) rejects compute environments without a service role; on AWS
  # leave this false and Batch uses its service-linked role.
  create_service_role = false
  tags                = { team = "ml" }
}
