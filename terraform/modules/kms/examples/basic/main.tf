# The platform key, as the platform stack creates it: every other module takes its key_arn.
provider "aws" {
  region = "eu-west-1"
}

module "kms" {
  source = "../.."

  name = "byo"
  tags = { team = "ml" }

  # Optional:
  # deletion_window_in_days  = 30
  # allow_cloudwatch_logs    = true
  # topic_publisher_services = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]
}
