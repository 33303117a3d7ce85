# The two regions' providers, for what links them (replication). Each region's platform
# configures its own provider from its `region` (the platform stack is a root module used here as
# a child; Terraform warns that its backend block has no effect, which is right).
provider "aws" {
  alias  = "primary"
  region = var.primary_region

  access_key                  = var.emulator ? "test" : null
  secret_key                  = var.emulator ? "test" : null
  skip_credentials_validation = var.emulator
  skip_metadata_api_check     = var.emulator
  skip_region_validation      = var.emulator
  s3_use_path_style           = var.emulator
  max_retries                 = var.emulator ? 2 : null

  default_tags {
    tags = merge({ Project = var.name }, var.tags)
  }
}

provider "aws" {
  alias  = "secondary"
  region = var.secondary_region

  access_key                  = var.emulator ? "test" : null
  secret_key                  = var.emulator ? "test" : null
  skip_credentials_validation = var.emulator
  skip_metadata_api_check     = var.emulator
  skip_region_validation      = var.emulator
  s3_use_path_style           = var.emulator
  max_retries                 = var.emulator ? 2 : null

  default_tags {
    tags = merge({ Project = var.name }, var.tags)
  }
}
