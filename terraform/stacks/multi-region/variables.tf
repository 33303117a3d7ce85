variable "name" {
  description = "Name prefix of the primary region's platform; the secondary's is \"<name>-dr\" unless secondary_name says otherwise (IAM and S3 names are global, so the two must differ)."
  type        = string
  default     = "byo"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,17}$", var.name))
    error_message = "name must be 2-18 characters (the secondary adds \"-dr\"): a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "secondary_name" {
  description = "Name prefix of the secondary region's platform; null: \"<name>-dr\"."
  type        = string
  default     = null

  validation {
    condition     = var.secondary_name == null || can(regex("^[a-z][a-z0-9-]{1,20}$", var.secondary_name))
    error_message = "secondary_name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens."
  }
}

variable "primary_region" {
  description = "Region of the primary platform: where models are registered, approved and deployed first."
  type        = string
  default     = "us-east-1"
}

variable "secondary_region" {
  description = "Region of the secondary platform: model artifacts replicate to it, approved versions are mirrored into its registry, clients fail over to its endpoint."
  type        = string
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.secondary_region))
    error_message = "secondary_region must be an AWS region name such as \"us-west-2\"."
  }
}

variable "emulator" {
  description = "Target the embedded AWS emulator (it serves both regions). false for real AWS."
  type        = bool
  default     = true
}

variable "environment" {
  description = "\"prod\" (2 instances per variant) or \"dev\" (1), in both regions."
  type        = string
  default     = "prod"
}

variable "variant_weights" {
  description = "Production variants of both endpoints' initial configuration and their relative integer weights."
  type        = map(number)
  default     = { "variant-a" = 9, "variant-b" = 1 }
}

variable "instance_type" {
  description = "SageMaker instance type of every variant, in both regions."
  type        = string
  default     = "ml.m5.large"
}

variable "max_instances" {
  description = "Autoscaling ceiling per variant, in both regions (the secondary must be able to take the primary's load alone)."
  type        = number
  default     = 4
}

variable "serving_image" {
  description = "Container image of every variant in the primary; null uses AWS's prebuilt SageMaker XGBoost image of each region."
  type        = string
  default     = null
}

variable "secondary_serving_image" {
  description = "Container image of every variant in the secondary; null: the prebuilt image of that region (an ECR image of the primary region cannot serve in another region)."
  type        = string
  default     = null
}

variable "initial_model_path" {
  description = "Local model.tar.gz both endpoints start with (`make` passes build/model/model.tar.gz)."
  type        = string
}

variable "trigger_package_path" {
  description = "Zip of the trigger Lambda, for both regions (`make` passes build/lambda/trigger.zip)."
  type        = string
}

variable "replicated_prefixes" {
  description = "Prefixes of the primary data bucket replicated to the secondary's (model artifacts, by default: what the mirrored registry versions point at)."
  type        = list(string)
  default     = ["models/"]

  validation {
    condition     = length(var.replicated_prefixes) > 0 && alltrue([for p in var.replicated_prefixes : endswith(p, "/")])
    error_message = "replicated_prefixes must list at least one prefix, each ending in \"/\" (e.g. [\"models/\"])."
  }
}

variable "loops" {
  description = "The retraining and deploy loops of the primary (the platform stack's `loops`); null: none. The secondary never retrains: it serves what the primary approves."
  type        = any
  default     = null
}

variable "force_destroy" {
  description = "Let destroy delete buckets and repositories that still hold objects/images; null: true on the emulator, false on AWS."
  type        = bool
  default     = null
}

variable "tags" {
  description = "Extra tags for every resource in both regions."
  type        = map(string)
  default     = {}
}
