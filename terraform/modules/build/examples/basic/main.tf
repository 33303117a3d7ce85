# The image builds, as the platform stack wires them (the stack passes the kms, storage and ecr
# modules' outputs where this example has literals).
provider "aws" {
  region = "eu-west-1"
}

module "build" {
  source = "../.."

  name               = "byo"
  bundle_bucket_name = "byo-data-111122223333-eu-west-1"
  bundle_bucket_arn  = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  kms_key_arn        = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"

  images = {
    serving = {
      repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/serving"
      repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/serving"
      dockerfile     = "serving/Dockerfile"
    }
    batch-processor = {
      repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/batch-processor"
      repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/batch-processor"
      dockerfile     = "batch_processor/Dockerfile"
    }
    operators = {
      repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators"
      repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
      dockerfile     = "operators/Dockerfile"
      image_tag      = "0.2.0"
    }
  }
  image_tag = "0.1.0"

  tags = { team = "ml" }
}
