output "key_arn" {
  description = "ARN of the platform key (the kms_key_arn every other module takes)."
  value       = try(aws_kms_key.this[0].arn, null)
}

output "key_id" {
  description = "Id of the platform key."
  value       = try(aws_kms_key.this[0].key_id, null)
}

output "alias_name" {
  description = "Alias of the platform key (alias/<name>-platform)."
  value       = try(aws_kms_alias.this[0].name, null)
}
