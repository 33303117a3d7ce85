output "compute_environment_arn" {
  description = "ARN of the managed compute environment."
  value       = try(aws_batch_compute_environment.this[0].arn, null)
}

output "job_queue_arn" {
  description = "ARN of the job queue the jobs are submitted to."
  value       = try(aws_batch_job_queue.this[0].arn, null)
}

output "job_queue_name" {
  description = "Name of the job queue (<name>-scoring)."
  value       = try(aws_batch_job_queue.this[0].name, null)
}

output "job_definition_arns" {
  description = "ARN of each job definition's current revision (…:job-definition/<name>-<key>:<revision>) by job_definitions key, e.g. job_definition_arns[\"scoring\"]."
  value       = var.create ? { for k, d in aws_batch_job_definition.this : k => d.arn } : null
}

output "job_definition_names" {
  description = "Name of each job definition (<name>-<key>) by job_definitions key; submitting by name runs the latest active revision."
  value       = var.create ? { for k, d in aws_batch_job_definition.this : k => d.name } : null
}

output "job_role_arn" {
  description = "ARN of the module's job role, the scoring code's (bucket prefixes, job table, endpoints): jobs with job_role_arn null run as it."
  value       = try(aws_iam_role.job[0].arn, null)
}

output "execution_role_arn" {
  description = "ARN of the module's execution role (pulls the images of the jobs with execution_role_arn null, writes their logs)."
  value       = try(aws_iam_role.execution[0].arn, null)
}

output "service_role_arn" {
  description = "ARN of the Batch service role when create_service_role is true; null when AWS Batch uses its service-linked role."
  value       = try(aws_iam_role.service[0].arn, null)
}

output "instance_profile_arn" {
  description = "ARN of the container instances' profile (EC2/SPOT); null on Fargate."
  value       = try(aws_iam_instance_profile.this[0].arn, null)
}

output "log_group_name" {
  description = "Name of the job log group (/aws/batch/<name>); streams are <key>/default/<task id>."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}
