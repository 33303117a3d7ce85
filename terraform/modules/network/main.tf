data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  count = var.create && var.azs == null ? 1 : 0

  state = "available"

  lifecycle {
    postcondition {
      condition     = length(self.names) >= var.az_count
      error_message = "The region has fewer available zones than az_count: lower az_count or list the zones in azs."
    }
  }
}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  azs = var.azs != null ? var.azs : try(slice(data.aws_availability_zones.available[0].names, 0, var.az_count), [])

  # Subnet scheme: the VPC CIDR is cut into 16 blocks of 4 more prefix bits (/20s of a /16).
  # Private subnet i (zone i in AZ order) is block i (blocks 0-5; 6-14 stay free for later tiers).
  # The last block (15) is cut again into 16 blocks; public subnet i is block i of it.
  # For 10.20.0.0/16: private 10.20.0.0/20, 10.20.16.0/20, ...; public 10.20.240.0/24, 10.20.241.0/24, ...
  public_block = cidrsubnet(var.vpc_cidr, 4, 15)
  subnets = {
    for i, az in local.azs : az => {
      index          = i
      private_cidr   = cidrsubnet(var.vpc_cidr, 4, i)
      public_cidr    = cidrsubnet(local.public_block, 4, i)
      nat_gateway_az = var.single_nat_gateway ? local.azs[0] : az
    }
  }

  private_subnets = local.create ? local.subnets : {}
  public_subnets  = local.create && var.enable_public_subnets ? local.subnets : {}
  nat_subnets = local.create && var.enable_nat_gateway ? {
    for az, s in local.subnets : az => s if !var.single_nat_gateway || s.index == 0
  } : {}
  nat_routes = local.create && var.enable_nat_gateway ? local.subnets : {}

  gateway_endpoints   = local.create ? { s3 = "com.amazonaws.${local.region}.s3", dynamodb = "com.amazonaws.${local.region}.dynamodb" } : {}
  interface_endpoints = local.create ? { for s in var.interface_endpoints : s => "com.amazonaws.${local.region}.${s}" } : {}

  create_flow_logs = local.create && var.enable_flow_logs
  flow_log_group   = "/aws/vpc-flow-logs/${var.name}"
}

# ---------------------------------------------------------------------------------------------
# VPC and its default security group (locked down: no rules, nothing should use it)
# ---------------------------------------------------------------------------------------------
resource "aws_vpc" "this" {
  count = local.create ? 1 : 0

  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true # interface endpoints' private DNS needs both

  tags = local.tags
}

resource "aws_default_security_group" "this" {
  count = local.create ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-default-unused" })
}

# ---------------------------------------------------------------------------------------------
# Private subnets: one per zone, one route table each (so each can route to its zone's NAT)
# ---------------------------------------------------------------------------------------------
resource "aws_subnet" "private" {
  for_each = local.private_subnets

  vpc_id                  = aws_vpc.this[0].id
  availability_zone       = each.key
  cidr_block              = each.value.private_cidr
  map_public_ip_on_launch = false

  tags = merge(local.tags, { Name = "${var.name}-private-${each.key}", Tier = "private" })
}

resource "aws_route_table" "private" {
  for_each = local.private_subnets

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-private-${each.key}" })
}

resource "aws_route_table_association" "private" {
  for_each = local.private_subnets

  subnet_id      = aws_subnet.private[each.key].id
  route_table_id = aws_route_table.private[each.key].id
}

# ---------------------------------------------------------------------------------------------
# Public subnets and internet gateway (optional; they hold only NAT gateways)
# ---------------------------------------------------------------------------------------------
resource "aws_subnet" "public" {
  for_each = local.public_subnets

  vpc_id            = aws_vpc.this[0].id
  availability_zone = each.key
  cidr_block        = each.value.public_cidr
  # NAT gateways get their Elastic IPs explicitly; nothing launched here gets a public IP by default.
  map_public_ip_on_launch = false

  tags = merge(local.tags, { Name = "${var.name}-public-${each.key}", Tier = "public" })
}

resource "aws_internet_gateway" "this" {
  count = local.create && var.enable_public_subnets ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = local.tags
}

resource "aws_route_table" "public" {
  count = local.create && var.enable_public_subnets ? 1 : 0

  vpc_id = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet_gateway" {
  count = local.create && var.enable_public_subnets ? 1 : 0

  route_table_id         = aws_route_table.public[0].id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this[0].id
}

resource "aws_route_table_association" "public" {
  for_each = local.public_subnets

  subnet_id      = aws_subnet.public[each.key].id
  route_table_id = aws_route_table.public[0].id
}

# ---------------------------------------------------------------------------------------------
# NAT gateways (optional): one per zone, or one in the first zone with single_nat_gateway
# ---------------------------------------------------------------------------------------------
resource "aws_eip" "nat" {
  for_each = local.nat_subnets

  domain = "vpc"

  tags = merge(local.tags, { Name = "${var.name}-nat-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  for_each = local.nat_subnets

  allocation_id = aws_eip.nat[each.key].id
  subnet_id     = aws_subnet.public[each.key].id

  tags = merge(local.tags, { Name = "${var.name}-nat-${each.key}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route" "private_nat_gateway" {
  for_each = local.nat_routes

  route_table_id         = aws_route_table.private[each.key].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[each.value.nat_gateway_az].id
}

# ---------------------------------------------------------------------------------------------
# Security groups: Batch jobs and the trigger Lambda, the SageMaker endpoint, interface endpoints
# ---------------------------------------------------------------------------------------------
resource "aws_security_group" "batch" {
  count = local.create ? 1 : 0

  # checkov:skip=CKV2_AWS_5:Attached outside this module, by the Batch compute environment and the trigger Lambda (their modules take batch_security_group_id).
  name        = "${var.name}-batch"
  description = "Batch scoring jobs and the S3 trigger Lambda: no ingress, HTTPS egress to VPC endpoints only"
  vpc_id      = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-batch" })
}

resource "aws_vpc_security_group_egress_rule" "batch_vpc_https" {
  count = local.create ? 1 : 0

  security_group_id = aws_security_group.batch[0].id
  description       = "HTTPS to the interface VPC endpoints (ECR, Logs, STS, Batch, SageMaker, CloudWatch)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this[0].cidr_block

  tags = merge(local.tags, { Name = "${var.name}-batch-vpc-https" })
}

resource "aws_vpc_security_group_egress_rule" "batch_gateway_https" {
  for_each = local.gateway_endpoints

  security_group_id = aws_security_group.batch[0].id
  description       = "HTTPS to ${each.key} through its gateway endpoint (prefix list)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.gateway[each.key].prefix_list_id

  tags = merge(local.tags, { Name = "${var.name}-batch-${each.key}-https" })
}

resource "aws_security_group" "endpoint" {
  count = local.create ? 1 : 0

  # checkov:skip=CKV2_AWS_5:Attached outside this module, by the SageMaker model's VPC config (the endpoint module takes endpoint_security_group_id).
  name        = "${var.name}-endpoint"
  description = "SageMaker endpoint instances: HTTPS ingress only from this group, HTTPS egress to VPC endpoints and S3"
  vpc_id      = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-endpoint" })
}

resource "aws_vpc_security_group_ingress_rule" "endpoint_self_https" {
  count = local.create ? 1 : 0

  security_group_id            = aws_security_group.endpoint[0].id
  description                  = "HTTPS between members of the endpoint group only"
  ip_protocol                  = "tcp"
  from_port                    = 443
  to_port                      = 443
  referenced_security_group_id = aws_security_group.endpoint[0].id

  tags = merge(local.tags, { Name = "${var.name}-endpoint-self-https" })
}

resource "aws_vpc_security_group_egress_rule" "endpoint_vpc_https" {
  count = local.create ? 1 : 0

  security_group_id = aws_security_group.endpoint[0].id
  description       = "HTTPS to the interface VPC endpoints (ECR, Logs, STS)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this[0].cidr_block

  tags = merge(local.tags, { Name = "${var.name}-endpoint-vpc-https" })
}

resource "aws_vpc_security_group_egress_rule" "endpoint_s3_https" {
  count = local.create ? 1 : 0

  security_group_id = aws_security_group.endpoint[0].id
  description       = "HTTPS to S3 through its gateway endpoint (model artifacts, data capture)"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  prefix_list_id    = aws_vpc_endpoint.gateway["s3"].prefix_list_id

  tags = merge(local.tags, { Name = "${var.name}-endpoint-s3-https" })
}

resource "aws_security_group" "vpc_endpoints" {
  count = local.create ? 1 : 0

  # No egress rules on purpose: endpoint network interfaces only answer connections, and
  # security groups are stateful, so replies need no egress rule.
  name        = "${var.name}-vpc-endpoints"
  description = "Interface VPC endpoints: HTTPS ingress from the VPC, no egress"
  vpc_id      = aws_vpc.this[0].id

  tags = merge(local.tags, { Name = "${var.name}-vpc-endpoints" })
}

resource "aws_vpc_security_group_ingress_rule" "vpc_endpoints_https" {
  count = local.create ? 1 : 0

  security_group_id = aws_security_group.vpc_endpoints[0].id
  description       = "HTTPS from anywhere in the VPC to the interface endpoints"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = aws_vpc.this[0].cidr_block

  tags = merge(local.tags, { Name = "${var.name}-vpc-endpoints-https" })
}

# ---------------------------------------------------------------------------------------------
# VPC endpoints: S3 and DynamoDB gateways on the private route tables, interface endpoints
# ---------------------------------------------------------------------------------------------
resource "aws_vpc_endpoint" "gateway" {
  for_each = local.gateway_endpoints

  vpc_id            = aws_vpc.this[0].id
  service_name      = each.value
  vpc_endpoint_type = "Gateway"
  route_table_ids   = [for az in local.azs : aws_route_table.private[az].id]

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_vpc_endpoint" "interface" {
  for_each = local.interface_endpoints

  vpc_id              = aws_vpc.this[0].id
  service_name        = each.value
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = true
  subnet_ids          = [for az in local.azs : aws_subnet.private[az].id]
  security_group_ids  = [aws_security_group.vpc_endpoints[0].id]

  tags = merge(local.tags, { Name = "${var.name}-${each.key}" })
}

# ---------------------------------------------------------------------------------------------
# Flow logs: all VPC traffic to a KMS-encrypted log group, written by a role scoped to it
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "flow_logs" {
  count = local.create_flow_logs ? 1 : 0

  name              = local.flow_log_group
  retention_in_days = var.flow_logs_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = local.flow_log_group })
}

resource "aws_flow_log" "this" {
  count = local.create_flow_logs ? 1 : 0

  vpc_id               = aws_vpc.this[0].id
  traffic_type         = var.flow_logs_traffic_type
  log_destination_type = "cloud-watch-logs"
  log_destination      = aws_cloudwatch_log_group.flow_logs[0].arn
  iam_role_arn         = aws_iam_role.flow_logs[0].arn

  tags = merge(local.tags, { Name = "${var.name}-vpc" })
}
