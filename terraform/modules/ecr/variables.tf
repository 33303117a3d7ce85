variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix of the repositories: each is named \"<name>/<repository>\" (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "repositories" {
  description = "Repositories to create under \"<name>/\": one per image the platform builds (the Batch scoring job, the serving container, the operators image that the monitoring job and the SageMaker pipeline's jobs run)."
  type        = set(string)
  default     = ["batch-processor", "serving", "operators"]

  validation {
    condition     = length(var.repositories) >= 1
    error_message = "repositories must name at least one repository (e.g. [\"batch-processor\", \"serving\"]); use create = false for none."
  }

  validation {
    condition = alltrue([
      for r in var.repositories :
      length(r) <= 200 && can(regex("^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$", r))
    ])
    error_message = "Each repository must be a valid ECR name of at most 200 characters: lowercase letters and digits, separated by single '.', '_', '-' or '/' (e.g. \"batch-processor\")."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key that encrypts the images (the kms module's platform key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>); aliases are not accepted by ECR encryption."
  }
}

variable "keep_last_images" {
  description = "Images kept per repository (any tag status); older ones expire. Untagged images expire after 7 days regardless."
  type        = number
  default     = 10

  validation {
    condition     = var.keep_last_images >= 1 && var.keep_last_images <= 1000 && floor(var.keep_last_images) == var.keep_last_images
    error_message = "keep_last_images must be a whole number between 1 and 1000."
  }
}

variable "force_delete" {
  description = "Let `terraform destroy` delete repositories that still hold images. Keep false outside throwaway environments."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
