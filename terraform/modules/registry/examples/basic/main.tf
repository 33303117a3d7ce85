# The model registry and the SageMaker pipeline's role, as the platform stack creates them (the
# stack passes the kms, storage, ecr and endpoint modules' outputs where this example has literals).
provider "aws" {
  region = "eu-west-1"
}

module "registry" {
  source = "../.."

  name                    = "byo"
  endpoint_name           = "byo"
  endpoint_role_arn       = "arn:aws:iam::111122223333:role/byo-sagemaker-endpoint"
  bucket_arn              = "arn:aws:s3:::byo-data-111122223333-eu-west-1"
  pipelines_prefix        = "pipelines/"
  models_prefix           = "models/"
  operator_repository_arn = "arn:aws:ecr:eu-west-1:111122223333:repository/byo/operators"
  kms_key_arn             = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  # The pipeline's jobs run in the platform's private subnets.
  jobs_in_vpc = true
  tags        = { team = "ml" }
}
