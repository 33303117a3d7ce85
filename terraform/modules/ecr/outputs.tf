output "repository_urls" {
  description = "Repository URL (<account>.dkr.ecr.<region>.amazonaws.com/<name>/<repository>) by repository key, e.g. repository_urls[\"serving\"]."
  value       = var.create ? { for k, r in aws_ecr_repository.this : k => r.repository_url } : null
}

output "repository_arns" {
  description = "Repository ARN by repository key (for IAM policies that pull or push images)."
  value       = var.create ? { for k, r in aws_ecr_repository.this : k => r.arn } : null
}

output "repository_names" {
  description = "Full repository name (<name>/<repository>) by repository key."
  value       = var.create ? { for k, r in aws_ecr_repository.this : k => r.name } : null
}
