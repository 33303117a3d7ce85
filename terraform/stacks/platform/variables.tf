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
  description = "Target the embedded AWS emulator (test credentials, path-style S3, fast failure on unsupported calls). false for real AWS."
  type        = bool
  default     = true
}

variable "environment" {
  description = "\"prod\" runs every variant on 2 instances (high availability); \"dev\" on 1."
  type        = string
  default     = "prod"

  validation {
    condition     = contains(["prod", "dev"], var.environment)
    error_message = "environment must be \"prod\" (2 instances per variant) or \"dev\" (1 instance)."
  }
}

variable "az_count" {
  description = "Availability zones the private subnets span (>= 2)."
  type        = number
  default     = 2
}

variable "variant_weights" {
  description = "Production variants of the endpoint's initial configuration and their relative integer weights; all serve the initial model until the operators deploy others."
  type        = map(number)
  default     = { "variant-a" = 9, "variant-b" = 1 }
}

variable "instance_type" {
  description = "SageMaker instance type of every variant."
  type        = string
  default     = "ml.m5.large"
}

variable "max_instances" {
  description = "Autoscaling ceiling per variant."
  type        = number
  default     = 4

  validation {
    condition     = var.max_instances >= 1 && floor(var.max_instances) == var.max_instances
    error_message = "max_instances must be a whole number >= 1."
  }
}

variable "target_invocations_per_instance" {
  description = "Autoscaling target: invocations per instance per minute each variant is scaled to."
  type        = number
  default     = 100
}

variable "capture_sampling_percentage" {
  description = "Share of endpoint requests and responses written to data capture (0-100)."
  type        = number
  default     = 100
}

variable "serving_image" {
  description = "Container image of every variant; null uses AWS's prebuilt SageMaker XGBoost image. Set to the serving ECR repository's image for the BYO container."
  type        = string
  default     = null
}

variable "enable_pipeline" {
  description = "Create the role of the SageMaker pipeline that `byo pipeline upsert` creates (and its jobs run as): least privilege on the pipelines prefix, the model registry, this endpoint and the operators image."
  type        = bool
  default     = true
}

variable "initial_model_path" {
  description = "Local model.tar.gz the endpoint starts with (`make` passes build/model/model.tar.gz, which `make model` builds). Plan and destroy work while the file does not exist; apply uploads it."
  type        = string

  validation {
    condition     = endswith(var.initial_model_path, ".tar.gz")
    error_message = "initial_model_path must point to a model.tar.gz (the SageMaker model artifact), e.g. build/model/model.tar.gz from `make model`."
  }
}

variable "trigger_package_path" {
  description = "Zip of the trigger Lambda (`make` passes build/lambda/trigger.zip, which `make lambda-package` builds). Plan and destroy work while the file does not exist; an apply that creates or updates the function uploads it."
  type        = string

  validation {
    condition     = endswith(var.trigger_package_path, ".zip")
    error_message = "trigger_package_path must point to the trigger's .zip package, e.g. build/lambda/trigger.zip from `make lambda-package`."
  }
}

variable "force_destroy" {
  description = "Let destroy delete a data bucket and ECR repositories that still hold objects/images. null: true on the emulator (throwaway by nature), false on AWS (empty them, or set this, before destroying)."
  type        = bool
  default     = null
}

variable "tags" {
  description = "Extra tags for every resource."
  type        = map(string)
  default     = {}
}
