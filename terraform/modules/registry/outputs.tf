output "model_package_group_name" {
  description = "Name of the model package group (model registry) of the endpoint's model versions."
  value       = try(aws_sagemaker_model_package_group.this[0].model_package_group_name, null)
}

output "model_package_group_arn" {
  description = "ARN of the model package group."
  value       = try(aws_sagemaker_model_package_group.this[0].arn, null)
}

output "pipeline_role_arn" {
  description = "ARN of the role the SageMaker pipeline and its processing and training jobs run as (byo pipeline upsert); null with create_pipeline_role = false."
  value       = try(aws_iam_role.this[0].arn, null)
}
