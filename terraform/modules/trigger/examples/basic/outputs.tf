output "function_name" {
  description = "Name of the trigger Lambda."
  value       = module.trigger.function_name
}

output "dlq_name" {
  description = "Name of the trigger's dead-letter queue."
  value       = module.trigger.dlq_name
}
