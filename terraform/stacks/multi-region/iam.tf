# ---------------------------------------------------------------------------------------------
# The role S3 replicates as: read the replicated prefixes of the primary bucket (decrypting with
# the primary key), write replicas into the secondary bucket (encrypting with the secondary key).
# ---------------------------------------------------------------------------------------------
data "aws_iam_policy_document" "replication_assume" {
  provider = aws.primary

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
  }
}

resource "aws_iam_role" "replication" {
  provider = aws.primary

  name               = "${var.name}-replication"
  assume_role_policy = data.aws_iam_policy_document.replication_assume.json
}

data "aws_iam_policy_document" "replication" {
  provider = aws.primary

  statement {
    sid       = "ReadTheReplicationConfiguration"
    actions   = ["s3:GetReplicationConfiguration", "s3:ListBucket"]
    resources = ["arn:aws:s3:::${module.primary.data_bucket}"]
  }

  statement {
    sid = "ReadTheReplicatedObjects"
    actions = [
      "s3:GetObjectVersionForReplication",
      "s3:GetObjectVersionAcl",
      "s3:GetObjectVersionTagging",
    ]
    resources = [for prefix in var.replicated_prefixes : "arn:aws:s3:::${module.primary.data_bucket}/${prefix}*"]
  }

  statement {
    sid       = "WriteReplicas"
    actions   = ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"]
    resources = [for prefix in var.replicated_prefixes : "arn:aws:s3:::${module.secondary.data_bucket}/${prefix}*"]
  }

  statement {
    sid       = "DecryptInThePrimary"
    actions   = ["kms:Decrypt"]
    resources = [module.primary.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.primary_region}.amazonaws.com"]
    }
  }

  statement {
    sid       = "EncryptInTheSecondary"
    actions   = ["kms:Encrypt", "kms:GenerateDataKey"]
    resources = [module.secondary.kms_key_arn]
    condition {
      test     = "StringEquals"
      variable = "kms:ViaService"
      values   = ["s3.${var.secondary_region}.amazonaws.com"]
    }
  }
}

resource "aws_iam_role_policy" "replication" {
  provider = aws.primary

  name   = "replication"
  role   = aws_iam_role.replication.id
  policy = data.aws_iam_policy_document.replication.json
}
