# ---------------------------------------------------------------------------------------------
# Platform composition. The modules (network, storage, ecr, batch, trigger, endpoint,
# autoscaling, observability) are wired here as they land; for now the stack proves the provider
# reaches its target: the caller's identity and region.
# ---------------------------------------------------------------------------------------------
data "aws_caller_identity" "current" {}

data "aws_region" "current" {}
