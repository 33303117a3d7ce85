mock_provider "aws" {
  mock_resource "aws_ecr_repository" {
    override_during = plan
    defaults = {
      arn            = "arn:aws:ecr:eu-west-1:111122223333:repository/mocked"
      repository_url = "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mocked"
    }
  }
}

variables {
  name        = "byo"
  kms_key_arn = "arn:aws:kms:eu-west-1:111122223333:key/platform"
  tags        = { team = "ml" }
}

run "defaults_create_three_immutable_scanned_encrypted_repositories" {
  command = plan

  assert {
    condition     = toset(keys(aws_ecr_repository.this)) == toset(["batch-processor", "serving", "operators"])
    error_message = "one repository per default image: batch-processor, serving and operators"
  }
  assert {
    condition = (aws_ecr_repository.this["batch-processor"].name == "byo/batch-processor" && aws_ecr_repository.this["serving"].name == "byo/serving"
    && aws_ecr_repository.this["operators"].name == "byo/operators")
    error_message = "repositories are named <name>/<repository>"
  }
  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : r.image_tag_mutability == "IMMUTABLE"])
    error_message = "image tags are immutable"
  }
  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : one(r.image_scanning_configuration).scan_on_push])
    error_message = "images are scanned on push"
  }
  assert {
    condition = alltrue([for r in aws_ecr_repository.this :
      one(r.encryption_configuration).encryption_type == "KMS"
      && one(r.encryption_configuration).kms_key == "arn:aws:kms:eu-west-1:111122223333:key/platform"
    ])
    error_message = "images are encrypted with the given KMS key"
  }
  assert {
    condition     = alltrue([for r in aws_ecr_repository.this : !r.force_delete])
    error_message = "repositories holding images are not deleted by default"
  }
  assert {
    condition     = aws_ecr_repository.this["serving"].tags["Name"] == "byo/serving" && aws_ecr_repository.this["serving"].tags["team"] == "ml"
    error_message = "repositories carry the given tags plus their Name"
  }
  assert {
    condition     = output.repository_urls["serving"] == "111122223333.dkr.ecr.eu-west-1.amazonaws.com/mocked"
    error_message = "repository URLs are exported by repository key"
  }
  assert {
    condition     = output.repository_names["batch-processor"] == "byo/batch-processor" && output.repository_names["operators"] == "byo/operators"
    error_message = "repository names are exported by repository key"
  }
  assert {
    condition     = output.repository_arns["batch-processor"] == "arn:aws:ecr:eu-west-1:111122223333:repository/mocked"
    error_message = "repository ARNs are exported by repository key"
  }
  # Lifecycle expires untagged first then keeps the last n:
  assert {
    condition     = length(aws_ecr_lifecycle_policy.this) == 3 && aws_ecr_lifecycle_policy.this["operators"].repository == "byo/operators"
    error_message = "every repository has a lifecycle policy"
  }
  assert {
    condition     = length(jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules) == 2
    error_message = "lifecycle policy has two rules"
  }
  assert {
    condition = (jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[0].rulePriority == 1
      && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[0].selection.tagStatus == "untagged"
      && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[0].selection.countType == "sinceImagePushed"
      && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[0].selection.countUnit == "days"
    && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[0].selection.countNumber == 7)
    error_message = "rule 1 expires untagged images 7 days after push"
  }
  assert {
    condition = (jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[1].rulePriority == 2
      && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[1].selection.tagStatus == "any"
      && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[1].selection.countType == "imageCountMoreThan"
    && jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules[1].selection.countNumber == 10)
    error_message = "rule 2 keeps the last 10 images of any tag status (the 'any' rule must come last)"
  }
  assert {
    condition     = alltrue([for r in jsondecode(aws_ecr_lifecycle_policy.this["serving"].policy).rules : r.action.type == "expire"])
    error_message = "both rules expire images"
  }
}

run "custom_repositories_count_and_force_delete" {
  command = plan

  variables {
    name             = "acme-ml"
    repositories     = ["scorer"]
    keep_last_images = 25
    force_delete     = true
  }

  assert {
    condition     = keys(aws_ecr_repository.this) == ["scorer"] && aws_ecr_repository.this["scorer"].name == "acme-ml/scorer"
    error_message = "only the given repositories are created"
  }
  assert {
    condition     = jsondecode(aws_ecr_lifecycle_policy.this["scorer"].policy).rules[1].selection.countNumber == 25
    error_message = "countNumber of the 'any' rule is keep_last_images"
  }
  assert {
    condition     = aws_ecr_repository.this["scorer"].force_delete
    error_message = "force_delete is passed through"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = toset(keys(output.repository_urls)) == toset(["batch-processor", "serving", "operators"])
    error_message = "the example creates the platform's three repositories"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_ecr_repository.this) + length(aws_ecr_lifecycle_policy.this) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition     = output.repository_urls == null && output.repository_arns == null && output.repository_names == null
    error_message = "outputs are null when nothing is created"
  }
}

# Bad inputs, merged so each run costs one provider load: every variable listed in a run's
# expect_failures must report its own validation error, so no case hides another. A variable
# with several bad cases appears in several runs, one case per run.

# Rejects: a bad name, an uppercase repository, a key alias, zero images kept.
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    name             = "Bad_Name"           # not lowercase letters, digits and hyphens
    repositories     = ["Serving"]          # an uppercase repository
    kms_key_arn      = "alias/byo-platform" # a key alias, not a key ARN
    keep_last_images = 0                    # zero images kept
  }
  expect_failures = [var.name, var.repositories, var.kms_key_arn, var.keep_last_images]
}

# Rejects: a repository ending in a separator, too many images kept.
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    repositories     = ["serving-"] # a repository ending in a separator
    keep_last_images = 1001         # too many images kept
  }
  expect_failures = [var.repositories, var.keep_last_images]
}

# Rejects: no repositories.
run "rejects_bad_inputs_3" {
  command = plan
  variables {
    repositories = [] # no repositories
  }
  expect_failures = [var.repositories]
}
