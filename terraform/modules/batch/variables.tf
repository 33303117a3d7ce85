variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix for the compute environment, queue, job definition, roles and log group (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "compute_type" {
  description = "Capacity the scoring jobs run on: FARGATE, FARGATE_SPOT (serverless), EC2 or SPOT (managed instances)."
  type        = string
  default     = "FARGATE"

  validation {
    condition     = contains(["FARGATE", "FARGATE_SPOT", "EC2", "SPOT"], var.compute_type)
    error_message = "compute_type must be one of FARGATE, FARGATE_SPOT, EC2 or SPOT (upper case)."
  }
}

variable "subnet_ids" {
  description = "Private subnets the jobs run in (they reach S3, DynamoDB, ECR and SageMaker through NAT or VPC endpoints; no public IP is assigned)."
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1 && alltrue([for s in var.subnet_ids : can(regex("^subnet-[0-9a-f]+$", s))])
    error_message = "subnet_ids must list at least one subnet ID (subnet-0123abcd...); use two or more in different AZs for availability."
  }
}

variable "security_group_ids" {
  description = "Security groups of the jobs' network interfaces (egress to AWS APIs is all the job needs)."
  type        = list(string)

  validation {
    condition     = length(var.security_group_ids) >= 1 && alltrue([for s in var.security_group_ids : can(regex("^sg-[0-9a-f]+$", s))])
    error_message = "security_group_ids must list at least one security group ID (sg-0123abcd...)."
  }
}

variable "max_vcpus" {
  description = "Most vCPUs the compute environment runs at once (caps concurrency and cost)."
  type        = number
  default     = 16

  validation {
    condition     = var.max_vcpus >= 1 && var.max_vcpus <= 4096 && floor(var.max_vcpus) == var.max_vcpus
    error_message = "max_vcpus must be a whole number between 1 and 4096."
  }
}

variable "instance_types" {
  description = "Instance types for EC2/SPOT compute environments (ignored for Fargate), e.g. [\"m5.large\"] or [\"optimal\"]."
  type        = list(string)
  default     = ["m5.large"]

  validation {
    condition     = length(var.instance_types) >= 1 && alltrue([for t in var.instance_types : can(regex("^([a-z][a-z0-9-]*\\.[a-z0-9]+|[a-z][a-z0-9-]*|optimal)$", t))])
    error_message = "instance_types must list at least one instance type or family (e.g. \"m5.large\", \"c6i\", \"optimal\")."
  }
}

variable "create_service_role" {
  description = "Create a Batch service role (AWSBatchServiceRole) for the compute environment. false lets AWS Batch use its service-linked role, as AWS recommends; the embedded emulator requires a role (true)."
  type        = bool
  default     = false
}

variable "job_definitions" {
  description = <<-EOT
    Job definitions by key (as terraform-aws-modules/batch takes them): each is named
    <name>-<key> and logs under the stream prefix <key>. image is required. command null keeps the
    image's; "Ref::<name>" placeholders take the SubmitJob parameters (the trigger passes bucket,
    key, etag, version, shards). vcpu: 0.25, 0.5, 1, 2, 4, 8 or 16 on Fargate (memory_mib a
    combination AWS allows for it), a whole number >= 1 on EC2/SPOT. job_role_arn null runs the
    job as the module's scoring job role; execution_role_arn null starts it with the module's
    execution role, which may pull from image_repository_arn (null: an image outside ECR, no ECR
    permissions) and write to the module's log group. log_group_name null logs to the module's
    log group; another one needs the job's own execution_role_arn. attempts (1-10) and
    timeout_seconds (>= 60) bound each job's tries and each attempt.
  EOT
  type = map(object({
    image                = string
    command              = optional(list(string))
    environment          = optional(map(string), {})
    vcpu                 = optional(number, 1)
    memory_mib           = optional(number, 2048)
    job_role_arn         = optional(string)
    execution_role_arn   = optional(string)
    image_repository_arn = optional(string)
    log_group_name       = optional(string)
    attempts             = optional(number, 3)
    timeout_seconds      = optional(number, 3600)
  }))

  validation {
    condition     = alltrue([for k in keys(var.job_definitions) : can(regex("^[a-z][a-z0-9-]{0,39}$", k))])
    error_message = "job_definitions keys must be 1-40 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"scoring\"); the job definition is named <name>-<key>."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : length(trimspace(d.image)) > 0 && !can(regex("\\s", d.image))])
    error_message = "Each job definition's image must be a container image URI without spaces (e.g. \"<account>.dkr.ecr.<region>.amazonaws.com/byo/batch-processor:1.0.0\")."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : d.image_repository_arn == null || can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", d.image_repository_arn))])
    error_message = "Each job definition's image_repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>, e.g. the ecr module's repository_arns[\"batch-processor\"]), or null for an image outside ECR."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : alltrue([for a in [d.job_role_arn, d.execution_role_arn] : a == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", a))])])
    error_message = "Each job definition's job_role_arn and execution_role_arn must be IAM role ARNs (arn:aws:iam::<account>:role/<name>), or null for the module's roles."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : d.log_group_name == null || d.execution_role_arn != null])
    error_message = "A job definition with its own log_group_name needs its own execution_role_arn: the module's execution role writes only to the module's log group."
  }

  validation {
    condition = alltrue([for d in values(var.job_definitions) : (
      startswith(var.compute_type, "FARGATE")
      ? contains([0.25, 0.5, 1, 2, 4, 8, 16], d.vcpu)
      : d.vcpu >= 1 && floor(d.vcpu) == d.vcpu
    )])
    error_message = "Each job definition's vcpu must be 0.25, 0.5, 1, 2, 4, 8 or 16 on FARGATE/FARGATE_SPOT, and a whole number >= 1 on EC2/SPOT."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : d.memory_mib >= 512 && floor(d.memory_mib) == d.memory_mib])
    error_message = "Each job definition's memory_mib must be a whole number of MiB >= 512."
  }

  # Fargate's vCPU/memory combinations, so a bad pair fails at plan rather than when a job starts.
  validation {
    condition = alltrue([for d in values(var.job_definitions) : !startswith(var.compute_type, "FARGATE") || !contains([0.25, 0.5, 1, 2, 4, 8, 16], d.vcpu) || (
      d.vcpu == 0.25 ? contains([512, 1024, 2048], d.memory_mib) :
      d.vcpu == 0.5 ? d.memory_mib >= 1024 && d.memory_mib <= 4096 && d.memory_mib % 1024 == 0 :
      d.vcpu == 1 ? d.memory_mib >= 2048 && d.memory_mib <= 8192 && d.memory_mib % 1024 == 0 :
      d.vcpu == 2 ? d.memory_mib >= 4096 && d.memory_mib <= 16384 && d.memory_mib % 1024 == 0 :
      d.vcpu == 4 ? d.memory_mib >= 8192 && d.memory_mib <= 30720 && d.memory_mib % 1024 == 0 :
      d.vcpu == 8 ? d.memory_mib >= 16384 && d.memory_mib <= 61440 && d.memory_mib % 4096 == 0 :
      d.memory_mib >= 32768 && d.memory_mib <= 122880 && d.memory_mib % 8192 == 0
    )])
    error_message = "A job definition's memory_mib does not fit its vcpu on Fargate. Allowed: 0.25 vCPU: 512, 1024, 2048; 0.5: 1024-4096; 1: 2048-8192; 2: 4096-16384; 4: 8192-30720 (steps of 1024); 8: 16384-61440 (steps of 4096); 16: 32768-122880 (steps of 8192)."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : d.command == null || length(coalesce(d.command, [])) > 0])
    error_message = "Each job definition's command must be null (image default) or a non-empty list of arguments."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : alltrue([for k in keys(d.environment) : can(regex("^[A-Za-z_][A-Za-z0-9_]*$", k)) && !startswith(k, "AWS_BATCH")])])
    error_message = "environment keys must be shell variable names (letters, digits, underscores; not starting with a digit) and must not start with AWS_BATCH (reserved by AWS Batch)."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : d.attempts >= 1 && d.attempts <= 10 && floor(d.attempts) == d.attempts])
    error_message = "Each job definition's attempts must be a whole number between 1 and 10 (AWS Batch's limits). Retries happen when the host is lost or the container exits non-zero; other failures (e.g. the image cannot be pulled) end the job."
  }

  validation {
    condition     = alltrue([for d in values(var.job_definitions) : d.timeout_seconds >= 60 && floor(d.timeout_seconds) == d.timeout_seconds])
    error_message = "Each job definition's timeout_seconds must be a whole number >= 60 (AWS Batch's minimum)."
  }
}

variable "log_retention_days" {
  description = "Days the job log group keeps events (a CloudWatch Logs retention value; 0 keeps them forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a CloudWatch Logs value: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288 or 3653."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key: encrypts the log group; the job uses it for the bucket's and table's data. Its key policy must let CloudWatch Logs use it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "data_bucket_arn" {
  description = "ARN of the data bucket the scoring job reads and writes (its data_prefixes)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.data_bucket_arn))
    error_message = "data_bucket_arn must be an S3 bucket ARN (arn:aws:s3:::<bucket>), not an object ARN."
  }
}

variable "data_prefixes" {
  description = "Prefixes of the data bucket the scoring job role works in: it reads input and checkpoints, writes output, errors and checkpoints (the storage module's prefixes output; other keys are ignored)."
  type = object({
    input       = optional(string, "input/")
    output      = optional(string, "output/")
    errors      = optional(string, "errors/")
    checkpoints = optional(string, "checkpoints/")
  })
  default  = {}
  nullable = false

  validation {
    condition     = alltrue([for p in values(var.data_prefixes) : can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*/$", p))])
    error_message = "data_prefixes must be bucket prefixes ending in \"/\" without a leading one (e.g. \"input/\", \"checkpoints/\")."
  }
}

variable "job_table_arn" {
  description = "ARN of the DynamoDB job table the job records its progress in."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255}$", var.job_table_arn))
    error_message = "job_table_arn must be a DynamoDB table ARN (arn:aws:dynamodb:<region>:<account>:table/<name>)."
  }
}

variable "endpoint_arns" {
  description = "ARNs of the SageMaker endpoints the job may invoke. Empty grants no sagemaker:InvokeEndpoint."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.endpoint_arns : can(regex("^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:[0-9]{12}:endpoint/[A-Za-z0-9-]{1,63}$", a))])
    error_message = "Each endpoint_arns entry must be a SageMaker endpoint ARN (arn:aws:sagemaker:<region>:<account>:endpoint/<name>)."
  }
}

variable "tags" {
  description = "Tags for every resource of the module (also propagated to the jobs' ECS tasks)."
  type        = map(string)
  default     = {}
}
