output "endpoint_name" {
  description = "Name of the SageMaker endpoint."
  value       = try(aws_sagemaker_endpoint.this[0].name, null)
}

output "endpoint_arn" {
  description = "ARN of the SageMaker endpoint."
  value       = try(aws_sagemaker_endpoint.this[0].arn, null)
}

output "endpoint_config_name" {
  description = "Name of the endpoint config Terraform manages: the endpoint's initial config, or the config to roll out after variants changed (the live config is the operators')."
  value       = try(aws_sagemaker_endpoint_configuration.this[0].name, null)
}

output "model_names" {
  description = "SageMaker model name of each variant and shadow variant (variant name => model name)."
  value       = var.create ? { for k, m in aws_sagemaker_model.this : k => m.name } : null
}

output "container_counts" {
  description = "Containers in each variant's model (variant name => 1 for one model, 2-15 for a serial inference pipeline)."
  value       = var.create ? { for k, m in aws_sagemaker_model.this : k => max(length(m.primary_container), length(m.container)) } : null
}

output "variant_names" {
  description = "Names of the endpoint's initial production variants, sorted."
  value       = var.create ? sort(keys(var.variants)) : null
}

output "shadow_variant_names" {
  description = "Names of the endpoint's shadow variants, sorted (empty without a shadow)."
  value       = var.create ? sort(keys(var.shadow_variants)) : null
}

output "variant_kinds" {
  description = "How each variant and shadow variant serves (variant name => \"instance\", \"serverless\" or \"multi-model\")."
  value       = var.create ? local.variant_kinds : null
}

output "multi_model_prefixes" {
  description = "S3 prefix of each multi-model variant (variant name => \"s3://.../\"): put model.tar.gz files there and name one as the request's TargetModel."
  value       = var.create ? { for k, v in local.all_variants : k => v.model_data_url if v.multi_model } : null
}

output "async_output_s3_uri" {
  description = "Where asynchronous inference writes results (null for a real-time endpoint)."
  value       = var.create ? try(var.async_inference.output_s3_uri, null) : null
}

output "async_failure_s3_uri" {
  description = "Where asynchronous inference writes errors (null for a real-time endpoint; output_s3_uri when not set)."
  value       = var.create && var.async_inference != null ? coalesce(var.async_inference.failure_s3_uri, var.async_inference.output_s3_uri) : null
}

output "execution_role_arn" {
  description = "ARN of the execution role of the endpoint's models (pass it to models the operators create)."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "image" {
  description = "Inference image URI of variants without their own image (default_image or the resolved prebuilt sagemaker-xgboost image)."
  value       = var.create ? local.default_image : null
}

output "data_capture_s3_uri" {
  description = "S3 URI data capture writes to (null without data capture)."
  value       = var.create ? try(var.data_capture.destination_s3_uri, null) : null
}
