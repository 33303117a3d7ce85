variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "endpoint_name" {
  description = "Name of the SageMaker endpoint whose variants scale."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be a SageMaker endpoint name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "variants" {
  description = "Instance count range of each variant that scales, keyed by variant name (variants not listed keep a fixed count)."
  type = map(object({
    min_capacity = number
    max_capacity = number
  }))

  validation {
    condition     = alltrue([for k, _ in var.variants : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", k))])
    error_message = "Each variant name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit (the endpoint's variant names, e.g. \"champion\")."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.min_capacity >= 1 && floor(v.min_capacity) == v.min_capacity])
    error_message = "Each variant's min_capacity must be a whole number of instances >= 1 (a real-time variant cannot scale to zero)."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.max_capacity >= v.min_capacity && floor(v.max_capacity) == v.max_capacity])
    error_message = "Each variant's max_capacity must be a whole number of instances >= its min_capacity (e.g. min 1, max 4)."
  }
}

variable "target_invocations_per_instance" {
  description = <<-EOT
    Target of SageMakerVariantInvocationsPerInstance: average invocations per instance per minute
    that each variant scales to hold. The default 100 suits a small CPU instance serving a
    lightweight model; load-test your model and set ~50-70% of the per-instance rate it sustains.
  EOT
  type        = number
  default     = 100

  validation {
    condition     = var.target_invocations_per_instance > 0
    error_message = "target_invocations_per_instance must be > 0 (invocations per instance per minute, e.g. 100)."
  }
}

variable "scale_in_cooldown" {
  description = "Seconds after a scale-in before another scale-in may start."
  type        = number
  default     = 300

  validation {
    condition     = var.scale_in_cooldown >= 0 && floor(var.scale_in_cooldown) == var.scale_in_cooldown
    error_message = "scale_in_cooldown must be a whole number of seconds >= 0 (e.g. 300)."
  }
}

variable "scale_out_cooldown" {
  description = "Seconds after a scale-out before another scale-out may start."
  type        = number
  default     = 60

  validation {
    condition     = var.scale_out_cooldown >= 0 && floor(var.scale_out_cooldown) == var.scale_out_cooldown
    error_message = "scale_out_cooldown must be a whole number of seconds >= 0 (e.g. 60)."
  }
}

variable "disable_scale_in" {
  description = "Only scale out: the policy never removes instances (scale in by hand or with the operators)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module that takes tags (the scalable targets)."
  type        = map(string)
  default     = {}
}
