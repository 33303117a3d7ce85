# One variables file for both regions: `terraform apply -var-file=example.tfvars` (plus the two
# file paths `make` passes: initial_model_path, trigger_package_path).
name             = "byo"
primary_region   = "us-east-1"
secondary_region = "us-west-2"
environment      = "prod"
variant_weights  = { "variant-a" = 9, "variant-b" = 1 }
instance_type    = "ml.m5.large"
max_instances    = 4

replicated_prefixes = ["models/"]

tags = { Owner = "ml-platform" }
