output "key_arn" {
  description = "ARN of the platform key."
  value       = module.kms.key_arn
}

output "alias_name" {
  description = "Alias of the platform key."
  value       = module.kms.alias_name
}
