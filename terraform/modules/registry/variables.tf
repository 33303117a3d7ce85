variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix of the model package group (\"<name>-models\") and the pipeline role (\"<name>-sagemaker-pipeline\"); lowercase letters, digits, hyphens."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "create_model_package_group" {
  description = "Create the model package group (model registry) for the endpoint's model versions."
  type        = bool
  default     = true
}

variable "model_package_group_name" {
  description = "Name of the model package group. null derives \"<name>-models\"."
  type        = string
  default     = null

  validation {
    condition     = var.model_package_group_name == null || can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.model_package_group_name))
    error_message = "model_package_group_name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "create_pipeline_role" {
  description = "Create the execution role of the SageMaker pipeline that trains, registers and deploys the endpoint's model versions (`byo pipeline upsert`), which its processing and training jobs run as too."
  type        = bool
  default     = true
}

variable "endpoint_name" {
  description = "The SageMaker endpoint the pipeline deploys to; its models and endpoint configs are named \"<endpoint_name>-*\" (the endpoint module's endpoint_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.endpoint_name))
    error_message = "endpoint_name must be the endpoint module's name: 2-21 characters, a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "endpoint_role_arn" {
  description = "Execution role of the endpoint's models (the endpoint module's execution_role_arn): the deploy step passes it to the models it creates."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.endpoint_role_arn))
    error_message = "endpoint_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>), e.g. module.endpoint.execution_role_arn."
  }
}

variable "bucket_arn" {
  description = "The data bucket: the pipelines' data, cache and job outputs under pipelines_prefix (s3://<bucket>/<pipelines_prefix><pipeline name>/...), the model artifacts under models_prefix and the trained models under <models_prefix>pipelines/, where the endpoint's role reads them."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_arn))
    error_message = "bucket_arn must be an S3 bucket ARN, e.g. \"arn:aws:s3:::my-bucket\" (no object path)."
  }
}

variable "pipelines_prefix" {
  description = "Key prefix of the pipelines' data in the bucket (the storage module's prefixes.pipelines)."
  type        = string
  default     = "pipelines/"

  validation {
    condition     = endswith(var.pipelines_prefix, "/") && length(var.pipelines_prefix) > 1 && !startswith(var.pipelines_prefix, "/") && !strcontains(var.pipelines_prefix, "*")
    error_message = "pipelines_prefix must be a key prefix ending in \"/\", without a leading \"/\" or wildcards, e.g. \"pipelines/\"."
  }
}

variable "models_prefix" {
  description = "Key prefix of the model artifacts in the bucket (the endpoint module's model_prefix): the pipeline reads models there and writes trained ones under <models_prefix>pipelines/."
  type        = string
  default     = "models/"

  validation {
    condition     = !startswith(var.models_prefix, "/") && !strcontains(var.models_prefix, "*")
    error_message = "models_prefix must be a key prefix without a leading \"/\" or wildcards, e.g. \"models/\"."
  }
}

variable "operator_repository_arn" {
  description = "ECR repository of the operators image (operators/Dockerfile) the pipeline's jobs run (the ecr module's repository_arns[\"operators\"])."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.operator_repository_arn))
    error_message = "operator_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>) holding the operators image."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key: bucket objects, the jobs' outputs and storage volumes."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "jobs_in_vpc" {
  description = "The pipeline's jobs run in your subnets (the platform runs them in its private subnets): the role may manage their network interfaces."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
