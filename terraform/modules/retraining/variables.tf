variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Platform name: the state machines are <name>-retraining and <name>-deploy, the jobs <name>-retrain and <name>-deploy."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{0,30}[a-z0-9]$", var.name))
    error_message = "name must be 2-32 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen (e.g. \"byo\")."
  }
}

variable "kms_key_arn" {
  description = "The platform's KMS key: encrypts the state machines' logs and is used to publish to the (encrypted) topic and to write the (encrypted) job table."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "image" {
  description = "The operators image (operators/Dockerfile, entry point byo) the retrain and deploy jobs run."
  type        = string

  validation {
    condition     = length(trimspace(var.image)) > 0 && !can(regex("\\s", var.image))
    error_message = "image must be an image reference without spaces (e.g. 111122223333.dkr.ecr.eu-west-1.amazonaws.com/byo/operators:1.0.0)."
  }
}

variable "image_repository_arn" {
  description = "ECR repository of image (the jobs' execution role may pull from it); null for an image outside ECR."
  type        = string
  default     = null
}

variable "job_queue_arn" {
  description = "AWS Batch job queue the state machines submit the retrain and deploy jobs to."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:batch:[a-z0-9-]+:[0-9]{12}:job-queue/.+$", var.job_queue_arn))
    error_message = "job_queue_arn must be a Batch job queue ARN (arn:aws:batch:<region>:<account>:job-queue/<name>)."
  }
}

variable "job_definition_arns" {
  description = "ARNs of the batch module's job definitions made from this module's job_definitions output (keys retrain and deploy); null before they exist (the state machines are then not created)."
  type = object({
    retrain = string
    deploy  = string
  })
  default = null
}

variable "job_table_name" {
  description = "The platform's DynamoDB job table (hash key FileName): the loops keep their lock and one record per execution there, under loops/."
  type        = string
}

variable "job_table_arn" {
  description = "ARN of job_table_name."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/.+$", var.job_table_arn))
    error_message = "job_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "data_bucket_name" {
  description = "The platform's data bucket: training data under data_prefixes.datasets, models, pipelines' outputs and baselines."
  type        = string
}

variable "data_bucket_arn" {
  description = "ARN of data_bucket_name."
  type        = string
}

variable "data_prefixes" {
  description = "The storage module's prefixes (datasets, models, pipelines, monitoring are used)."
  type        = map(string)
  default     = {}
}

variable "sns_topic_arn" {
  description = "Topic the loops notify: a registered version (with its metrics and the serving version's), a failed AUC condition or job (with the reason), a deploy's success or rollback."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:.+$", var.sns_topic_arn))
    error_message = "sns_topic_arn must be an SNS topic ARN (arn:aws:sns:<region>:<account>:<name>)."
  }
}

variable "endpoint_name" {
  description = "The endpoint the deploy machine rolls approved versions out to."
  type        = string
}

variable "model_package_group_name" {
  description = "The registry's model package group: its versions' approvals start the deploy machine."
  type        = string
}

variable "sagemaker_execution_role_arn" {
  description = "Role the endpoint's models run as: the deploy job passes it to the new model (iam:PassRole to SageMaker only)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.sagemaker_execution_role_arn))
    error_message = "sagemaker_execution_role_arn must be an IAM role ARN (arn:aws:iam::<account>:role/<name>)."
  }
}

variable "serving_image" {
  description = "The image new versions are registered with (the pipeline's register step), as the stack's serving_image output gives it."
  type        = string
}

variable "pipeline_name" {
  description = "The training pipeline's name (byo pipeline run --name; the SageMaker pipeline with pipeline_backend = \"sagemaker\"); null: <name>-pipeline, the operators' default."
  type        = string
  default     = null
}

variable "pipeline_backend" {
  description = <<-EOT
    How the retraining machine trains: "batch" runs the pipeline's code in the operators image as
    a Batch job (byo loops retrain → byo pipeline run, the same code offline and on AWS);
    "sagemaker" starts the SageMaker Pipelines definition (byo pipeline upsert makes it) and
    polls it until it ends.
  EOT
  type        = string
  default     = "batch"

  validation {
    condition     = contains(["batch", "sagemaker"], var.pipeline_backend)
    error_message = "pipeline_backend must be \"batch\" or \"sagemaker\"."
  }
}

variable "training_data_uri" {
  description = "Data a retraining reads when its trigger names none (schedule, alarm, by hand): an s3:// object or prefix of labelled CSVs. null: s3://<data bucket>/<datasets prefix>."
  type        = string
  default     = null

  validation {
    condition     = var.training_data_uri == null || can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$", var.training_data_uri))
    error_message = "training_data_uri must be an s3:// URI (s3://<bucket>/<key or prefix>)."
  }
}

variable "retrain_schedule" {
  description = "EventBridge schedule of retraining (rate(...) or cron(...)); null: no scheduled retraining."
  type        = string
  default     = null

  validation {
    condition     = var.retrain_schedule == null || can(regex("^(rate\\(.+\\)|cron\\(.+\\))$", var.retrain_schedule))
    error_message = "retrain_schedule must be rate(...) or cron(...) (e.g. \"rate(7 days)\", \"cron(0 3 ? * MON *)\"), or null."
  }
}

variable "retrain_on_new_data" {
  description = "Retrain when an object is created under the data bucket's datasets prefix (S3 → EventBridge; the bucket must send events to EventBridge)."
  type        = bool
  default     = true
}

variable "retrain_on_alarms" {
  description = "Names of the alarms (drift, model quality) whose change to ALARM starts a retraining; [] for none."
  type        = list(string)
  default     = []
}

variable "alarm_cooldown_seconds" {
  description = "After a retraining an alarm started, the loop stays held this long (further triggers of any kind are recorded and skipped), so one drift episode starts one retraining. 0-86400."
  type        = number
  default     = 3600

  validation {
    condition     = var.alarm_cooldown_seconds >= 0 && var.alarm_cooldown_seconds <= 86400 && floor(var.alarm_cooldown_seconds) == var.alarm_cooldown_seconds
    error_message = "alarm_cooldown_seconds must be a whole number of seconds from 0 to 86400 (e.g. 3600)."
  }
}

variable "auc_threshold" {
  description = "The retraining's AUC condition: a new version is registered only if its test AUC is at least this."
  type        = number
  default     = 0.9

  validation {
    condition     = var.auc_threshold >= 0 && var.auc_threshold <= 1
    error_message = "auc_threshold must be between 0 and 1 (e.g. 0.9)."
  }
}

variable "auto_approve_if" {
  description = "Let the retraining approve its own version (which then deploys on approval) when its test AUC beats the serving version's by at least auc_margin; null: a person approves (byo model approve)."
  type = object({
    auc_margin = number
  })
  default = null

  validation {
    condition     = var.auto_approve_if == null || try(var.auto_approve_if.auc_margin >= 0 && var.auto_approve_if.auc_margin <= 1, false)
    error_message = "auto_approve_if.auc_margin must be between 0 and 1 (e.g. 0.01: one AUC point better than the serving version)."
  }
}

variable "deploy_on_approval" {
  description = "Roll an approved version of the group out (byo loops deploy: blue/green with a canary, rolled back on the variant's alarms) when its approval changes to Approved."
  type        = bool
  default     = true
}

variable "deploy_canary_percent" {
  description = "Share of the endpoint's capacity the deploy's canary gets (1-100)."
  type        = number
  default     = 10

  validation {
    condition     = var.deploy_canary_percent >= 1 && var.deploy_canary_percent <= 100 && floor(var.deploy_canary_percent) == var.deploy_canary_percent
    error_message = "deploy_canary_percent must be a whole number from 1 to 100."
  }
}

variable "deploy_canary_wait_seconds" {
  description = "How long the deploy's canary serves, watched by the alarms, before the rest moves."
  type        = number
  default     = 300

  validation {
    condition     = var.deploy_canary_wait_seconds >= 0 && floor(var.deploy_canary_wait_seconds) == var.deploy_canary_wait_seconds
    error_message = "deploy_canary_wait_seconds must be a whole number of seconds >= 0."
  }
}

variable "rollback_alarm_names" {
  description = "Alarms that roll a deploy back while its canary serves (the variant's 5XX and p99-latency alarms); [] for the operators' defaults (the stack's alarm_names)."
  type        = list(string)
  default     = []
}

variable "vcpu" {
  description = "vCPUs of the retrain and deploy jobs (a Fargate size: 0.25, 0.5, 1, 2, 4, 8 or 16)."
  type        = number
  default     = 2
}

variable "memory_mib" {
  description = "Memory of the retrain and deploy jobs, MiB."
  type        = number
  default     = 4096
}

variable "timeout_seconds" {
  description = "Longest a retrain or deploy job attempt may run (>= 60)."
  type        = number
  default     = 7200

  validation {
    condition     = var.timeout_seconds >= 60 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number of seconds >= 60."
  }
}

variable "log_retention_days" {
  description = "Days the jobs' and the state machines' log groups keep events (a CloudWatch Logs retention value; 0 keeps them forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs value: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
}
