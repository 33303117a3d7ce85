output "project_names" {
  description = "CodeBuild project of each image (image => \"<name>-build-<image>\"): `aws codebuild start-build --project-name` starts one by hand."
  value       = local.create ? { for image, p in aws_codebuild_project.this : image => p.name } : null
}

output "project_arns" {
  description = "ARN of each image's CodeBuild project (image => ARN)."
  value       = local.create ? { for image, p in aws_codebuild_project.this : image => p.arn } : null
}

output "log_group_names" {
  description = "CloudWatch log group of each image's builds (image => \"/aws/codebuild/<project>\")."
  value       = local.create ? { for image, g in aws_cloudwatch_log_group.this : image => g.name } : null
}

output "role_arn" {
  description = "ARN of the projects' service role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "rule_name" {
  description = "EventBridge rule that starts the builds when the bundle is uploaded; null with build_on_upload = false."
  value       = try(aws_cloudwatch_event_rule.this[0].name, null)
}

output "bundle_uri" {
  description = "Where the source bundle goes (s3://<bucket>/<key>): `make bundle`, then upload build/bundle/source.zip there."
  value       = local.create ? "s3://${local.bundle_location}" : null
}
