# The platform's audit trail, as the stack wires it (the stack passes the kms and observability
# modules' key and topic, the operators' roles, the loops' job roles and the pipeline role where
# this example has literals). The key's policy must allow CloudTrail: the kms module's
# allow_cloudtrail = true.
provider "aws" {
  region = "eu-west-1"
}

module "audit" {
  source = "../.."

  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  trusted_role_arns = [
    "arn:aws:iam::111122223333:role/byo-operator",
    "arn:aws:iam::111122223333:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
  ]
  alarm_topic_arn = "arn:aws:sns:eu-west-1:111122223333:byo-alarms"
  tags            = { team = "ml" }

  # Optional:
  # multi_region               = true
  # object_lock                = { mode = "COMPLIANCE", days = 365 }
  # log_file_expiration_days   = 365
  # transition_to_glacier_days = 90
}
