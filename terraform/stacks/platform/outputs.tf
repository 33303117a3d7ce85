output "account_id" {
  description = "AWS account the stack is deployed into (123456789012 on the emulator)."
  value       = data.aws_caller_identity.current.account_id
}

output "region" {
  description = "AWS region the stack is deployed into."
  value       = data.aws_region.current.name
}

output "name" {
  description = "Name prefix of the platform's resources."
  value       = var.name
}
