terraform {
  required_version = ">= 1.11"

  # State location per target comes from `terraform init -backend-config=path=...` (see the
  # Makefile), as for the platform stack. Platform teams swap this for their own backend.
  backend "local" {}

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.100, < 6.0"
    }
  }
}
