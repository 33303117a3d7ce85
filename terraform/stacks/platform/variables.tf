variable "name" {
  description = "Name prefix for every resource of the platform (lowercase letters, digits, hyphens)."
  type        = string
  default     = "byo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "region" {
  description = "AWS region to deploy into."
  type        = string
  default     = "us-east-1"
}

variable "emulator" {
  description = "Target the embedded AWS emulator (test credentials, path-style S3, no account lookups). false for real AWS."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
