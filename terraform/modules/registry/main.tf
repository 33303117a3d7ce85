data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  model_package_group_name = coalesce(var.model_package_group_name, "${var.name}-models")
}

# ---------------------------------------------------------------------------------------------
# Model registry: the endpoint's model versions
# ---------------------------------------------------------------------------------------------
resource "aws_sagemaker_model_package_group" "this" {
  count = local.create && var.create_model_package_group ? 1 : 0

  model_package_group_name        = local.model_package_group_name
  model_package_group_description = "Model versions served by the SageMaker endpoint ${var.endpoint_name}"

  tags = merge(local.tags, { Name = local.model_package_group_name })
}
