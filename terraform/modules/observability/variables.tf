variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix for the topic, alarms, rule and dashboard (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key encrypting the alarm topic. Its key policy must let cloudwatch.amazonaws.com and events.amazonaws.com use it (kms:Decrypt, kms:GenerateDataKey*)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. the storage module's kms_key_arn output."
  }
}

variable "alarm_emails" {
  description = "Email addresses subscribed to the alarm topic (each must confirm the subscription). Empty subscribes nobody."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.alarm_emails : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "alarm_emails must be email addresses such as \"ml-oncall@example.com\"."
  }
}

variable "endpoint_name" {
  description = "Name of the SageMaker endpoint whose variants are watched."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", var.endpoint_name))
    error_message = "endpoint_name must be a SageMaker endpoint name: 1-63 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "variant_names" {
  description = "Production variants of the endpoint; each gets a 5XX, a p99 latency and (optionally) an invocations-absent alarm."
  type        = list(string)

  validation {
    condition     = length(var.variant_names) >= 1 && length(distinct(var.variant_names)) == length(var.variant_names)
    error_message = "variant_names must list at least one variant, each once (e.g. [\"blue\", \"green\"])."
  }

  validation {
    condition     = alltrue([for v in var.variant_names : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", v))])
    error_message = "Each variant name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit (as in the endpoint config)."
  }
}

variable "latency_p99_threshold_ms" {
  description = "Alarm when a variant's p99 ModelLatency exceeds this many milliseconds (SageMaker reports microseconds; the module converts)."
  type        = number
  default     = 500

  validation {
    condition     = var.latency_p99_threshold_ms > 0
    error_message = "latency_p99_threshold_ms must be a positive number of milliseconds (e.g. 500)."
  }
}

variable "error_5xx_threshold" {
  description = "Alarm when a variant returns at least this many 5XX errors in a period, for evaluation_periods periods."
  type        = number
  default     = 5

  validation {
    condition     = var.error_5xx_threshold >= 1 && floor(var.error_5xx_threshold) == var.error_5xx_threshold
    error_message = "error_5xx_threshold must be a whole number of errors per period >= 1."
  }
}

variable "enable_invocations_absent_alarm" {
  description = "Alarm when a variant receives no invocations for invocations_absent_minutes (traffic stopped reaching it)."
  type        = bool
  default     = true
}

variable "invocations_absent_minutes" {
  description = "Minutes without a single invocation before a variant's invocations-absent alarm fires; a whole number of periods (15 = three 5-minute periods)."
  type        = number
  default     = 15

  validation {
    condition     = var.invocations_absent_minutes >= 1 && var.invocations_absent_minutes <= 1440 && floor(var.invocations_absent_minutes) == var.invocations_absent_minutes
    error_message = "invocations_absent_minutes must be a whole number of minutes between 1 and 1440 (one day)."
  }

  validation {
    condition     = (var.invocations_absent_minutes * 60) % var.period_seconds == 0
    error_message = "invocations_absent_minutes must be a whole number of periods: a multiple of period_seconds / 60 (e.g. 15 with 300-second periods)."
  }
}

variable "batch_job_queue_arn" {
  description = "ARN of the Batch job queue whose FAILED jobs are published to the topic and counted by an alarm."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/[A-Za-z0-9_-]+$", var.batch_job_queue_arn))
    error_message = "batch_job_queue_arn must be a Batch job queue ARN: arn:aws:batch:<region>:<account>:job-queue/<name>."
  }
}

variable "trigger_dlq_name" {
  description = "Name of the trigger's dead-letter queue (the trigger module's dlq_name output); any visible message alarms."
  type        = string

  validation {
    condition     = can(regex("^[A-Za-z0-9_-]{1,75}(\\.fifo)?$", var.trigger_dlq_name))
    error_message = "trigger_dlq_name must be an SQS queue name: up to 80 letters, digits, hyphens and underscores (e.g. \"byo-trigger-dlq\")."
  }
}

variable "evaluation_periods" {
  description = "Consecutive periods a 5XX or latency condition must hold before its alarm fires."
  type        = number
  default     = 3

  validation {
    condition     = var.evaluation_periods >= 1 && floor(var.evaluation_periods) == var.evaluation_periods
    error_message = "evaluation_periods must be a whole number >= 1."
  }

  validation {
    condition     = var.evaluation_periods * var.period_seconds <= 86400
    error_message = "evaluation_periods * period_seconds must not exceed 86400 (one day, CloudWatch's limit): lower one of them."
  }
}

variable "period_seconds" {
  description = "Period of every alarm and dashboard metric, in seconds (a multiple of 60)."
  type        = number
  default     = 300

  validation {
    condition     = var.period_seconds >= 60 && var.period_seconds % 60 == 0
    error_message = "period_seconds must be a multiple of 60 (e.g. 60 or 300): CloudWatch's standard-resolution periods."
  }
}

variable "monitoring" {
  description = <<-EOT
    The hourly model-monitoring job (`byo monitor run`) on AWS Batch; null creates none of it. An
    EventBridge schedule submits a Fargate job to job_queue_arn (subnets and security groups are
    the queue's compute environment's) that checks the captured traffic of the last `window`
    against the baselines under monitoring_prefix and publishes BYO/ModelMonitor metrics, which
    four alarms watch (feature drift above drift_threshold, data- and model-quality violations,
    feature-attribution NDCG below ndcg_threshold). image_repository_arn null derives it from an
    ECR image URI; a non-ECR image needs no ECR permissions. capture_s3_uri must lie in
    data_bucket_name.
  EOT
  type = object({
    job_queue_arn        = string
    image                = string
    image_repository_arn = optional(string)
    data_bucket_name     = string
    capture_s3_uri       = string
    ground_truth_prefix  = optional(string, "ground-truth/")
    monitoring_prefix    = optional(string, "monitoring/")
    models_prefix        = optional(string, "models/")
    schedule_expression  = optional(string, "rate(1 hour)")
    window               = optional(string, "1h")
    vcpu                 = optional(number, 1)
    memory_mib           = optional(number, 4096)
    timeout_seconds      = optional(number, 1800)
    log_retention_days   = optional(number, 365)
    drift_threshold      = optional(number, 0.1)
    ndcg_threshold       = optional(number, 0.9)
  })
  default = null

  validation {
    condition     = var.monitoring == null || try(can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/[A-Za-z0-9_-]+$", var.monitoring.job_queue_arn)), false)
    error_message = "monitoring.job_queue_arn must be a Batch job queue ARN: arn:aws:batch:<region>:<account>:job-queue/<name> (e.g. the batch module's job_queue_arn output)."
  }

  validation {
    condition     = var.monitoring == null || try(length(trimspace(var.monitoring.image)) > 0 && !can(regex("\\s", var.monitoring.image)), false)
    error_message = "monitoring.image must be a container image URI without spaces (e.g. \"<account>.dkr.ecr.<region>.amazonaws.com/byo/monitor:1.0.0\")."
  }

  validation {
    condition     = var.monitoring == null || try(var.monitoring.image_repository_arn == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", var.monitoring.image_repository_arn)), false)
    error_message = "monitoring.image_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>), or null to derive it from the image URI."
  }

  validation {
    condition     = var.monitoring == null || try(can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.monitoring.data_bucket_name)), false)
    error_message = "monitoring.data_bucket_name must be an S3 bucket name (3-63 lowercase letters, digits, dots and hyphens), e.g. the storage module's bucket_name output."
  }

  validation {
    condition     = var.monitoring == null || try(startswith(var.monitoring.capture_s3_uri, "s3://${var.monitoring.data_bucket_name}/") && length(trimsuffix(var.monitoring.capture_s3_uri, "/")) > length("s3://${var.monitoring.data_bucket_name}/"), false)
    error_message = "monitoring.capture_s3_uri must be a prefix of the data bucket, s3://<data_bucket_name>/<prefix> (e.g. \"s3://byo-data-…/captures\"), where the endpoint writes data capture."
  }

  validation {
    condition = var.monitoring == null || try(alltrue([
      for p in [var.monitoring.ground_truth_prefix, var.monitoring.monitoring_prefix, var.monitoring.models_prefix] :
      can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", p))
    ]), false)
    error_message = "monitoring.ground_truth_prefix, monitoring_prefix and models_prefix must be bucket prefixes ending in \"/\" without a leading one (e.g. \"ground-truth/\", \"monitoring/\", \"models/\")."
  }

  validation {
    condition = var.monitoring == null || try(
      can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.monitoring.schedule_expression))
      || can(regex("^cron\\([^ ()]+( [^ ()]+){5}\\)$", var.monitoring.schedule_expression)),
    false)
    error_message = "monitoring.schedule_expression must be an EventBridge schedule: rate(1 hour), rate(2 hours), rate(30 minutes) (singular unit for 1, plural otherwise) or cron(<6 fields>), e.g. cron(5 * * * ? *)."
  }

  validation {
    condition     = var.monitoring == null || try(can(regex("^[1-9][0-9]*[mhd]$", var.monitoring.window)), false)
    error_message = "monitoring.window must be a positive whole number of minutes, hours or days, as `byo monitor run --window` takes it (e.g. \"1h\", \"90m\", \"1d\"); match it to schedule_expression."
  }

  # Fargate's vCPU/memory combinations (as in the batch module), so a bad pair fails at plan.
  validation {
    condition = var.monitoring == null || try(contains([0.25, 0.5, 1, 2, 4, 8, 16], var.monitoring.vcpu) && (
      var.monitoring.vcpu == 0.25 ? contains([512, 1024, 2048], var.monitoring.memory_mib) :
      var.monitoring.vcpu == 0.5 ? var.monitoring.memory_mib >= 1024 && var.monitoring.memory_mib <= 4096 && var.monitoring.memory_mib % 1024 == 0 :
      var.monitoring.vcpu == 1 ? var.monitoring.memory_mib >= 2048 && var.monitoring.memory_mib <= 8192 && var.monitoring.memory_mib % 1024 == 0 :
      var.monitoring.vcpu == 2 ? var.monitoring.memory_mib >= 4096 && var.monitoring.memory_mib <= 16384 && var.monitoring.memory_mib % 1024 == 0 :
      var.monitoring.vcpu == 4 ? var.monitoring.memory_mib >= 8192 && var.monitoring.memory_mib <= 30720 && var.monitoring.memory_mib % 1024 == 0 :
      var.monitoring.vcpu == 8 ? var.monitoring.memory_mib >= 16384 && var.monitoring.memory_mib <= 61440 && var.monitoring.memory_mib % 4096 == 0 :
      var.monitoring.memory_mib >= 32768 && var.monitoring.memory_mib <= 122880 && var.monitoring.memory_mib % 8192 == 0
    ), false)
    error_message = "monitoring.vcpu and memory_mib must be a Fargate combination. vcpu: 0.25, 0.5, 1, 2, 4, 8 or 16; memory_mib for it: 0.25: 512, 1024, 2048; 0.5: 1024-4096; 1: 2048-8192; 2: 4096-16384; 4: 8192-30720 (steps of 1024); 8: 16384-61440 (steps of 4096); 16: 32768-122880 (steps of 8192)."
  }

  validation {
    condition     = var.monitoring == null || try(var.monitoring.timeout_seconds >= 60 && floor(var.monitoring.timeout_seconds) == var.monitoring.timeout_seconds, false)
    error_message = "monitoring.timeout_seconds must be a whole number >= 60 (AWS Batch's minimum); keep it below the schedule's interval."
  }

  validation {
    condition     = var.monitoring == null || try(contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.monitoring.log_retention_days), false)
    error_message = "monitoring.log_retention_days must be a CloudWatch Logs value: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }

  validation {
    condition     = var.monitoring == null || try(var.monitoring.drift_threshold > 0 && var.monitoring.drift_threshold < 1, false)
    error_message = "monitoring.drift_threshold must be between 0 and 1, exclusive: the largest per-feature L-infinity distance between baseline and current CDFs that is still fine (e.g. 0.1)."
  }

  validation {
    condition     = var.monitoring == null || try(var.monitoring.ndcg_threshold > 0 && var.monitoring.ndcg_threshold <= 1, false)
    error_message = "monitoring.ndcg_threshold must be above 0 and at most 1: the feature-attribution NDCG below which attribution drift alarms (e.g. 0.9; 1 means the ranking never changes)."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
