variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name prefix: each image's project is \"<name>-build-<image>\", the service role \"<name>-build\" (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.name))
    error_message = "name must be 2-21 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\")."
  }
}

variable "bundle_bucket_name" {
  description = "Bucket holding the source bundle (the stack's data bucket: KMS-encrypted, TLS only, versioned)."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bundle_bucket_name))
    error_message = "bundle_bucket_name must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens (the storage module's bucket_name output)."
  }
}

variable "bundle_bucket_arn" {
  description = "ARN of the bundle bucket (the storage module's bucket_arn output); the projects may read only the bundle's key in it."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bundle_bucket_arn))
    error_message = "bundle_bucket_arn must be an S3 bucket ARN: arn:aws:s3:::<bucket>."
  }
}

variable "bundle_key" {
  description = "Key of the source bundle in the bucket: the ZIP `make bundle` writes (build/bundle/source.zip). Uploading it starts the builds."
  type        = string
  default     = "bundles/source.zip"

  validation {
    condition     = !startswith(var.bundle_key, "/") && endswith(var.bundle_key, ".zip") && length(var.bundle_key) > 4
    error_message = "bundle_key must be an object key without a leading slash that ends in \".zip\" (CodeBuild takes an S3 source only as a ZIP), e.g. \"bundles/source.zip\"."
  }
}

variable "kms_key_arn" {
  description = "ARN of the platform KMS key: encrypts the build logs and the projects' build output (encryption_key), and decrypts the SSE-KMS bundle."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>), e.g. the kms module's key_arn output."
  }
}

variable "images" {
  description = "Images to build, by image name (the project is \"<name>-build-<image>\"): the ECR repository it is pushed to (the ecr module's repository_urls/repository_arns), its Dockerfile's path in the bundle, and optionally its own tag (default: image_tag)."
  type = map(object({
    repository_url = string
    repository_arn = string
    dockerfile     = string
    image_tag      = optional(string)
  }))

  validation {
    condition     = length(var.images) >= 1
    error_message = "images must name at least one image (e.g. { serving = { repository_url = ..., repository_arn = ..., dockerfile = \"serving/Dockerfile\" } }); use create = false for none."
  }

  validation {
    condition     = alltrue([for k in keys(var.images) : can(regex("^[a-z0-9][a-z0-9-]{0,40}$", k))])
    error_message = "Each image name must be 1-41 lowercase letters, digits or hyphens, starting with a letter or digit (e.g. \"batch-processor\"): it is part of the project's name."
  }

  validation {
    condition     = alltrue([for i in var.images : trimspace(i.dockerfile) != "" && !startswith(i.dockerfile, "/")])
    error_message = "Each image's dockerfile must be a non-empty path relative to the bundle's root (e.g. \"serving/Dockerfile\")."
  }

  validation {
    condition     = alltrue([for i in var.images : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", i.repository_arn))])
    error_message = "Each image's repository_arn must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>), e.g. the ecr module's repository_arns[\"serving\"]."
  }

  validation {
    condition     = alltrue([for i in var.images : can(regex("^[0-9]{12}\\.dkr\\.ecr\\.[a-z0-9-]+\\.amazonaws\\.com[a-z.]*/.+$", i.repository_url))])
    error_message = "Each image's repository_url must be an ECR repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>), e.g. the ecr module's repository_urls[\"serving\"]."
  }

  validation {
    condition     = alltrue([for i in var.images : i.image_tag == null || can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", i.image_tag))])
    error_message = "Each image's image_tag, when given, must be a Docker tag: up to 128 letters, digits, underscores, dots and hyphens, not starting with a dot or hyphen (e.g. \"0.2.0\")."
  }
}

variable "image_tag" {
  description = "Tag the images are pushed with (an image's own image_tag overrides it). The stack's repositories are tag-immutable: a build whose tag is already in ECR does not rebuild it."
  type        = string
  default     = "0.1.0"

  validation {
    condition     = can(regex("^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", var.image_tag))
    error_message = "image_tag must be a Docker tag: up to 128 letters, digits, underscores, dots and hyphens, not starting with a dot or hyphen (e.g. \"0.2.0\")."
  }
}

variable "build_on_upload" {
  description = "Start every project's build when the bundle is uploaded (an EventBridge rule on the bucket's \"Object Created\" events for bundle_key; the bucket must send its events to EventBridge). false: start builds by hand (aws codebuild start-build)."
  type        = bool
  default     = true
}

variable "log_retention_days" {
  description = "Days the build logs are kept (a CloudWatch Logs retention value; 0 keeps them forever)."
  type        = number
  default     = 365

  validation {
    condition     = contains([0, 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of CloudWatch Logs' values: 0 (forever), 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "compute_type" {
  description = "CodeBuild compute type of the builds (an EC2 BUILD_GENERAL1_* type: Lambda compute cannot run Docker)."
  type        = string
  default     = "BUILD_GENERAL1_SMALL"

  validation {
    condition     = contains(["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_XLARGE", "BUILD_GENERAL1_2XLARGE"], var.compute_type)
    error_message = "compute_type must be one of BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE (Docker builds need EC2 compute; BUILD_LAMBDA_* cannot run them)."
  }
}

variable "build_image" {
  description = "CodeBuild image the builds run in (a Linux x86_64 image with Docker, as CodeBuild's curated images have)."
  type        = string
  default     = "aws/codebuild/amazonlinux2-x86_64-standard:5.0"

  validation {
    condition     = trimspace(var.build_image) != ""
    error_message = "build_image must name a CodeBuild image, e.g. \"aws/codebuild/amazonlinux2-x86_64-standard:5.0\"."
  }
}

variable "build_timeout_minutes" {
  description = "Minutes a build may run before CodeBuild stops it (5-480)."
  type        = number
  default     = 60

  validation {
    condition     = var.build_timeout_minutes >= 5 && var.build_timeout_minutes <= 480 && floor(var.build_timeout_minutes) == var.build_timeout_minutes
    error_message = "build_timeout_minutes must be a whole number between 5 and 480."
  }
}

variable "vpc_config" {
  description = "Run the builds in a VPC: its id, subnets and security groups. The subnets need a NAT gateway (the Dockerfiles pull base images and packages from the internet) or a mirror of them; null (default) runs the builds outside any VPC."
  type = object({
    vpc_id             = string
    subnet_ids         = list(string)
    security_group_ids = list(string)
  })
  default = null

  validation {
    # Terraform evaluates both sides of ||: try() keeps a null vpc_config from failing the rest.
    condition = var.vpc_config == null || try(
      can(regex("^vpc-[0-9a-z]+$", var.vpc_config.vpc_id))
      && length(var.vpc_config.subnet_ids) >= 1 && alltrue([for s in var.vpc_config.subnet_ids : can(regex("^subnet-[0-9a-z]+$", s))])
      && length(var.vpc_config.security_group_ids) >= 1 && length(var.vpc_config.security_group_ids) <= 5
      && alltrue([for s in var.vpc_config.security_group_ids : can(regex("^sg-[0-9a-z]+$", s))]),
      false,
    )
    error_message = "vpc_config needs a vpc_id (vpc-...), at least one subnet id (subnet-...) and 1-5 security group ids (sg-...); or null to build outside a VPC."
  }
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
