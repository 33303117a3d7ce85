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

output "model_names" {
  description = "SageMaker model of each variant."
  value       = module.endpoint.model_names
}

output "container_counts" {
  description = "Containers in each variant's model (the pipeline's two)."
  value       = module.endpoint.container_counts
}
