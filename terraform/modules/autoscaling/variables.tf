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
  description = "Instance count range of each real-time variant that scales on invocations per instance, keyed by variant name (variants not listed keep a fixed count)."
  type = map(object({
    min_capacity = number
    max_capacity = number
  }))
  default = {}

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

variable "provisioned_concurrency" {
  description = <<-EOT
    Provisioned concurrency range of each serverless variant that scales, keyed by variant name:
    target tracking on sagemaker:variant:DesiredProvisionedConcurrency holds
    SageMakerVariantProvisionedConcurrencyUtilization (concurrent requests over provisioned
    concurrency) at target_utilization. max_capacity must not exceed the variant's
    max_concurrency.
  EOT
  type = map(object({
    min_capacity       = number
    max_capacity       = number
    target_utilization = optional(number, 0.5)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, _ in var.provisioned_concurrency : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", k))])
    error_message = "Each provisioned_concurrency variant name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit (the endpoint's serverless variant, e.g. \"serverless\")."
  }
  validation {
    condition = alltrue([for v in var.provisioned_concurrency :
      v.min_capacity >= 1 && floor(v.min_capacity) == v.min_capacity && v.max_capacity >= v.min_capacity && v.max_capacity <= 200 && floor(v.max_capacity) == v.max_capacity
    ])
    error_message = "Each provisioned_concurrency range is whole numbers with 1 <= min_capacity <= max_capacity <= 200 (provisioned concurrency cannot scale to 0; it is at most the variant's max_concurrency, itself at most 200)."
  }
  validation {
    condition     = alltrue([for v in var.provisioned_concurrency : v.target_utilization > 0 && v.target_utilization <= 1])
    error_message = "Each provisioned_concurrency target_utilization must be > 0 and <= 1 (the share of provisioned concurrency in use to hold, e.g. 0.5)."
  }
}

variable "async_backlog" {
  description = <<-EOT
    Backlog scaling of each variant of an asynchronous endpoint, keyed by variant name: target
    tracking holds ApproximateBacklogSizePerInstance (the endpoint's queued requests per instance)
    at target_backlog_per_instance between min_capacity (0 scales to zero instances when the
    queue is empty) and max_capacity instances. With scale_out_from_zero, a step-scaling policy
    adds one instance when the HasBacklogWithoutCapacity alarm fires (requests are waiting and no
    instance runs), as AWS's docs give, instead of waiting for the backlog to pass the target.
  EOT
  type = map(object({
    min_capacity                = optional(number, 0)
    max_capacity                = number
    target_backlog_per_instance = optional(number, 5)
    scale_out_from_zero         = optional(bool, true)
  }))
  default = {}

  validation {
    condition     = alltrue([for k, _ in var.async_backlog : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", k))])
    error_message = "Each async_backlog variant name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit (the asynchronous endpoint's variant, e.g. \"async\")."
  }
  validation {
    condition = alltrue([for v in var.async_backlog :
      v.min_capacity >= 0 && floor(v.min_capacity) == v.min_capacity && v.max_capacity >= max(v.min_capacity, 1) && floor(v.max_capacity) == v.max_capacity
    ])
    error_message = "Each async_backlog range is whole numbers of instances with 0 <= min_capacity <= max_capacity and max_capacity >= 1 (min 0 scales to zero, e.g. min 0, max 2)."
  }
  validation {
    condition     = alltrue([for v in var.async_backlog : v.target_backlog_per_instance > 0])
    error_message = "Each async_backlog target_backlog_per_instance must be > 0 (queued requests per instance to hold, e.g. 5)."
  }
  validation {
    condition     = length(distinct(concat(keys(var.variants), keys(var.provisioned_concurrency), keys(var.async_backlog)))) == length(var.variants) + length(var.provisioned_concurrency) + length(var.async_backlog)
    error_message = "A variant scales on one policy: list it once, in variants (invocations per instance), provisioned_concurrency (serverless) or async_backlog (backlog per instance)."
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
