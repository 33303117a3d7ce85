output "bucket_name" {
  description = "Name of the data bucket."
  value       = module.storage.bucket_name
}

output "prefixes" {
  description = "What each prefix of the data bucket holds."
  value       = module.storage.prefixes
}

output "job_table_name" {
  description = "Name of the DynamoDB job table."
  value       = module.storage.job_table_name
}
