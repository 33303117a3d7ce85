output "availability_zones" {
  description = "Zones of the private subnets."
  value       = module.network.availability_zones
}

output "private_subnet_ids" {
  description = "Private subnets the platform's compute runs in."
  value       = module.network.private_subnet_ids
}

output "flow_log_group_name" {
  description = "The VPC's flow-log group."
  value       = module.network.flow_log_group_name
}
