# The data bucket and the job table, as the platform stack creates them (the stack passes the
# kms module's key_arn where this example has a literal).
provider "aws" {
  region = "eu-west-1"
}

module "storage" {
  source = "../.."

  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  tags        = { team = "ml-platform" }

  # Optional: bring your own names, send access logs to a central bucket.
  # bucket_name       = "acme-ml-data"
  # job_table_name    = "acme-ml-jobs"
  # access_log_bucket = "acme-access-logs"
}
