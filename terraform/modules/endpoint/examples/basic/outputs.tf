output "endpoint_name" {
  description = "Name of the SageMaker endpoint."
  value       = module.endpoint.endpoint_name
}

output "variant_names" {
  description = "The endpoint's initial variants, sorted."
  value       = module.endpoint.variant_names
}

output "execution_role_arn" {
  description = "Execution role of the endpoint's models."
  value       = module.endpoint.execution_role_arn
}
