variable "create" {
  description = "Create the key and its alias. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix of the platform: the alias is \"alias/<name>-platform\" (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "deletion_window_in_days" {
  description = "Days the key waits before deletion once scheduled (7-30)."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30 (AWS's limits)."
  }
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs encrypt the account's log groups in this region with the key (the platform's log groups use it)."
  type        = bool
  default     = true
}

variable "allow_cloudtrail" {
  description = "Let CloudTrail encrypt this account's trail log files with the key (the audit module's trail uses it)."
  type        = bool
  default     = false
}

variable "topic_publisher_services" {
  description = "Service principals of this account that may publish to SNS topics encrypted with the key (CloudWatch alarms, EventBridge rules). Empty grants none."
  type        = list(string)
  default     = ["cloudwatch.amazonaws.com", "events.amazonaws.com"]

  validation {
    condition     = alltrue([for s in var.topic_publisher_services : can(regex("^[a-z0-9.-]+\\.amazonaws\\.com$", s))])
    error_message = "Each topic_publisher_services entry must be a service principal such as \"cloudwatch.amazonaws.com\"."
  }
}

variable "tags" {
  description = "Tags for the key."
  type        = map(string)
  default     = {}
}
