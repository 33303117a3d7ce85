output "model_package_group_name" {
  description = "Name of the model package group (model registry)."
  value       = module.registry.model_package_group_name
}

output "pipeline_role_arn" {
  description = "ARN of the SageMaker pipeline's role."
  value       = module.registry.pipeline_role_arn
}
