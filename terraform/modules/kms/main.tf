data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)
}

# ---------------------------------------------------------------------------------------------
# The platform key: data bucket, job table, logs, queues, topics, images and captured data
# ---------------------------------------------------------------------------------------------
resource "aws_kms_key" "this" {
  count = var.create ? 1 : 0

  description             = "${var.name}: data bucket, job table, logs, queues and topics of the BYO platform"
  enable_key_rotation     = true
  deletion_window_in_days = var.deletion_window_in_days
  policy                  = local.key_policy

  tags = local.tags
}

resource "aws_kms_alias" "this" {
  count = var.create ? 1 : 0

  name          = "alias/${var.name}-platform"
  target_key_id = aws_kms_key.this[0].key_id
}
