# ---------------------------------------------------------------------------------------------
# Audit: a CloudTrail trail of the account's management calls (every region by default), with
# alarms when what serves — the endpoint, its traffic, the registry's approvals — is changed by
# anyone but the operators' roles. `byo audit --since 1h` lists who changed what.
# ---------------------------------------------------------------------------------------------

variable "enable_audit" {
  description = "Create the audit trail (module audit): a multi-region CloudTrail trail into its own bucket and log group, with alarms on untrusted serving changes. A second region of the same account leaves it off: the primary's trail records every region."
  type        = bool
  default     = true
}

variable "audit_multi_region" {
  description = "The audit trail records every region's management calls (false: this region's only)."
  type        = bool
  default     = true
}

variable "operator_role_arns" {
  description = "IAM roles of the people and pipelines that operate the platform with `byo` (deploy, shift traffic, approve versions): their changes do not alarm. The loops' job roles, the pipeline role and Application Auto Scaling's service-linked role are trusted already."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.operator_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each operator_role_arns entry must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "audit_object_lock" {
  description = "S3 Object Lock for the audit trail's log files ({ mode = \"GOVERNANCE\" | \"COMPLIANCE\", days = N }); null: none. Only when the bucket is created."
  type = object({
    mode = string
    days = number
  })
  default = null
}

data "aws_partition" "current" {}

locals {
  # Application Auto Scaling changes a variant's capacity with UpdateEndpointWeightsAndCapacities
  # through its service-linked role.
  autoscaling_role_arn = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
  trusted_role_arns = distinct(compact(concat(
    var.operator_role_arns,
    [local.autoscaling_role_arn, module.registry.pipeline_role_arn],
    [for job in try(values(module.retraining.job_definitions), []) : job.job_role_arn],
  )))
}

module "audit" {
  source = "../../modules/audit"

  create                   = var.enable_audit
  name                     = var.name
  kms_key_arn              = module.kms.key_arn
  multi_region             = var.audit_multi_region
  trusted_role_arns        = local.trusted_role_arns
  alarm_topic_arn          = module.observability.sns_topic_arn
  object_lock              = var.audit_object_lock
  log_file_expiration_days = var.audit_object_lock == null ? 365 : max(365, var.audit_object_lock.days)
  force_destroy            = local.force_destroy
  tags                     = var.tags
}

output "audit" {
  description = "The audit trail (null with enable_audit = false): trail, bucket, log group (`byo audit` reads it), metric namespace, the alarm per kind of change and the roles trusted to change what serves."
  value = var.enable_audit ? {
    trail             = module.audit.trail_name
    bucket            = module.audit.bucket
    log_files_prefix  = module.audit.log_files_prefix
    log_group         = module.audit.log_group
    metric_namespace  = module.audit.metric_namespace
    alarm_names       = module.audit.alarm_names
    trusted_role_arns = local.trusted_role_arns
  } : null
}
