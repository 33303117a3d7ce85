output "bucket_name" {
  description = "Name of the data bucket."
  value       = try(aws_s3_bucket.this[0].id, null)
}

output "bucket_arn" {
  description = "ARN of the data bucket."
  value       = try(aws_s3_bucket.this[0].arn, null)
}

output "prefixes" {
  description = "What each prefix of the data bucket holds: input, output, errors, captures, ground_truth, monitoring, models, pipelines, checkpoints, datasets."
  value       = var.create ? local.prefixes : null
}

output "job_table_name" {
  description = "Name of the DynamoDB job table."
  value       = try(aws_dynamodb_table.this[0].name, null)
}

output "job_table_arn" {
  description = "ARN of the DynamoDB job table."
  value       = try(aws_dynamodb_table.this[0].arn, null)
}

output "job_table_start_time_index" {
  description = "Name of the job table's StartTime index."
  value       = var.create ? "StartTimeIndex" : null
}
