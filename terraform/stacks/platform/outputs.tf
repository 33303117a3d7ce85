# Everything the operators (byo), the batch job and the local hosting read. `terraform output -json`.

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

output "data_bucket" {
  description = "Name of the data bucket."
  value       = module.storage.bucket_name
}

output "data_prefixes" {
  description = "What each prefix of the data bucket holds (input, output, errors, captures, ground_truth, monitoring, models, pipelines, checkpoints)."
  value       = module.storage.prefixes
}

output "kms_key_arn" {
  description = "KMS key encrypting the platform's data."
  value       = module.kms.key_arn
}

output "job_table" {
  description = "DynamoDB job table (one record per scored object version)."
  value       = module.storage.job_table_name
}

output "endpoint_name" {
  description = "SageMaker endpoint name."
  value       = module.endpoint.endpoint_name
}

output "endpoint_config_name" {
  description = "The endpoint configuration Terraform created initially (the operators create later ones)."
  value       = module.endpoint.endpoint_config_name
}

output "variant_names" {
  description = "Production variants of the initial endpoint configuration."
  value       = module.endpoint.variant_names
}

output "model_names" {
  description = "SageMaker model of each initial variant (variant => model name)."
  value       = module.endpoint.model_names
}

output "initial_model_s3_uri" {
  description = "S3 URI of the model artifact the initial variants serve."
  value       = "s3://${module.storage.bucket_name}/${aws_s3_object.initial_model.key}"
}

output "serving_image" {
  description = "Container image the initial variants run."
  value       = coalesce(var.serving_image, module.endpoint.image)
}

output "sagemaker_execution_role_arn" {
  description = "Execution role for SageMaker models the operators create."
  value       = module.endpoint.execution_role_arn
}

output "data_capture_s3_uri" {
  description = "Where the endpoint writes data capture."
  value       = module.endpoint.data_capture_s3_uri
}

output "model_package_group" {
  description = "Model registry (model package group) for model versions."
  value       = module.registry.model_package_group_name
}

output "autoscaling_resource_ids" {
  description = "Application Auto Scaling resource id of each variant."
  value       = module.autoscaling.resource_ids
}

output "autoscaling_policy_names" {
  description = "Target-tracking policy name of each variant (the operators re-create them for new variants)."
  value       = module.autoscaling.policy_names
}

output "trigger_function" {
  description = "Name of the S3 trigger Lambda."
  value       = module.trigger.function_name
}

output "trigger_dlq_url" {
  description = "URL of the trigger's dead-letter queue."
  value       = module.trigger.dlq_url
}

output "ecr_repository_urls" {
  description = "ECR repository URL of each image (batch-processor, serving, operators)."
  value       = module.ecr.repository_urls
}

output "vpc_id" {
  description = "VPC of the platform."
  value       = module.network.vpc_id
}

output "private_subnet_ids" {
  description = "Private subnets (one per availability zone) compute runs in."
  value       = module.network.private_subnet_ids
}

output "operator_image" {
  description = "The operators image (operators/Dockerfile, ENTRYPOINT byo) the monitoring job and the SageMaker pipeline's processing steps run."
  value       = "${module.ecr.repository_urls["operators"]}:${var.monitor_image_tag}"
}

output "compute_security_group_id" {
  description = "Security group of the platform's jobs in the private subnets (Batch; the SageMaker pipeline's processing and training jobs)."
  value       = module.network.batch_security_group_id
}

output "pipeline_role_arn" {
  description = "Role `byo pipeline upsert` gives the SageMaker pipeline and its processing and training jobs (the operators read it as setting pipeline_role_arn); null with enable_pipeline = false."
  value       = module.registry.pipeline_role_arn
}
