# One provider block for both targets. Where requests go comes from the environment
# (AWS_ENDPOINT_URL for the embedded emulator, as boto3 reads it; nothing for real AWS).
# The emulator-only settings below switch on with var.emulator.
provider "aws" {
  region = var.region

  access_key                  = var.emulator ? "test" : null
  secret_key                  = var.emulator ? "test" : null
  skip_credentials_validation = var.emulator
  skip_metadata_api_check     = var.emulator
  # The account id is still requested: the emulator's STS answers, and without it the provider
  # misreads same-account security-group references as cross-account ("<account>/sg-…").
  skip_region_validation = var.emulator
  s3_use_path_style      = var.emulator
  # The emulator answers unsupported calls with HTTP 500: fail fast instead of retrying for minutes.
  max_retries = var.emulator ? 2 : null

  default_tags {
    tags = merge({ Project = var.name }, var.tags)
  }
}
