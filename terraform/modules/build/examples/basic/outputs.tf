output "project_names" {
  description = "CodeBuild project of each image."
  value       = module.build.project_names
}

output "bundle_uri" {
  description = "Where to upload the source bundle."
  value       = module.build.bundle_uri
}
