output "resource_ids" {
  description = "Application Auto Scaling resource id of each variant."
  value       = module.autoscaling.resource_ids
}

output "policy_names" {
  description = "Target-tracking policy name of each variant."
  value       = module.autoscaling.policy_names
}
