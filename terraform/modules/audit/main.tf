data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  partition   = data.aws_partition.current.partition
  tags        = merge({ Name = var.name }, var.tags)
  trail_name  = "${var.name}-audit"
  trail_arn   = "arn:${local.partition}:cloudtrail:${local.region}:${local.account_id}:trail/${local.trail_name}"
  bucket_name = "${var.name}-audit-${local.account_id}-${local.region}"
  bucket_arn  = "arn:${local.partition}:s3:::${local.bucket_name}"
  log_group   = "/aws/cloudtrail/${local.trail_name}"
  namespace   = "${var.name}/Audit"

  # A field an event lacks matches neither = nor != in a filter pattern: a caller without a
  # session issuer (an IAM user, the root user) is untrusted through NOT EXISTS.
  issuer    = "$.userIdentity.sessionContext.sessionIssuer.arn"
  trusted   = join(" && ", [for a in var.trusted_role_arns : "(${local.issuer} != \"${a}\")"])
  untrusted = length(var.trusted_role_arns) == 0 ? "" : " && ((${local.issuer} NOT EXISTS) || (${local.trusted}))"
  succeeded = "($.errorCode NOT EXISTS)"

  # The calls that change what serves, each kind its metric and alarm.
  changes = {
    endpoint = {
      metric      = "UntrustedEndpointChanges"
      description = "UpdateEndpoint, DeleteEndpoint or DeleteModel"
      calls       = "(($.eventName = \"UpdateEndpoint\") || ($.eventName = \"DeleteEndpoint\") || ($.eventName = \"DeleteModel\"))"
    }
    traffic = {
      metric      = "UntrustedTrafficChanges"
      description = "UpdateEndpointWeightsAndCapacities"
      calls       = "($.eventName = \"UpdateEndpointWeightsAndCapacities\")"
    }
    registry = {
      metric      = "UntrustedApprovalChanges"
      description = "a model package's approval status set (UpdateModelPackage) or a version registered approved (CreateModelPackage)"
      calls       = "((($.eventName = \"UpdateModelPackage\") && ($.requestParameters.modelApprovalStatus = \"*\")) || (($.eventName = \"CreateModelPackage\") && ($.requestParameters.modelApprovalStatus = \"Approved\")))"
    }
  }
  patterns = {
    for k, c in local.changes :
    k => "{ ($.eventSource = \"sagemaker.amazonaws.com\") && ${c.calls} && ${local.succeeded}${local.untrusted} }"
  }
}

# ---------------------------------------------------------------------------------------------
# The trail's bucket: KMS, TLS only, versioned, optional object lock, lifecycle
# ---------------------------------------------------------------------------------------------
resource "aws_s3_bucket" "this" {
  count = var.create ? 1 : 0

  # checkov:skip=CKV_AWS_144:The trail is multi-region already; copying its log files to another region is the organisation's (an organisation trail or replication on top).
  # checkov:skip=CKV2_AWS_62:Nothing reacts to new log files: the metric filters read the trail's CloudWatch Logs group.
  # checkov:skip=CKV_AWS_18:Access logging is opt-in through var.access_log_bucket (a central log bucket is the organisation's).
  bucket              = local.bucket_name
  force_destroy       = var.force_destroy
  object_lock_enabled = var.object_lock != null

  tags = merge(local.tags, { Name = local.bucket_name })
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.create ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_object_lock_configuration" "this" {
  count = var.create && var.object_lock != null ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  rule {
    default_retention {
      mode = var.object_lock.mode
      days = var.object_lock.days
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "log-files"
    status = "Enabled"
    filter {
      prefix = "${var.s3_key_prefix}/"
    }
    dynamic "transition" {
      for_each = var.transition_to_glacier_days == null ? [] : [var.transition_to_glacier_days]
      content {
        days          = transition.value
        storage_class = "GLACIER"
      }
    }
    expiration {
      days = var.log_file_expiration_days
    }
    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }
  }

  rule {
    id     = "abort-incomplete-uploads"
    status = "Enabled"
    filter {}
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }

  depends_on = [aws_s3_bucket_versioning.this]

  lifecycle {
    precondition {
      condition     = var.transition_to_glacier_days == null ? true : var.transition_to_glacier_days < var.log_file_expiration_days
      error_message = "transition_to_glacier_days (${coalesce(var.transition_to_glacier_days, 0)}) must be under log_file_expiration_days (${var.log_file_expiration_days})."
    }
    precondition {
      condition     = var.object_lock == null ? true : var.log_file_expiration_days >= var.object_lock.days
      error_message = "log_file_expiration_days (${var.log_file_expiration_days}) must be at least object_lock.days: a locked log file cannot expire sooner."
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  count = var.create && var.access_log_bucket != null ? 1 : 0

  bucket        = aws_s3_bucket.this[0].id
  target_bucket = var.access_log_bucket
  target_prefix = "${local.bucket_name}/"
}

# ---------------------------------------------------------------------------------------------
# The trail: management calls of every region, validated log files, CloudWatch Logs delivery
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  count = var.create ? 1 : 0

  name              = local.log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = local.tags
}

resource "aws_cloudtrail" "this" {
  count = var.create ? 1 : 0

  # checkov:skip=CKV_AWS_252:Deliveries are not announced on SNS: the alarms on the metric filters are what notifies, and only for the calls that matter.
  name                          = local.trail_name
  s3_bucket_name                = aws_s3_bucket.this[0].id
  s3_key_prefix                 = var.s3_key_prefix
  is_multi_region_trail         = var.multi_region
  include_global_service_events = true
  enable_log_file_validation    = true
  kms_key_id                    = var.kms_key_arn
  cloud_watch_logs_group_arn    = "${aws_cloudwatch_log_group.this[0].arn}:*"
  cloud_watch_logs_role_arn     = aws_iam_role.logs[0].arn

  event_selector {
    read_write_type           = "All"
    include_management_events = true
  }

  tags = merge(local.tags, { Name = local.trail_name })

  depends_on = [aws_s3_bucket_policy.this, aws_iam_role_policy.logs]
}

# ---------------------------------------------------------------------------------------------
# Who changed what serves: metric filters on the trail's log group, an alarm each
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_metric_filter" "this" {
  for_each = var.create ? local.changes : {}

  name           = "${var.name}-${each.key}-changes"
  log_group_name = aws_cloudwatch_log_group.this[0].name
  pattern        = local.patterns[each.key]

  metric_transformation {
    name          = each.value.metric
    namespace     = local.namespace
    value         = "1"
    default_value = "0"
    unit          = "Count"
  }

  lifecycle {
    precondition {
      condition     = length(local.patterns[each.key]) <= 1024
      error_message = "The ${each.key} filter pattern is ${length(local.patterns[each.key])} characters, over CloudWatch Logs' 1024: trust fewer roles (trusted_role_arns), e.g. one role per team."
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.create ? local.changes : {}

  alarm_name          = "${var.name}-untrusted-${each.key}-change"
  alarm_description   = "${each.value.description} made by a caller that is not one of the trusted roles (byo audit --since 1h tells who)."
  namespace           = local.namespace
  metric_name         = each.value.metric
  statistic           = "Sum"
  period              = var.alarm_period_seconds
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching" # no call, no change
  alarm_actions       = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]
  ok_actions          = var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]

  tags = local.tags

  depends_on = [aws_cloudwatch_log_metric_filter.this]
}
