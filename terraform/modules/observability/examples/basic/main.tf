# The platform's alarms, topic and dashboard, as the stack wires them (the stack passes the kms,
# endpoint, batch, trigger and monitoring modules' outputs where this example has literals).
provider "aws" {
  region = "eu-west-1"
}

module "observability" {
  source = "../.."

  name                = "byo"
  kms_key_arn         = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  alarm_emails        = ["ml-oncall@example.com"]
  endpoint_name       = "byo-scoring"
  variant_names       = ["blue", "green"]
  batch_job_queue_arn = "arn:aws:batch:eu-west-1:111122223333:job-queue/byo-scoring"
  trigger_dlq_name    = "byo-trigger-dlq"

  latency_p99_threshold_ms = 300
  tags                     = { team = "ml" }
}
