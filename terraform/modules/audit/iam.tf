# ---------------------------------------------------------------------------------------------
# Bucket policy: TLS only; CloudTrail writes this trail's log files and nothing else (AWS's
# "Amazon S3 bucket policy for CloudTrail", with aws:SourceArn against the confused deputy)
# ---------------------------------------------------------------------------------------------
locals {
  bucket_policy_statements = [
    {
      Sid       = "DenyInsecureTransport"
      Effect    = "Deny"
      Principal = "*"
      Action    = "s3:*"
      Resource  = [local.bucket_arn, "${local.bucket_arn}/*"]
      Condition = { Bool = { "aws:SecureTransport" = "false" } }
    },
    {
      Sid       = "CloudTrailChecksTheBucketAcl"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:GetBucketAcl"
      Resource  = local.bucket_arn
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    },
    {
      Sid       = "CloudTrailWritesTheTrailsLogFiles"
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "s3:PutObject"
      Resource  = "${local.bucket_arn}/${var.s3_key_prefix}/AWSLogs/${local.account_id}/*"
      Condition = {
        StringEquals = {
          "s3:x-amz-acl"  = "bucket-owner-full-control"
          "aws:SourceArn" = local.trail_arn
        }
      }
    },
  ]
  # by Sid, for the tests
  statements = { for s in local.bucket_policy_statements : s.Sid => s }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = jsonencode({ Version = "2012-10-17", Statement = local.bucket_policy_statements })

  depends_on = [aws_s3_bucket_public_access_block.this]
}

# ---------------------------------------------------------------------------------------------
# CloudTrail -> CloudWatch Logs: its streams in the trail's group only
# ---------------------------------------------------------------------------------------------
resource "aws_iam_role" "logs" {
  count = var.create ? 1 : 0

  name = "${var.name}-audit-trail-logs"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "cloudtrail.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceArn" = local.trail_arn } }
    }]
  })

  tags = local.tags
}

resource "aws_iam_role_policy" "logs" {
  count = var.create ? 1 : 0

  name = "deliver-to-trail-log-group"
  role = aws_iam_role.logs[0].id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "TrailStreams"
      Effect   = "Allow"
      Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
      Resource = "${aws_cloudwatch_log_group.this[0].arn}:log-stream:${local.account_id}_CloudTrail_*"
    }]
  })
}
