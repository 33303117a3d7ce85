# ---------------------------------------------------------------------------------------------
# The image builds: uploading the source bundle (`make bundle`) to the data bucket builds the
# serving, batch-processor and operators images in CodeBuild and pushes them into the stack's
# ECR repositories, each with the tag the stack runs it with.
# ---------------------------------------------------------------------------------------------

variable "enable_build" {
  description = "Build the images in CodeBuild when the source bundle (`make bundle`) is uploaded to the data bucket's bundles/source.zip, pushing them into the stack's ECR repositories (serving_image_tag, batch_image_tag, monitor_image_tag). Sends the data bucket's events to EventBridge."
  type        = bool
  default     = true
}

variable "serving_image_tag" {
  description = "Tag the build pushes the serving image (serving/Dockerfile) with. The endpoint runs it once serving_image is set to the serving repository's image with this tag."
  type        = string
  default     = "0.1.0"
}

module "build" {
  source = "../../modules/build"

  create             = var.enable_build
  name               = var.name
  bundle_bucket_name = module.storage.bucket_name
  bundle_bucket_arn  = module.storage.bucket_arn
  kms_key_arn        = module.kms.key_arn
  images = {
    serving = {
      repository_url = module.ecr.repository_urls["serving"]
      repository_arn = module.ecr.repository_arns["serving"]
      dockerfile     = "serving/Dockerfile"
      image_tag      = var.serving_image_tag
    }
    batch-processor = {
      repository_url = module.ecr.repository_urls["batch-processor"]
      repository_arn = module.ecr.repository_arns["batch-processor"]
      dockerfile     = "batch_processor/Dockerfile"
      image_tag      = var.batch_image_tag
    }
    operators = {
      repository_url = module.ecr.repository_urls["operators"]
      repository_arn = module.ecr.repository_arns["operators"]
      dockerfile     = "operators/Dockerfile"
      image_tag      = var.monitor_image_tag
    }
  }
  # Outside the VPC on purpose: the stack's private subnets have no NAT gateway (the network
  # module's VPC endpoints cover ECR, S3 and Logs, but not the internet), and `docker build`
  # pulls the python base images from Docker Hub and the packages from PyPI. In those subnets
  # every build would fail at its first FROM.
  tags = var.tags
}

output "build_projects" {
  description = "CodeBuild project of each image (serving, batch-processor, operators); null with enable_build = false."
  value       = module.build.project_names
}

output "build_bundle_uri" {
  description = "Where `make bundle`'s build/bundle/source.zip is uploaded to build the images (s3://<data bucket>/bundles/source.zip); null with enable_build = false."
  value       = module.build.bundle_uri
}

output "build_log_groups" {
  description = "CloudWatch log group of each image's builds; null with enable_build = false."
  value       = module.build.log_group_names
}
