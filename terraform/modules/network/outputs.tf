output "vpc_id" {
  description = "ID of the VPC."
  value       = try(aws_vpc.this[0].id, null)
}

output "vpc_cidr_block" {
  description = "IPv4 CIDR block of the VPC."
  value       = try(aws_vpc.this[0].cidr_block, null)
}

output "availability_zones" {
  description = "Availability zones the subnets are in, in subnet order."
  value       = var.create ? local.azs : null
}

output "private_subnet_ids" {
  description = "IDs of the private subnets, one per zone, in availability_zones order."
  value       = var.create ? [for az in local.azs : aws_subnet.private[az].id] : null
}

output "public_subnet_ids" {
  description = "IDs of the public subnets in availability_zones order; empty when enable_public_subnets = false."
  value       = var.create ? [for az in local.azs : aws_subnet.public[az].id if var.enable_public_subnets] : null
}

output "private_route_table_ids" {
  description = "IDs of the private route tables (one per private subnet), in availability_zones order."
  value       = var.create ? [for az in local.azs : aws_route_table.private[az].id] : null
}

output "batch_security_group_id" {
  description = "Security group for Batch jobs and the trigger Lambda: no ingress, HTTPS egress to the VPC endpoints."
  value       = try(aws_security_group.batch[0].id, null)
}

output "endpoint_security_group_id" {
  description = "Security group for the SageMaker endpoint's VPC config: HTTPS only within the group and to the VPC endpoints and S3."
  value       = try(aws_security_group.endpoint[0].id, null)
}

output "vpc_endpoints_security_group_id" {
  description = "Security group of the interface VPC endpoints: HTTPS ingress from the VPC."
  value       = try(aws_security_group.vpc_endpoints[0].id, null)
}

output "gateway_endpoint_ids" {
  description = "IDs of the gateway VPC endpoints by service (s3, dynamodb)."
  value       = var.create ? { for k, e in aws_vpc_endpoint.gateway : k => e.id } : null
}

output "interface_endpoint_ids" {
  description = "IDs of the interface VPC endpoints by service suffix (e.g. \"sagemaker.runtime\")."
  value       = var.create ? { for k, e in aws_vpc_endpoint.interface : k => e.id } : null
}

output "flow_log_group_name" {
  description = "Name of the CloudWatch log group receiving the VPC flow logs; null when flow logs are off."
  value       = try(aws_cloudwatch_log_group.flow_logs[0].name, null)
}
