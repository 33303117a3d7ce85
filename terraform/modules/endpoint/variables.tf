variable "create" {
  description = "Create the module's resources. false creates nothing (outputs are null)."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the endpoint; prefix of its models, endpoint configs and role (lowercase letters, digits, hyphens)."
  type        = string

  validation {
    # 32 leaves room for the platform's name (<= 21) plus a kind suffix such as "-serverless";
    # the role name, "<name>-sagemaker-endpoint", stays within IAM's 64.
    condition     = can(regex("^[a-z][a-z0-9-]{1,31}$", var.name))
    error_message = "name must be 2-32 characters: a lowercase letter, then lowercase letters, digits or hyphens (e.g. \"byo\" or \"byo-serverless\")."
  }
}

variable "variants" {
  description = <<-EOT
    Production variants of the endpoint's initial configuration, keyed by variant name. Each serves
    either one model artifact, model_data_url (a model.tar.gz under model_bucket_arn/model_prefix)
    in image (null: default_image) with environment, or a serial inference pipeline, containers
    (2-15, in order: each container's response is the next one's request), each with its own
    model_data_url, image (null: default_image), environment and optional container_hostname;
    on initial_instance_count instances of instance_type, with initial_weight / sum(weights) of
    the traffic. Weights are relative integers (e.g. 9 and 1).
    multi_model = true makes the variant a multi-model endpoint: model_data_url is then an S3
    prefix ending in "/" holding many model.tar.gz, and each request's TargetModel names one.
    serverless runs the variant on Serverless Inference instead of instances (memory_size_in_mb
    1024-6144 in 1024 steps, max_concurrency 1-200, optional provisioned_concurrency up to
    max_concurrency); instance_type and initial_instance_count (defaults "ml.m5.large" and 1)
    are then left out. All variants are serverless or none.
  EOT
  type = map(object({
    model_data_url = optional(string)
    image          = optional(string)
    environment    = optional(map(string), {})
    containers = optional(list(object({
      model_data_url     = string
      image              = optional(string)
      environment        = optional(map(string), {})
      container_hostname = optional(string)
    })))
    multi_model            = optional(bool, false)
    instance_type          = optional(string)
    initial_instance_count = optional(number)
    serverless = optional(object({
      memory_size_in_mb       = number
      max_concurrency         = number
      provisioned_concurrency = optional(number)
    }))
    initial_weight = optional(number, 1)
  }))

  validation {
    condition     = length(var.variants) >= 1 && length(var.variants) <= 10
    error_message = "variants must hold 1 to 10 variants (SageMaker's limit per endpoint config), e.g. { champion = { model_data_url = \"s3://bucket/models/model.tar.gz\" } }."
  }
  validation {
    condition     = alltrue([for k, _ in var.variants : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", k))])
    error_message = "Each variant name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit (e.g. \"champion\", \"challenger-1\")."
  }
  validation {
    # Model names are "<name>-<variant>-<8-char content hash>" and SageMaker caps them at 63.
    condition     = alltrue([for k, _ in var.variants : length("${var.name}-${k}") <= 54])
    error_message = "\"<name>-<variant>\" must be at most 54 characters (model names add a 9-character hash, up to SageMaker's 63): shorten the variant name."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.initial_weight >= 0 && floor(v.initial_weight) == v.initial_weight])
    error_message = "Each variant's initial_weight must be a whole number >= 0 (relative integer weights, e.g. 9 and 1)."
  }
  validation {
    condition     = anytrue([for v in var.variants : v.initial_weight > 0])
    error_message = "At least one variant's initial_weight must be > 0 so the endpoint serves traffic (relative integer weights, e.g. 9 and 1)."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.initial_instance_count == null || try(v.initial_instance_count >= 1 && floor(v.initial_instance_count) == v.initial_instance_count, false)])
    error_message = "Each variant's initial_instance_count must be a whole number >= 1 (a real-time variant needs at least one instance)."
  }
  validation {
    condition = alltrue([
      for v in var.variants : (v.model_data_url == null) != (v.containers == null) && (v.containers == null || (v.image == null && length(v.environment) == 0))
    ])
    error_message = "Each variant gives exactly one of two shapes: one model, { model_data_url = \"s3://<bucket>/models/<sha256>/model.tar.gz\", image = \"<uri>\", environment = { ... } }, or a serial inference pipeline, { containers = [{ model_data_url = \"s3://<bucket>/models/<sha256>/model.tar.gz\", image = \"<uri>\", environment = { ... } }, { model_data_url = ... }] } with image and environment in each container."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.containers == null || try(length(v.containers) >= 2 && length(v.containers) <= 15, false)])
    error_message = "A variant's containers must list 2 to 15 containers (SageMaker's limit for a serial inference pipeline); one model is { model_data_url = \"s3://<bucket>/models/<sha256>/model.tar.gz\" } instead."
  }
  validation {
    condition = alltrue(flatten([
      for v in var.variants : [
        for url in v.containers == null ? [v.model_data_url] : v.containers[*].model_data_url : try(startswith(url, "s3://"), false)
      ] if(v.model_data_url == null) != (v.containers == null)
    ]))
    error_message = "Each variant's model_data_url, and each of its containers' model_data_url, must be an S3 URI, e.g. \"s3://<bucket>/models/<sha256>/model.tar.gz\"."
  }
  validation {
    # The execution role may read only there; anything else fails when the endpoint starts.
    condition = alltrue(flatten([
      for v in var.variants : [
        for url in v.containers == null ? [v.model_data_url] : v.containers[*].model_data_url :
        try(startswith(url, "s3://${try(split(":::", var.model_bucket_arn)[1], "")}/${var.model_prefix}"), false)
      ] if(v.model_data_url == null) != (v.containers == null)
    ]))
    error_message = "Each variant's model_data_url, and each of its containers' model_data_url, must lie under the model bucket and prefix (s3://<bucket of model_bucket_arn>/<model_prefix>...), where the execution role may read."
  }
  validation {
    condition = alltrue(flatten([
      for v in var.variants : [
        for h in v.containers == null ? [] : v.containers[*].container_hostname : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", h)) if h != null
      ]
    ]))
    error_message = "Each container_hostname must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit (e.g. \"preprocess\", \"model\")."
  }
  validation {
    # SageMaker's rule: a pipeline names all of its containers or none of them.
    condition = alltrue([
      for v in var.variants : v.containers == null || try(
        length(compact(v.containers[*].container_hostname)) == 0 ||
        length(distinct(compact(v.containers[*].container_hostname))) == length(v.containers),
      false)
    ])
    error_message = "A variant's containers give container_hostname to all of them or to none, and no two the same (e.g. \"preprocess\" and \"model\")."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.instance_type == null || try(startswith(v.instance_type, "ml."), false)])
    error_message = "Each variant's instance_type must be a SageMaker instance type such as \"ml.m5.large\"."
  }
  validation {
    condition     = alltrue([for v in var.variants : !v.multi_model || try(endswith(v.model_data_url, "/") && v.containers == null, false)])
    error_message = "A multi_model variant serves every model.tar.gz under one S3 prefix: give model_data_url as a prefix ending in \"/\" (e.g. \"s3://<bucket>/models/mme/\"), and no containers (a serial inference pipeline cannot be multi-model)."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.multi_model || v.model_data_url == null || !endswith(coalesce(v.model_data_url, "-"), "/")])
    error_message = "A variant's model_data_url ending in \"/\" is a prefix of many models: set multi_model = true for a multi-model endpoint, or give the model.tar.gz itself."
  }
  validation {
    condition = alltrue([for v in var.variants : v.serverless == null || try(
      contains([1024, 2048, 3072, 4096, 5120, 6144], v.serverless.memory_size_in_mb),
    false)])
    error_message = "A serverless variant's memory_size_in_mb must be 1024, 2048, 3072, 4096, 5120 or 6144 (Serverless Inference memory comes in 1 GB steps from 1 to 6 GB)."
  }
  validation {
    condition = alltrue([for v in var.variants : v.serverless == null || try(
      v.serverless.max_concurrency >= 1 && v.serverless.max_concurrency <= 200 && floor(v.serverless.max_concurrency) == v.serverless.max_concurrency,
    false)])
    error_message = "A serverless variant's max_concurrency must be a whole number from 1 to 200 (concurrent invocations before requests are throttled)."
  }
  validation {
    condition = alltrue([for v in var.variants : try(v.serverless.provisioned_concurrency, null) == null || try(
      v.serverless.provisioned_concurrency >= 1 && v.serverless.provisioned_concurrency <= v.serverless.max_concurrency && floor(v.serverless.provisioned_concurrency) == v.serverless.provisioned_concurrency,
    false)])
    error_message = "A serverless variant's provisioned_concurrency must be a whole number from 1 to its max_concurrency (or null for on-demand only)."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.serverless == null || (v.instance_type == null && v.initial_instance_count == null)])
    error_message = "A serverless variant is not sized by instances: remove instance_type and initial_instance_count from it, or remove serverless."
  }
  validation {
    condition     = alltrue([for v in var.variants : v.serverless == null || (v.containers == null && !v.multi_model)])
    error_message = "Serverless Inference does not support serial inference pipelines or multi-model endpoints: a serverless variant serves one model_data_url (model.tar.gz) with multi_model = false."
  }
  validation {
    condition     = length([for v in var.variants : v if v.serverless != null]) == 0 || length([for v in var.variants : v if v.serverless != null]) == length(var.variants)
    error_message = "An endpoint's variants are all serverless or all instance-based (SageMaker refuses a mix): give every variant serverless, or none."
  }
  validation {
    # AWS's Serverless Inference feature exclusions: multiple production variants.
    condition     = length([for v in var.variants : v if v.serverless != null]) <= 1
    error_message = "Serverless Inference does not support multiple production variants: a serverless endpoint has exactly one variant."
  }
  validation {
    # AWS's Serverless Inference feature exclusions: VPC configuration and network isolation.
    condition     = length([for v in var.variants : v if v.serverless != null]) == 0 || (length(var.vpc_subnet_ids) == 0 && !var.enable_network_isolation)
    error_message = "Serverless Inference does not support VPC configuration or network isolation: with a serverless variant leave vpc_subnet_ids and vpc_security_group_ids empty and enable_network_isolation false."
  }
}

variable "shadow_variants" {
  description = <<-EOT
    Shadow variants, keyed by variant name, shaped as variants (one model or a pipeline, image,
    environment, instance_type and initial_instance_count or serverless, multi_model). SageMaker
    mirrors production requests to the shadow, initial_weight / the production variant's weight
    of them (1 and 1: every request), returns only the production variant's answer, and captures
    the shadow's answers under its own variant name. SageMaker allows one shadow variant, and
    then one production variant. Each shadow serves its own model, named as the production ones.
  EOT
  type = map(object({
    model_data_url = optional(string)
    image          = optional(string)
    environment    = optional(map(string), {})
    containers = optional(list(object({
      model_data_url     = string
      image              = optional(string)
      environment        = optional(map(string), {})
      container_hostname = optional(string)
    })))
    multi_model            = optional(bool, false)
    instance_type          = optional(string)
    initial_instance_count = optional(number)
    serverless = optional(object({
      memory_size_in_mb       = number
      max_concurrency         = number
      provisioned_concurrency = optional(number)
    }))
    initial_weight = optional(number, 1)
  }))
  default = {}

  validation {
    condition     = length(var.shadow_variants) <= 1
    error_message = "shadow_variants may hold at most one variant (SageMaker supports one shadow variant per endpoint)."
  }
  validation {
    condition     = length(var.shadow_variants) == 0 || length(var.variants) == 1
    error_message = "An endpoint with a shadow variant has exactly one production variant (SageMaker's rule): keep one entry in variants, or drop shadow_variants."
  }
  validation {
    condition     = length(setintersection(keys(var.shadow_variants), keys(var.variants))) == 0
    error_message = "A shadow variant's name must differ from every production variant's name (variant names are unique across both lists), e.g. \"shadow\"."
  }
  validation {
    condition     = alltrue([for k, _ in var.shadow_variants : can(regex("^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$", k)) && length("${var.name}-${k}") <= 54])
    error_message = "A shadow variant's name must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit, with \"<name>-<variant>\" at most 54 characters (e.g. \"shadow\")."
  }
  validation {
    condition = alltrue([
      for v in var.shadow_variants : (v.model_data_url == null) != (v.containers == null) && (v.containers == null || try(length(v.containers) >= 2 && length(v.containers) <= 15 && v.image == null && length(v.environment) == 0, false))
    ])
    error_message = "A shadow variant gives exactly one of two shapes, as a production variant: { model_data_url = \"s3://<bucket>/models/<sha256>/model.tar.gz\" } or { containers = [2 to 15 containers, each with model_data_url, image, environment] }."
  }
  validation {
    condition = alltrue(flatten([
      for v in var.shadow_variants : [
        for url in v.containers == null ? [v.model_data_url] : v.containers[*].model_data_url :
        try(startswith(url, "s3://${try(split(":::", var.model_bucket_arn)[1], "")}/${var.model_prefix}"), false)
      ] if(v.model_data_url == null) != (v.containers == null)
    ]))
    error_message = "A shadow variant's model_data_url (and each of its containers') must be an S3 URI under the model bucket and prefix (s3://<bucket of model_bucket_arn>/<model_prefix>...), where the execution role may read."
  }
  validation {
    condition     = alltrue([for v in var.shadow_variants : v.initial_weight >= 0 && floor(v.initial_weight) == v.initial_weight])
    error_message = "A shadow variant's initial_weight must be a whole number >= 0 (its share of mirrored requests is initial_weight / the production variant's weight)."
  }
  validation {
    condition     = alltrue([for v in var.shadow_variants : (v.instance_type == null || try(startswith(v.instance_type, "ml."), false)) && (v.initial_instance_count == null || try(v.initial_instance_count >= 1 && floor(v.initial_instance_count) == v.initial_instance_count, false))])
    error_message = "A shadow variant's instance_type must be a SageMaker instance type such as \"ml.m5.large\" and its initial_instance_count a whole number >= 1."
  }
  validation {
    condition     = alltrue([for v in var.shadow_variants : v.multi_model ? try(endswith(v.model_data_url, "/") && v.containers == null, false) : (v.model_data_url == null || !endswith(coalesce(v.model_data_url, "-"), "/"))])
    error_message = "A multi_model shadow variant's model_data_url is an S3 prefix ending in \"/\" (and it has no containers); any other shadow's model_data_url is the model.tar.gz itself."
  }
  validation {
    condition = alltrue([for v in var.shadow_variants : v.serverless == null || try(
      contains([1024, 2048, 3072, 4096, 5120, 6144], v.serverless.memory_size_in_mb) &&
      v.serverless.max_concurrency >= 1 && v.serverless.max_concurrency <= 200 && floor(v.serverless.max_concurrency) == v.serverless.max_concurrency &&
      (v.serverless.provisioned_concurrency == null || try(v.serverless.provisioned_concurrency >= 1 && v.serverless.provisioned_concurrency <= v.serverless.max_concurrency && floor(v.serverless.provisioned_concurrency) == v.serverless.provisioned_concurrency, false)),
    false)])
    error_message = "A serverless shadow variant needs memory_size_in_mb 1024-6144 in 1024 steps, max_concurrency a whole number 1-200 and provisioned_concurrency null or 1 to max_concurrency."
  }
  validation {
    condition     = alltrue([for v in var.shadow_variants : v.serverless == null || (v.instance_type == null && v.initial_instance_count == null && v.containers == null && !v.multi_model)])
    error_message = "A serverless shadow variant has no instance_type, initial_instance_count, containers or multi_model (Serverless Inference serves one model.tar.gz, not sized by instances)."
  }
  validation {
    condition     = length([for v in var.shadow_variants : v if v.serverless != null]) == 0 || (length(var.vpc_subnet_ids) == 0 && !var.enable_network_isolation)
    error_message = "Serverless Inference does not support VPC configuration or network isolation: with a serverless shadow variant leave vpc_subnet_ids and vpc_security_group_ids empty and enable_network_isolation false."
  }
}

variable "async_inference" {
  description = <<-EOT
    Make the endpoint asynchronous (InvokeEndpointAsync): results are written under
    output_s3_uri (errors under failure_s3_uri, null: output_s3_uri) encrypted with kms_key_arn,
    success_topic_arn / error_topic_arn (SNS) are notified, and each instance runs at most
    max_concurrent_invocations_per_instance requests at once (null: SageMaker's choice).
    input_s3_uri is the prefix callers put request payloads under (the execution role may read
    there; null grants no read beyond the models). null: a real-time endpoint.
  EOT
  type = object({
    output_s3_uri                           = string
    failure_s3_uri                          = optional(string)
    input_s3_uri                            = optional(string)
    success_topic_arn                       = optional(string)
    error_topic_arn                         = optional(string)
    max_concurrent_invocations_per_instance = optional(number)
  })
  default = null

  validation {
    condition = var.async_inference == null || alltrue([
      for uri in compact([try(var.async_inference.output_s3_uri, null), try(var.async_inference.failure_s3_uri, null), try(var.async_inference.input_s3_uri, null)]) :
      can(regex("^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^*]*)?$", uri))
    ])
    error_message = "async_inference's output_s3_uri, failure_s3_uri and input_s3_uri must be S3 URIs without wildcards, e.g. \"s3://<bucket>/async/output/\"."
  }
  validation {
    condition = var.async_inference == null || alltrue([
      for arn in compact([try(var.async_inference.success_topic_arn, null), try(var.async_inference.error_topic_arn, null)]) :
      can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", arn))
    ])
    error_message = "async_inference's success_topic_arn and error_topic_arn must be SNS topic ARNs (arn:aws:sns:<region>:<account>:<topic>)."
  }
  validation {
    condition = try(var.async_inference.max_concurrent_invocations_per_instance, null) == null || try(
      var.async_inference.max_concurrent_invocations_per_instance >= 1 && var.async_inference.max_concurrent_invocations_per_instance <= 1000 && floor(var.async_inference.max_concurrent_invocations_per_instance) == var.async_inference.max_concurrent_invocations_per_instance,
    false)
    error_message = "async_inference.max_concurrent_invocations_per_instance must be a whole number from 1 to 1000 (or null for SageMaker's choice)."
  }
  validation {
    condition     = var.async_inference == null || length([for v in merge(var.variants, var.shadow_variants) : v if v.serverless != null]) == 0
    error_message = "Asynchronous inference runs on instances: an endpoint with serverless variants cannot have async_inference (drop serverless, or async_inference)."
  }
}

variable "default_image" {
  description = "Inference image URI for variants without their own image. null resolves SageMaker's prebuilt sagemaker-xgboost image (tag xgboost_image_tag) for the provider's region."
  type        = string
  default     = null
}

variable "xgboost_image_tag" {
  description = "Tag of the prebuilt sagemaker-xgboost image used when default_image is null."
  type        = string
  default     = "1.7-1"
}

variable "data_capture" {
  description = <<-EOT
    Endpoint data capture: sampling_percentage of requests (capture_input) and responses
    (capture_output) are written as JSONL under destination_s3_uri, encrypted with kms_key_arn.
    null captures nothing.
  EOT
  type = object({
    enabled             = optional(bool, true)
    sampling_percentage = optional(number, 100)
    destination_s3_uri  = string
    capture_input       = optional(bool, true)
    capture_output      = optional(bool, true)
    csv_content_types   = optional(list(string), ["text/csv"])
    json_content_types  = optional(list(string), ["application/json"])
  })
  default = null

  validation {
    condition = var.data_capture == null || try(
      var.data_capture.sampling_percentage >= 0 && var.data_capture.sampling_percentage <= 100 && floor(var.data_capture.sampling_percentage) == var.data_capture.sampling_percentage,
    false)
    error_message = "data_capture.sampling_percentage must be a whole number from 0 to 100 (e.g. 100 captures every request)."
  }
  validation {
    condition     = var.data_capture == null || try(startswith(var.data_capture.destination_s3_uri, "s3://"), false)
    error_message = "data_capture.destination_s3_uri must be an S3 URI, e.g. \"s3://<bucket>/captures/\"."
  }
  validation {
    condition     = var.data_capture == null || try(var.data_capture.capture_input || var.data_capture.capture_output, false)
    error_message = "data_capture must capture the input, the output or both (set capture_input or capture_output to true), or be null."
  }
  validation {
    # AWS's Serverless Inference feature exclusions: data capture.
    condition     = var.data_capture == null || length([for v in merge(var.variants, var.shadow_variants) : v if v.serverless != null]) == 0
    error_message = "Serverless Inference does not capture data: an endpoint with serverless variants must have data_capture = null."
  }
}

variable "kms_key_arn" {
  description = "ARN of the KMS key encrypting the endpoint instances' storage volumes and captured data; the execution role may use it to read model artifacts and write captures."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "model_bucket_arn" {
  description = "ARN of the bucket holding the model artifacts; the execution role may read objects under model_prefix only."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.model_bucket_arn))
    error_message = "model_bucket_arn must be an S3 bucket ARN, e.g. \"arn:aws:s3:::my-bucket\" (no object path)."
  }
}

variable "model_prefix" {
  description = "Key prefix of the model artifacts in the model bucket (every variant's model_data_url must lie under it)."
  type        = string
  default     = "models/"

  validation {
    condition     = !startswith(var.model_prefix, "/") && !strcontains(var.model_prefix, "*")
    error_message = "model_prefix must be a key prefix without a leading \"/\" or wildcards, e.g. \"models/\"."
  }
}

variable "capture_prefix_arn" {
  description = "S3 ARN prefix the execution role may write captured data to (s3:PutObject on \"<prefix>*\"). null derives it from data_capture.destination_s3_uri."
  type        = string
  default     = null

  validation {
    condition     = var.capture_prefix_arn == null || can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^*]*$", var.capture_prefix_arn))
    error_message = "capture_prefix_arn must be an S3 object ARN prefix without wildcards, e.g. \"arn:aws:s3:::my-bucket/captures/\"."
  }
}

variable "ecr_repository_arns" {
  description = "ECR repositories of bring-your-own images the execution role may pull from (SageMaker's prebuilt images need none)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.ecr_repository_arns : can(regex("^arn:aws[a-z-]*:ecr:[a-z0-9-]+:[0-9]{12}:repository/.+$", a))])
    error_message = "Each ecr_repository_arns entry must be an ECR repository ARN (arn:aws:ecr:<region>:<account>:repository/<name>)."
  }
}

variable "vpc_subnet_ids" {
  description = "Private subnets the model containers attach to. Empty runs them outside your VPC (vpc_security_group_ids must then be empty too)."
  type        = list(string)
  default     = []
}

variable "vpc_security_group_ids" {
  description = "Security groups of the model containers' network interfaces (required with vpc_subnet_ids)."
  type        = list(string)
  default     = []

  validation {
    condition     = (length(var.vpc_subnet_ids) == 0) == (length(var.vpc_security_group_ids) == 0)
    error_message = "Give vpc_subnet_ids and vpc_security_group_ids together (both non-empty to attach the models to the VPC, both empty otherwise)."
  }
}

variable "enable_network_isolation" {
  description = "Run the model containers without any network access (they cannot call AWS or the internet)."
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags for every resource of the module."
  type        = map(string)
  default     = {}
}
