output "repository_urls" {
  description = "Repository URL by repository key."
  value       = module.ecr.repository_urls
}

output "repository_arns" {
  description = "Repository ARN by repository key."
  value       = module.ecr.repository_arns
}
