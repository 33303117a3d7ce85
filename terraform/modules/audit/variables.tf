variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null): a stack's second region leaves the trail to the primary's multi-region trail."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix for the trail, its bucket, log group, metric filters and alarms (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the trail's log files, its bucket and its log group. Its key policy must let cloudtrail.amazonaws.com generate data keys for this account's trails (the kms module's allow_cloudtrail) and CloudWatch Logs use it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. the kms module's key_arn output."
  }
}

variable "multi_region" {
  description = "Record the management calls of every region in this one trail (CloudTrail's multi-region trail). false records this region's only."
  type        = bool
  default     = true
}

variable "s3_key_prefix" {
  description = "Prefix of the log files in the trail's bucket: <prefix>/AWSLogs/<account>/CloudTrail/<region>/yyyy/mm/dd/."
  type        = string
  default     = "cloudtrail"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.s3_key_prefix)) && length(var.s3_key_prefix) <= 200
    error_message = "s3_key_prefix must be an S3 key prefix without leading or trailing slash, at most 200 characters (e.g. \"cloudtrail\")."
  }
}

variable "log_file_expiration_days" {
  description = "Days the trail's log files are kept in the bucket before they expire (older versions: noncurrent_version_expiration_days after they are replaced). With object_lock, at least its days."
  type        = number
  default     = 365

  validation {
    condition     = var.log_file_expiration_days >= 1 && floor(var.log_file_expiration_days) == var.log_file_expiration_days
    error_message = "log_file_expiration_days must be a whole number of days, at least 1."
  }
}

variable "transition_to_glacier_days" {
  description = "Days after which log files move to S3 Glacier Flexible Retrieval (null: they stay in S3 Standard). Must be under log_file_expiration_days."
  type        = number
  default     = 90

  validation {
    condition     = var.transition_to_glacier_days == null ? true : var.transition_to_glacier_days >= 1 && floor(var.transition_to_glacier_days) == var.transition_to_glacier_days
    error_message = "transition_to_glacier_days must be null or a whole number of days, at least 1."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days an overwritten or deleted log file version is kept."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days, at least 1."
  }
}

variable "object_lock" {
  description = "S3 Object Lock on the trail's bucket: every log file kept unchangeable for `days` (mode GOVERNANCE: users with s3:BypassGovernanceRetention may remove it; COMPLIANCE: nobody, not even the root user, until it expires). null: no object lock. Object Lock can only be set when the bucket is created."
  type = object({
    mode = string
    days = number
  })
  default = null

  validation {
    condition     = var.object_lock == null ? true : contains(["GOVERNANCE", "COMPLIANCE"], var.object_lock.mode)
    error_message = "object_lock.mode must be GOVERNANCE or COMPLIANCE."
  }

  validation {
    condition     = var.object_lock == null ? true : var.object_lock.days >= 1 && floor(var.object_lock.days) == var.object_lock.days
    error_message = "object_lock.days must be a whole number of days, at least 1."
  }
}

variable "log_retention_days" {
  description = "Retention of the trail's CloudWatch Logs group (where the metric filters and `byo audit` read the calls)."
  type        = number
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "trusted_role_arns" {
  description = "IAM roles whose changes to what serves do not alarm: the operators' roles (people and pipelines that deploy with `byo`), the deploy loop's roles, Application Auto Scaling's service-linked role. A call by anyone else (another role, an IAM user, the root user) counts."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.trusted_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])
    error_message = "Each trusted_role_arns entry must be an IAM role ARN (arn:aws:iam::<account>:role/<path/name>)."
  }
}

variable "alarm_topic_arn" {
  description = "SNS topic the alarms notify (null: the alarms change state and notify nobody)."
  type        = string
  default     = null

  validation {
    condition     = var.alarm_topic_arn == null ? true : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.alarm_topic_arn))
    error_message = "alarm_topic_arn must be an SNS topic ARN or null."
  }
}

variable "alarm_period_seconds" {
  description = "Period over which the alarms count untrusted changes (one is enough to alarm)."
  type        = number
  default     = 300

  validation {
    condition     = contains([60, 300, 900, 3600], var.alarm_period_seconds)
    error_message = "alarm_period_seconds must be 60, 300, 900 or 3600."
  }
}

variable "force_destroy" {
  description = "Let terraform destroy the trail's bucket with its log files in it (the embedded AWS; never for a real audit trail)."
  type        = bool
  default     = false
}

variable "access_log_bucket" {
  description = "Bucket receiving S3 server access logs of the trail's bucket (null: none)."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
