output "function_name" {
  description = "Name of the trigger Lambda function."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "function_arn" {
  description = "ARN of the trigger Lambda function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "role_arn" {
  description = "ARN of the function's execution role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "dlq_arn" {
  description = "ARN of the dead-letter queue holding S3 events the function failed to process."
  value       = try(aws_sqs_queue.this[0].arn, null)
}

output "dlq_url" {
  description = "URL of the dead-letter queue (for redriving or inspecting failed events)."
  value       = try(aws_sqs_queue.this[0].url, null)
}

output "dlq_name" {
  description = "Name of the dead-letter queue (the observability module's trigger_dlq_name input)."
  value       = try(aws_sqs_queue.this[0].name, null)
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}
