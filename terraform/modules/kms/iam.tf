# ---------------------------------------------------------------------------------------------
# Key policy: the account's IAM policies decide who uses the key; the services below need the
# key policy itself, because they act as their service principal, not as a role of the account
# ---------------------------------------------------------------------------------------------
locals {
  logs_arn_base = "arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"

  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat(
      [
        {
          # The account's IAM policies decide who else may use the key (AWS's default key policy).
          # Key policies must name the key as "*" and the account root needs kms:* to keep the key manageable.
          Sid       = "AccountAdministers"
          Effect    = "Allow"
          Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
          Action    = "kms:*"
          Resource  = "*"
        },
      ],
      [for s in [
        {
          Sid       = "CloudWatchLogsEncryptsPlatformLogGroups"
          Effect    = "Allow"
          Principal = { Service = "logs.${local.region}.amazonaws.com" }
          Action    = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
          Resource  = "*"
          Condition = { ArnLike = { "kms:EncryptionContext:aws:logs:arn" = local.logs_arn_base } }
        },
      ] : s if var.allow_cloudwatch_logs],
      [for s in [
        {
          # CloudWatch alarms and EventBridge rules publish to the KMS-encrypted SNS topic.
          Sid       = "AlarmsAndEventsPublishToEncryptedTopics"
          Effect    = "Allow"
          Principal = { Service = var.topic_publisher_services }
          Action    = ["kms:Decrypt", "kms:GenerateDataKey*"]
          Resource  = "*"
          Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
        },
      ] : s if length(var.topic_publisher_services) > 0],
      [for s in [
        {
          # CloudTrail encrypts the trail's log files with the key (AWS's "Configure AWS KMS key
          # policies for CloudTrail"): only for this account's trails.
          Sid       = "CloudTrailEncryptsTrailLogs"
          Effect    = "Allow"
          Principal = { Service = "cloudtrail.amazonaws.com" }
          Action    = "kms:GenerateDataKey*"
          Resource  = "*"
          Condition = {
            StringEquals = { "aws:SourceAccount" = local.account_id }
            StringLike   = { "kms:EncryptionContext:aws:cloudtrail:arn" = "arn:${local.partition}:cloudtrail:*:${local.account_id}:trail/*" }
          }
        },
        {
          Sid       = "CloudTrailDescribesKey"
          Effect    = "Allow"
          Principal = { Service = "cloudtrail.amazonaws.com" }
          Action    = "kms:DescribeKey"
          Resource  = "*"
          Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
        },
      ] : s if var.allow_cloudtrail],
    )
  })
}

locals {
  # the CloudTrail statement of the key policy, for the tests (null without allow_cloudtrail)
  cloudtrail_statement = one([for s in jsondecode(local.key_policy).Statement : s if s.Sid == "CloudTrailEncryptsTrailLogs"])
}
