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
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. the kms module's key_arn output."
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
  description = "The scheduled model monitoring the dashboard shows (the monitoring module's dashboard output): its metric namespace, the drift and NDCG alarm thresholds and its alarms, which the alarm widget lists too. null shows none."
  type = object({
    metric_namespace = string
    drift_threshold  = number
    ndcg_threshold   = number
    alarm_arns       = map(string)
  })
  default = null
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
