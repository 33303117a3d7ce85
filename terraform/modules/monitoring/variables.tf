variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix of the job (<name>-monitor), its roles, log group, schedule and alarms (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key: encrypts the log group; the job uses it for the bucket's data. Its key policy must let CloudWatch Logs use it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. the kms module's key_arn output."
  }
}

variable "endpoint_name" {
  description = "Name of the SageMaker endpoint whose captured traffic the job checks (the metrics' Endpoint dimension)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be a SageMaker endpoint name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "image" {
  description = "Image URI of the operators image (operators/Dockerfile, ENTRYPOINT byo) the job runs, e.g. \"<account>.dkr.ecr.<region>.amazonaws.com/byo/operators:1.0.0\"."
  type        = string

  validation {
    condition     = length(trimspace(var.image)) > 0 && !can(regex("\\s", var.image))
    error_message = "image must be a container image URI without spaces (e.g. \"<account>.dkr.ecr.<region>.amazonaws.com/byo/operators:1.0.0\")."
  }
}

variable "image_repository_arn" {
  description = "ECR repository ARN the execution role may pull the image from (the ecr module's repository_arns[\"operators\"]); null for an image outside ECR, which needs no ECR permissions."
  type        = string
  default     = null

  validation {
    condition     = var.image_repository_arn == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.image_repository_arn))
    error_message = "image_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>), or null for an image outside ECR."
  }
}

variable "job_queue_arn" {
  description = "ARN of the Batch job queue the schedule submits the job to (the batch module's job_queue_arn); its compute environment decides subnets and security groups."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/[A-Za-z0-9_-]+$", var.job_queue_arn))
    error_message = "job_queue_arn must be a Batch job queue ARN: arn:aws:batch:<region>:<account>:job-queue/<name> (e.g. the batch module's job_queue_arn output)."
  }
}

variable "job_definition_arn" {
  description = "Revisioned ARN of the job's definition, which the batch module creates from this module's job_definition output (its job_definition_arns[\"monitor\"]). null only with create = false."
  type        = string

  validation {
    condition     = var.job_definition_arn == null ? !var.create : can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-definition/[A-Za-z0-9_-]+:[0-9]+$", var.job_definition_arn))
    error_message = "job_definition_arn must be a revisioned Batch job definition ARN, arn:aws:batch:<region>:<account>:job-definition/<name>:<revision> (the batch module's job_definition_arns[\"monitor\"]); null only with create = false."
  }
}

variable "sns_topic_arn" {
  description = "ARN of the SNS topic the alarms notify on ALARM and OK (the observability module's sns_topic_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>), e.g. the observability module's sns_topic_arn output."
  }
}

variable "data_bucket_name" {
  description = "Name of the data bucket the job reads and writes (the storage module's bucket_name)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_name))
    error_message = "data_bucket_name must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens), e.g. the storage module's bucket_name output."
  }
}

variable "data_bucket_arn" {
  description = "ARN of the same data bucket (the storage module's bucket_arn)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_arn)) && endswith(var.data_bucket_arn, ":::${var.data_bucket_name}")
    error_message = "data_bucket_arn must be the S3 bucket ARN of data_bucket_name (arn:aws:s3:::<data_bucket_name>), not an object ARN."
  }
}

variable "data_prefixes" {
  description = "The data bucket's layout (the storage module's prefixes output): the job reads ground_truth, monitoring and models (defaults \"ground-truth/\", \"monitoring/\", \"models/\"), writes monitoring, and gets the whole map as BYO_DATA_PREFIXES."
  type        = map(string)
  default     = {}
  nullable    = false

  validation {
    condition     = alltrue([for p in values(var.data_prefixes) : can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", p))])
    error_message = "data_prefixes values must be bucket prefixes ending in \"/\" without a leading one (e.g. \"ground-truth/\", \"monitoring/\", \"models/\")."
  }
}

variable "capture_s3_uri" {
  description = "Where the endpoint writes data capture: a prefix of the data bucket, s3://<data_bucket_name>/<prefix>."
  type        = string

  validation {
    condition     = startswith(var.capture_s3_uri, "s3://${var.data_bucket_name}/") && length(trimsuffix(var.capture_s3_uri, "/")) > length("s3://${var.data_bucket_name}/")
    error_message = "capture_s3_uri must be a prefix of the data bucket, s3://<data_bucket_name>/<prefix> (e.g. \"s3://byo-data-…/captures\"), where the endpoint writes data capture."
  }
}

variable "schedule_expression" {
  description = "EventBridge schedule of the job: rate(...) or cron(...)."
  type        = string
  default     = "rate(1 hour)"

  validation {
    condition = (
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.schedule_expression))
      || can(regex("^cron\\([^ ()]+( [^ ()]+){5}\\)$", var.schedule_expression))
    )
    error_message = "schedule_expression must be an EventBridge schedule: rate(1 hour), rate(2 hours), rate(30 minutes) (singular unit for 1, plural otherwise) or cron(<6 fields>), e.g. cron(5 * * * ? *)."
  }
}

variable "window" {
  description = "Captured traffic each run checks, as `byo monitor run --window` takes it (e.g. 1h); match it to schedule_expression."
  type        = string
  default     = "1h"

  validation {
    condition     = can(regex("^[1-9][0-9]*[mhd]$", var.window))
    error_message = "window must be a positive whole number of minutes, hours or days, as `byo monitor run --window` takes it (e.g. \"1h\", \"90m\", \"1d\"); match it to schedule_expression."
  }
}

variable "vcpu" {
  description = "vCPUs of the job on Fargate: 0.25, 0.5, 1, 2, 4, 8 or 16."
  type        = number
  default     = 1

  validation {
    condition     = contains([0.25, 0.5, 1, 2, 4, 8, 16], var.vcpu)
    error_message = "vcpu must be a Fargate value: 0.25, 0.5, 1, 2, 4, 8 or 16."
  }
}

variable "memory_mib" {
  description = "Memory of the job in MiB, a combination Fargate allows for vcpu (e.g. 1 vCPU: 2048-8192 in 1024 steps)."
  type        = number
  default     = 4096

  # Fargate's vCPU/memory combinations (as in the batch module), so a bad pair fails at plan.
  validation {
    condition = !contains([0.25, 0.5, 1, 2, 4, 8, 16], var.vcpu) || (
      var.vcpu == 0.25 ? contains([512, 1024, 2048], var.memory_mib) :
      var.vcpu == 0.5 ? var.memory_mib >= 1024 && var.memory_mib <= 4096 && var.memory_mib % 1024 == 0 :
      var.vcpu == 1 ? var.memory_mib >= 2048 && var.memory_mib <= 8192 && var.memory_mib % 1024 == 0 :
      var.vcpu == 2 ? var.memory_mib >= 4096 && var.memory_mib <= 16384 && var.memory_mib % 1024 == 0 :
      var.vcpu == 4 ? var.memory_mib >= 8192 && var.memory_mib <= 30720 && var.memory_mib % 1024 == 0 :
      var.vcpu == 8 ? var.memory_mib >= 16384 && var.memory_mib <= 61440 && var.memory_mib % 4096 == 0 :
      var.memory_mib >= 32768 && var.memory_mib <= 122880 && var.memory_mib % 8192 == 0
    )
    error_message = "memory_mib must fit vcpu on Fargate: 0.25 vCPU: 512, 1024, 2048; 0.5: 1024-4096; 1: 2048-8192; 2: 4096-16384; 4: 8192-30720 (steps of 1024); 8: 16384-61440 (steps of 4096); 16: 32768-122880 (steps of 8192)."
  }
}

variable "timeout_seconds" {
  description = "Seconds a run's attempt may take before AWS Batch terminates it; keep it below the schedule's interval."
  type        = number
  default     = 1800

  validation {
    condition     = var.timeout_seconds >= 60 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number >= 60 (AWS Batch's minimum); keep it below the schedule's interval."
  }
}

variable "log_retention_days" {
  description = "Days the job's log group keeps events (a CloudWatch Logs retention value; 0 keeps them forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs value: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "drift_threshold" {
  description = "Alarm when the largest per-feature drift from the baseline (L-infinity distance between CDFs, 0-1) exceeds this."
  type        = number
  default     = 0.1

  validation {
    condition     = var.drift_threshold > 0 && var.drift_threshold < 1
    error_message = "drift_threshold must be between 0 and 1, exclusive: the largest per-feature L-infinity distance between baseline and current CDFs that is still fine (e.g. 0.1)."
  }
}

variable "ndcg_threshold" {
  description = "Alarm when the feature-attribution NDCG against the baseline (0-1; lower = more drift) falls below this."
  type        = number
  default     = 0.9

  validation {
    condition     = var.ndcg_threshold > 0 && var.ndcg_threshold <= 1
    error_message = "ndcg_threshold must be above 0 and at most 1: the feature-attribution NDCG below which attribution drift alarms (e.g. 0.9; 1 means the ranking never changes)."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (the batch module adds its own to the job definition)."
  type        = map(string)
  default     = {}
}
