variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix for the bucket and the table (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "bucket_name" {
  description = "Data bucket name. null derives \"<name>-data-<account id>-<region>\", unique per account and region."
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 characters of lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key (the kms module's key_arn) encrypting the bucket and the table."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. module.kms.key_arn."
  }
}

variable "noncurrent_version_expiration_days" {
  description = "Days a noncurrent (overwritten or deleted) object version is kept before it expires."
  type        = number
  default     = 30

  validation {
    condition     = var.noncurrent_version_expiration_days >= 1 && floor(var.noncurrent_version_expiration_days) == var.noncurrent_version_expiration_days
    error_message = "noncurrent_version_expiration_days must be a whole number of days >= 1."
  }
}

variable "force_destroy" {
  description = "Let `terraform destroy` delete a bucket that still holds objects. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "access_log_bucket" {
  description = "Bucket that receives S3 server access logs for the data bucket (prefix \"<bucket>/\"). null turns access logging off."
  type        = string
  default     = null
}

variable "job_table_name" {
  description = "DynamoDB job table name. null derives \"<name>-jobs\"."
  type        = string
  default     = null

  validation {
    condition     = var.job_table_name == null || can(regex("^[A-Za-z0-9_.-]{3,255}$", var.job_table_name))
    error_message = "job_table_name must be 3-255 characters of letters, digits, underscores, dots and hyphens."
  }
}

variable "job_ttl_attribute" {
  description = "Job-table attribute holding an epoch-seconds expiry time; DynamoDB deletes expired job records."
  type        = string
  default     = "ExpiresAt"
}

variable "deletion_protection" {
  description = "Protect the job table against deletion (turn off before destroying the stack)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
