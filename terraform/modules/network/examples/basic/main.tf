# The platform's private network, as the platform stack creates it (the stack passes the kms
# module's key_arn where this example has a literal).
provider "aws" {
  region = "eu-west-1"
}

module "network" {
  source = "../.."

  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab" # encrypts the flow-log group
  tags        = { team = "ml-platform" }

  # Optional:
  # vpc_cidr              = "10.42.0.0/16"
  # az_count              = 3 # or azs = ["eu-west-1a", "eu-west-1b"]
  # enable_public_subnets = true
  # enable_nat_gateway    = true
  # single_nat_gateway    = true
  # interface_endpoints   = ["sagemaker.runtime", "ecr.api", "ecr.dkr", "logs", "sts", "batch"]
}
