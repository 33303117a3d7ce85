locals {
  # Repository key (as given) => full repository name.
  repositories = var.create ? { for r in var.repositories : r => "${var.name}/${r}" } : {}
  tags         = merge({ Name = var.name }, var.tags)

  untagged_expiry_days = 7

  # Rule order matters: ECR requires the "any" rule to have the highest rulePriority (evaluated last),
  # so untagged images are expired first and the remaining count applies to everything else.
  lifecycle_policy = jsonencode({
    rules = [
      {
        rulePriority = 1
        description  = "Expire untagged images ${local.untagged_expiry_days} days after push"
        selection = {
          tagStatus   = "untagged"
          countType   = "sinceImagePushed"
          countUnit   = "days"
          countNumber = local.untagged_expiry_days
        }
        action = { type = "expire" }
      },
      {
        rulePriority = 2
        description  = "Keep the last ${var.keep_last_images} images"
        selection = {
          tagStatus   = "any"
          countType   = "imageCountMoreThan"
          countNumber = var.keep_last_images
        }
        action = { type = "expire" }
      },
    ]
  })
}

# ---------------------------------------------------------------------------------------------
# Repositories: immutable tags, scan on push, KMS-encrypted
# ---------------------------------------------------------------------------------------------
resource "aws_ecr_repository" "this" {
  for_each = local.repositories

  name                 = each.value
  image_tag_mutability = "IMMUTABLE"
  force_delete         = var.force_delete

  image_scanning_configuration {
    scan_on_push = true
  }

  encryption_configuration {
    encryption_type = "KMS"
    kms_key         = var.kms_key_arn
  }

  tags = merge(local.tags, { Name = each.value })
}

# ---------------------------------------------------------------------------------------------
# Lifecycle: expire untagged images, keep the last N
# ---------------------------------------------------------------------------------------------
resource "aws_ecr_lifecycle_policy" "this" {
  for_each = local.repositories

  repository = aws_ecr_repository.this[each.key].name
  policy     = local.lifecycle_policy
}
