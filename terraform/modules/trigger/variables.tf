variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix: the function is \"<name>-trigger\", its DLQ \"<name>-trigger-dlq\" (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "package_path" {
  description = "Path to the Lambda deployment zip, built outside Terraform with fixed timestamps so its hash is stable between builds."
  type        = string

  validation {
    condition     = endswith(var.package_path, ".zip")
    error_message = "package_path must point to a .zip file (the trigger package built by the project, e.g. \"build/trigger.zip\")."
  }
}

variable "handler" {
  description = "Lambda handler inside the package (module.function)."
  type        = string
  default     = "batch_processor.trigger.handler"

  validation {
    condition     = can(regex("^[A-Za-z_][A-Za-z0-9_.]*\\.[A-Za-z_][A-Za-z0-9_]*$", var.handler))
    error_message = "handler must be a dotted Python path ending in the function name, e.g. \"batch_processor.trigger.handler\"."
  }
}

variable "runtime" {
  description = "Lambda runtime; the handler is Python."
  type        = string
  default     = "python3.12"

  validation {
    condition     = can(regex("^python3\\.[0-9]+$", var.runtime))
    error_message = "runtime must be a Python 3 Lambda runtime such as \"python3.12\"."
  }
}

variable "data_bucket_name" {
  description = "Name of the data bucket whose input objects trigger jobs. The module owns the bucket's event notifications."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "data_bucket_name must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens (the storage module's bucket_name output)."
  }
}

variable "data_bucket_arn" {
  description = "ARN of the data bucket (the storage module's bucket_arn output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_arn))
    error_message = "data_bucket_arn must be an S3 bucket ARN: arn:aws:s3:::<bucket>."
  }
}

variable "input_prefix" {
  description = "Key prefix of the objects that trigger a job; the function may read only objects under it."
  type        = string
  default     = "input/"

  validation {
    condition     = !startswith(var.input_prefix, "/") && (var.input_prefix == "" || endswith(var.input_prefix, "/"))
    error_message = "input_prefix must be a key prefix without a leading slash that ends in \"/\" (e.g. \"input/\")."
  }
}

variable "input_suffix" {
  description = "Key suffix of the objects that trigger a job."
  type        = string
  default     = ".csv"
}

variable "job_queue_arn" {
  description = "ARN of the Batch job queue jobs are submitted to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/[A-Za-z0-9_-]+$", var.job_queue_arn))
    error_message = "job_queue_arn must be a Batch job queue ARN: arn:aws:batch:<region>:<account>:job-queue/<name>."
  }
}

variable "job_definition_arn" {
  description = "Revisioned ARN of the Batch job definition (…:job-definition/<name>:<revision>). The role may submit it by this ARN and by its unrevisioned form."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-definition/[A-Za-z0-9_-]+:[0-9]+$", var.job_definition_arn))
    error_message = "job_definition_arn must be a revisioned job definition ARN: arn:aws:batch:<region>:<account>:job-definition/<name>:<revision>."
  }
}

variable "job_table_name" {
  description = "Name of the DynamoDB job table (the storage module's job_table_name output)."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{3,255}$", var.job_table_name))
    error_message = "job_table_name must be 3-255 characters of letters, digits, underscores, dots and hyphens."
  }
}

variable "job_table_arn" {
  description = "ARN of the DynamoDB job table (the storage module's job_table_arn output)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.job_table_arn))
    error_message = "job_table_arn must be a DynamoDB table ARN: arn:aws:dynamodb:<region>:<account>:table/<name>."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key: encrypts the function's environment, its DLQ and its log group."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. the storage module's kms_key_arn output."
  }
}

variable "environment" {
  description = "Extra environment variables for the function, merged after the module's own (JOB_QUEUE, JOB_DEFINITION, JOB_TABLE, INPUT_PREFIX, ARRAY_THRESHOLD_BYTES), so they can override them."
  type        = map(string)
  default     = {}

  validation {
    condition     = alltrue([for k in keys(var.environment) : can(regex("^[A-Za-z][A-Za-z0-9_]*$", k))])
    error_message = "environment keys must start with a letter and hold only letters, digits and underscores (e.g. \"LOG_LEVEL\")."
  }
}

variable "array_threshold_bytes" {
  description = "Input objects larger than this many bytes are scored by an array job (ARRAY_THRESHOLD_BYTES); smaller ones by a single job."
  type        = number
  default     = 268435456

  validation {
    condition     = var.array_threshold_bytes >= 1 && floor(var.array_threshold_bytes) == var.array_threshold_bytes
    error_message = "array_threshold_bytes must be a whole number of bytes >= 1 (default 268435456 = 256 MiB)."
  }
}

variable "reserved_concurrency" {
  description = "Concurrent executions reserved for (and capping) the function, so a burst of uploads cannot flood the queue or starve other functions."
  type        = number
  default     = 10

  validation {
    condition     = var.reserved_concurrency >= 1 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number >= 1 (0 would stop the function from ever running)."
  }
}

variable "timeout_seconds" {
  description = "Function timeout in seconds (1-900)."
  type        = number
  default     = 30

  validation {
    condition     = var.timeout_seconds >= 1 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number between 1 and 900 (Lambda's limit)."
  }
}

variable "memory_mb" {
  description = "Function memory in MB (128-10240)."
  type        = number
  default     = 256

  validation {
    condition     = var.memory_mb >= 128 && var.memory_mb <= 10240 && floor(var.memory_mb) == var.memory_mb
    error_message = "memory_mb must be a whole number between 128 and 10240 (Lambda's limits)."
  }
}

variable "log_retention_days" {
  description = "Days the function's logs are kept (a CloudWatch Logs retention value; 0 keeps them forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "subnet_ids" {
  description = "Private subnets to run the function in (with security_group_ids). Empty runs it outside a VPC. In the VPC it reaches Batch through the network module's batch interface endpoint."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-z]+$", s))])
    error_message = "subnet_ids must be subnet ids (subnet-...), e.g. the network module's private_subnet_ids output."
  }
}

variable "security_group_ids" {
  description = "Security groups of the function's network interfaces when it runs in the VPC (with subnet_ids)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-z]+$", s))])
    error_message = "security_group_ids must be security group ids (sg-...)."
  }

  validation {
    condition     = (length(var.subnet_ids) == 0) == (length(var.security_group_ids) == 0)
    error_message = "Give both subnet_ids and security_group_ids to run the function in the VPC, or neither to run it outside."
  }
}

variable "dlq_message_retention_seconds" {
  description = "Seconds the dead-letter queue keeps events the function failed to process (60-1209600)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.dlq_message_retention_seconds >= 60 && var.dlq_message_retention_seconds <= 1209600 && floor(var.dlq_message_retention_seconds) == var.dlq_message_retention_seconds
    error_message = "dlq_message_retention_seconds must be a whole number between 60 and 1209600 (14 days, SQS's maximum)."
  }
}

variable "eventbridge" {
  description = "Also send the data bucket's events to EventBridge (the bucket notification is one document, owned here): the retraining loop's new-data rule listens for them."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
