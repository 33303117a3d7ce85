output "job_queue_arn" {
  description = "ARN of the job queue the trigger submits scoring jobs to."
  value       = module.batch.job_queue_arn
}

output "job_definition_arns" {
  description = "ARN of each job definition's current revision, by key."
  value       = module.batch.job_definition_arns
}

output "job_definition_names" {
  description = "Name of each job definition, by key."
  value       = module.batch.job_definition_names
}
