mock_provider "aws" {
  mock_data "aws_caller_identity" {
    defaults = { account_id = "111122223333" }
  }
  mock_data "aws_region" {
    defaults = { name = "us-east-1" }
  }
  mock_data "aws_partition" {
    defaults = { partition = "aws" }
  }
  mock_data "aws_availability_zones" {
    defaults = { names = ["us-east-1a", "us-east-1b", "us-east-1c"] }
  }
  mock_resource "aws_vpc" {
    defaults = { id = "vpc-0mock" }
  }
  mock_resource "aws_vpc_endpoint" {
    defaults = { id = "vpce-0mock", prefix_list_id = "pl-0mock" }
  }
  mock_resource "aws_iam_role" {
    defaults = { arn = "arn:aws:iam::111122223333:role/byo-vpc-flow-logs" }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = { arn = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc-flow-logs/byo" }
  }
}

variables {
  name        = "byo"
  kms_key_arn = "arn:aws:kms:us-east-1:111122223333:key/platform"
  tags        = { team = "ml" }
}

run "defaults_two_private_zones_all_endpoints_no_internet" {
  command = apply

  assert {
    condition     = aws_vpc.this[0].cidr_block == "10.20.0.0/16" && aws_vpc.this[0].enable_dns_support && aws_vpc.this[0].enable_dns_hostnames
    error_message = "VPC uses the default CIDR with DNS support and hostnames on"
  }
  assert {
    condition     = aws_vpc.this[0].tags["Name"] == "byo" && aws_vpc.this[0].tags["team"] == "ml"
    error_message = "VPC carries the given tags plus its Name"
  }
  assert {
    condition     = output.availability_zones == tolist(["us-east-1a", "us-east-1b"])
    error_message = "the first az_count (2) available zones are used, in order"
  }
  assert {
    condition     = aws_subnet.private["us-east-1a"].cidr_block == "10.20.0.0/20" && aws_subnet.private["us-east-1b"].cidr_block == "10.20.16.0/20"
    error_message = "private subnet i is the VPC's i-th /20"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.private : !s.map_public_ip_on_launch])
    error_message = "private subnets never map public IPs"
  }
  assert {
    condition     = length(aws_route_table.private) == 2 && length(aws_route_table_association.private) == 2
    error_message = "each private subnet has its own route table"
  }
  assert {
    condition = (length(aws_subnet.public) + length(aws_internet_gateway.this) + length(aws_route_table.public)
    + length(aws_nat_gateway.this) + length(aws_eip.nat) + length(aws_route.private_nat_gateway)) == 0
    error_message = "no public subnets, internet gateway or NAT by default"
  }
  assert {
    condition     = output.public_subnet_ids == [] && length(output.private_subnet_ids) == 2
    error_message = "public_subnet_ids is empty when public subnets are off"
  }
  assert {
    condition     = aws_vpc_endpoint.gateway["s3"].service_name == "com.amazonaws.us-east-1.s3" && aws_vpc_endpoint.gateway["dynamodb"].service_name == "com.amazonaws.us-east-1.dynamodb"
    error_message = "S3 and DynamoDB gateway endpoints are named for the region"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.gateway : e.vpc_endpoint_type == "Gateway" && length(e.route_table_ids) == 2])
    error_message = "gateway endpoints attach to every private route table"
  }
  assert {
    condition     = toset(keys(aws_vpc_endpoint.interface)) == toset(["sagemaker.runtime", "sagemaker.api", "ecr.api", "ecr.dkr", "logs", "sts", "batch", "monitoring"])
    error_message = "every default interface endpoint is created"
  }
  assert {
    condition     = aws_vpc_endpoint.interface["sagemaker.runtime"].service_name == "com.amazonaws.us-east-1.sagemaker.runtime"
    error_message = "interface endpoint service names are com.amazonaws.<region>.<service>"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : e.vpc_endpoint_type == "Interface" && e.private_dns_enabled && length(e.subnet_ids) == 2 && length(e.security_group_ids) == 1])
    error_message = "interface endpoints have private DNS, sit in both private subnets and use the vpc_endpoints group"
  }
  assert {
    condition     = length(aws_default_security_group.this[0].ingress) == 0 && length(aws_default_security_group.this[0].egress) == 0
    error_message = "the default security group has no rules"
  }
  assert {
    condition = (aws_vpc_security_group_egress_rule.batch_vpc_https[0].from_port == 443 && aws_vpc_security_group_egress_rule.batch_vpc_https[0].to_port == 443
    && aws_vpc_security_group_egress_rule.batch_vpc_https[0].cidr_ipv4 == "10.20.0.0/16")
    error_message = "Batch egress is HTTPS to the VPC CIDR"
  }
  assert {
    condition     = toset(keys(aws_vpc_security_group_egress_rule.batch_gateway_https)) == toset(["s3", "dynamodb"]) && alltrue([for r in aws_vpc_security_group_egress_rule.batch_gateway_https : r.prefix_list_id == "pl-0mock" && r.from_port == 443])
    error_message = "Batch egress reaches S3 and DynamoDB over HTTPS through their prefix lists"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.endpoint_self_https[0].referenced_security_group_id == aws_security_group.endpoint[0].id
    error_message = "the endpoint group admits HTTPS only from itself"
  }
  assert {
    condition     = aws_vpc_security_group_egress_rule.endpoint_vpc_https[0].cidr_ipv4 == "10.20.0.0/16" && aws_vpc_security_group_egress_rule.endpoint_s3_https[0].prefix_list_id == "pl-0mock"
    error_message = "endpoint egress is HTTPS to the VPC and the S3 prefix list"
  }
  assert {
    condition     = aws_vpc_security_group_ingress_rule.vpc_endpoints_https[0].cidr_ipv4 == "10.20.0.0/16" && aws_vpc_security_group_ingress_rule.vpc_endpoints_https[0].from_port == 443
    error_message = "interface endpoints admit HTTPS from the VPC"
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs[0].name == "/aws/vpc-flow-logs/byo" && aws_cloudwatch_log_group.flow_logs[0].retention_in_days == 365
    error_message = "flow logs go to /aws/vpc-flow-logs/<name>, kept 365 days"
  }
  assert {
    condition     = aws_cloudwatch_log_group.flow_logs[0].kms_key_id == "arn:aws:kms:us-east-1:111122223333:key/platform"
    error_message = "the flow-log group is encrypted with the given key"
  }
  assert {
    condition     = aws_flow_log.this[0].traffic_type == "ALL" && aws_flow_log.this[0].log_destination_type == "cloud-watch-logs"
    error_message = "the VPC's flow log records all traffic to CloudWatch Logs"
  }
  assert {
    condition     = jsondecode(aws_iam_role.flow_logs[0].assume_role_policy).Statement[0].Principal.Service == "vpc-flow-logs.amazonaws.com"
    error_message = "only the flow-logs service assumes the role"
  }
  assert {
    condition     = jsondecode(aws_iam_role.flow_logs[0].assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111122223333"
    error_message = "the trust policy is limited to this account"
  }
  assert {
    condition = (jsondecode(aws_iam_role_policy.flow_logs[0].policy).Statement[0].Resource == [
      "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc-flow-logs/byo",
      "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vpc-flow-logs/byo:*",
    ])
    error_message = "the flow-log role writes only its log group"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.flow_logs[0].policy).Statement : s.Resource != "*" && !contains(flatten([s.Action]), "*")])
    error_message = "no statement of the flow-log policy uses \"*\""
  }
  assert {
    condition     = output.flow_log_group_name == "/aws/vpc-flow-logs/byo" && output.vpc_cidr_block == "10.20.0.0/16"
    error_message = "outputs are set"
  }
}

run "three_zones" {
  command = apply

  variables {
    az_count = 3
  }

  assert {
    condition     = output.availability_zones == tolist(["us-east-1a", "us-east-1b", "us-east-1c"])
    error_message = "three zones are used"
  }
  assert {
    condition     = length(aws_subnet.private) == 3 && aws_subnet.private["us-east-1c"].cidr_block == "10.20.32.0/20"
    error_message = "the third private subnet is the VPC's third /20"
  }
  assert {
    condition     = length(aws_route_table.private) == 3 && length(output.private_route_table_ids) == 3
    error_message = "one route table per private subnet"
  }
  assert {
    condition     = alltrue([for e in aws_vpc_endpoint.interface : length(e.subnet_ids) == 3])
    error_message = "interface endpoints span all three zones"
  }
}

run "public_subnets_and_a_nat_gateway_per_zone" {
  command = apply

  variables {
    enable_public_subnets = true
    enable_nat_gateway    = true
  }

  assert {
    condition     = aws_subnet.public["us-east-1a"].cidr_block == "10.20.240.0/24" && aws_subnet.public["us-east-1b"].cidr_block == "10.20.241.0/24"
    error_message = "public subnets are /24s of the VPC's last /20"
  }
  assert {
    condition     = alltrue([for s in aws_subnet.public : !s.map_public_ip_on_launch])
    error_message = "even public subnets do not map public IPs by default"
  }
  assert {
    condition     = length(aws_internet_gateway.this) == 1 && aws_route.public_internet_gateway[0].destination_cidr_block == "0.0.0.0/0"
    error_message = "the public route table sends 0.0.0.0/0 to the internet gateway"
  }
  assert {
    condition     = length(aws_route_table_association.public) == 2
    error_message = "both public subnets use the public route table"
  }
  assert {
    condition     = toset(keys(aws_nat_gateway.this)) == toset(["us-east-1a", "us-east-1b"]) && length(aws_eip.nat) == 2
    error_message = "one NAT gateway with its own Elastic IP per zone"
  }
  assert {
    condition     = aws_nat_gateway.this["us-east-1b"].subnet_id == aws_subnet.public["us-east-1b"].id
    error_message = "each NAT gateway sits in its zone's public subnet"
  }
  assert {
    condition     = length(aws_route.private_nat_gateway) == 2 && alltrue([for r in aws_route.private_nat_gateway : r.destination_cidr_block == "0.0.0.0/0"])
    error_message = "every private route table defaults to a NAT gateway"
  }
  assert {
    condition     = length(output.public_subnet_ids) == 2
    error_message = "public_subnet_ids lists the public subnets"
  }
}

run "single_nat_gateway_serves_every_zone" {
  command = plan

  variables {
    enable_public_subnets = true
    enable_nat_gateway    = true
    single_nat_gateway    = true
    az_count              = 3
  }

  assert {
    condition     = keys(aws_nat_gateway.this) == ["us-east-1a"] && length(aws_eip.nat) == 1
    error_message = "one NAT gateway, in the first zone"
  }
  assert {
    condition     = length(aws_route.private_nat_gateway) == 3
    error_message = "all three private route tables route to it"
  }
}

run "public_subnets_without_nat" {
  command = plan

  variables {
    enable_public_subnets = true
  }

  assert {
    condition     = length(aws_subnet.public) == 2 && length(aws_internet_gateway.this) == 1
    error_message = "public subnets and the internet gateway exist"
  }
  assert {
    condition     = length(aws_nat_gateway.this) + length(aws_route.private_nat_gateway) == 0
    error_message = "private subnets stay without a default route"
  }
}

run "explicit_zones_and_endpoints_and_cidr" {
  command = plan

  variables {
    vpc_cidr            = "10.0.0.0/20"
    azs                 = ["us-east-1c", "us-east-1a"]
    interface_endpoints = ["sagemaker.runtime"]
  }

  assert {
    condition     = output.availability_zones == tolist(["us-east-1c", "us-east-1a"]) && length(data.aws_availability_zones.available) == 0
    error_message = "given zones are used in their order, without looking zones up"
  }
  assert {
    condition     = aws_subnet.private["us-east-1c"].cidr_block == "10.0.0.0/24" && aws_subnet.private["us-east-1a"].cidr_block == "10.0.1.0/24"
    error_message = "the scheme scales with the VPC prefix (/20 VPC -> /24 private subnets)"
  }
  assert {
    condition     = keys(aws_vpc_endpoint.interface) == ["sagemaker.runtime"]
    error_message = "only the listed interface endpoints are created"
  }
  assert {
    condition     = length(aws_vpc_endpoint.gateway) == 2
    error_message = "gateway endpoints are always created"
  }
}

run "flow_logs_off_needs_no_key" {
  command = plan

  variables {
    enable_flow_logs = false
    kms_key_arn      = null
  }

  assert {
    condition     = length(aws_flow_log.this) + length(aws_cloudwatch_log_group.flow_logs) + length(aws_iam_role.flow_logs) == 0
    error_message = "no flow-log resources when flow logs are off"
  }
  assert {
    condition     = output.flow_log_group_name == null
    error_message = "flow_log_group_name is null when flow logs are off"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.availability_zones == tolist(["us-east-1a", "us-east-1b"]) && length(output.private_subnet_ids) == 2
    error_message = "the example spans the region's first two zones with one private subnet each"
  }
  assert {
    condition     = output.flow_log_group_name == "/aws/vpc-flow-logs/byo"
    error_message = "the example's flow logs go to the encrypted log group"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create      = false
    kms_key_arn = null
  }

  assert {
    condition = (length(aws_vpc.this) + length(aws_subnet.private) + length(aws_route_table.private) + length(aws_security_group.batch)
      + length(aws_security_group.endpoint) + length(aws_security_group.vpc_endpoints) + length(aws_vpc_endpoint.gateway)
    + length(aws_vpc_endpoint.interface) + length(aws_flow_log.this) + length(aws_default_security_group.this)) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition = (output.vpc_id == null && output.private_subnet_ids == null && output.public_subnet_ids == null
      && output.availability_zones == null && output.batch_security_group_id == null && output.gateway_endpoint_ids == null
    && output.interface_endpoint_ids == null && output.flow_log_group_name == null && output.private_route_table_ids == null)
    error_message = "outputs are null when nothing is created"
  }
}

# rejects_bad_inputs_1: one bad value per variable, each must be rejected:
#   rejects_a_bad_cidr (var.vpc_cidr)
#   rejects_one_zone (var.az_count)
#   rejects_a_one_zone_list (var.azs)
#   rejects_nat_without_public_subnets (var.enable_nat_gateway)
#   rejects_flow_logs_without_a_key (var.kms_key_arn)
#   rejects_a_bad_retention (var.flow_logs_retention_days)
#   rejects_a_bad_traffic_type (var.flow_logs_traffic_type)
#   rejects_a_bad_interface_endpoint (var.interface_endpoints)
#   rejects_a_bad_name (var.name)
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # rejects_a_bad_cidr
    vpc_cidr = "10.20.0.0/33"
    # rejects_one_zone
    az_count = 1
    # rejects_a_one_zone_list
    azs = ["us-east-1a"]
    # rejects_nat_without_public_subnets
    enable_nat_gateway = true
    # rejects_flow_logs_without_a_key
    kms_key_arn = null
    # rejects_a_bad_retention
    flow_logs_retention_days = 100
    # rejects_a_bad_traffic_type
    flow_logs_traffic_type = "all"
    # rejects_a_bad_interface_endpoint
    interface_endpoints = ["com.amazonaws.us-east-1.sts"]
    # rejects_a_bad_name
    name = "Bad_Name"
  }
  expect_failures = [
    var.vpc_cidr,
    var.az_count,
    var.azs,
    var.enable_nat_gateway,
    var.kms_key_arn,
    var.flow_logs_retention_days,
    var.flow_logs_traffic_type,
    var.interface_endpoints,
    var.name,
  ]
}

# rejects_bad_inputs_2: one bad value per variable, each must be rejected:
#   rejects_a_too_small_vpc (var.vpc_cidr)
#   rejects_seven_zones (var.az_count)
#   rejects_duplicate_zones (var.azs)
#   rejects_a_bad_key_arn (var.kms_key_arn)
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    # rejects_a_too_small_vpc
    vpc_cidr = "10.20.0.0/24"
    # rejects_seven_zones
    az_count = 7
    # rejects_duplicate_zones
    azs = ["us-east-1a", "us-east-1a"]
    # rejects_a_bad_key_arn
    kms_key_arn = "alias/platform"
  }
  expect_failures = [
    var.vpc_cidr,
    var.az_count,
    var.azs,
    var.kms_key_arn,
  ]
}

# rejects_bad_inputs_3: one bad value per variable, each must be rejected; the zone lookup's
# postcondition reads only az_count (valid here) and the zones, not vpc_cidr:
#   rejects_a_cidr_with_host_bits (var.vpc_cidr)
#   rejects_more_zones_than_the_region_has (data.aws_availability_zones.available: 4 zones, the
#   mocked region has 3)
run "rejects_bad_inputs_3" {
  command = plan
  variables {
    # rejects_a_cidr_with_host_bits
    vpc_cidr = "10.20.1.0/16"
    # rejects_more_zones_than_the_region_has
    az_count = 4
  }
  expect_failures = [
    var.vpc_cidr,
    data.aws_availability_zones.available,
  ]
}
