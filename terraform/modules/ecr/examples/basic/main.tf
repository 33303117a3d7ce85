# The platform's image registry, as the platform stack creates it (the stack passes the kms
# module's key_arn where this example has a literal).
provider "aws" {
  region = "eu-west-1"
}

module "ecr" {
  source = "../.."

  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  tags        = { team = "ml" }

  # Optional:
  # repositories     = ["batch-processor", "serving", "operators"]
  # keep_last_images = 10
  # force_delete     = true # throwaway environments only
}
