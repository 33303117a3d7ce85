# Per-variant autoscaling of the platform's endpoint (the platform stack passes the endpoint
# module's endpoint_name where this example has a literal).
provider "aws" {
  region = "eu-west-1"
}

module "autoscaling" {
  source = "../.."

  endpoint_name = "byo"
  variants = {
    champion   = { min_capacity = 1, max_capacity = 4 }
    challenger = { min_capacity = 1, max_capacity = 2 }
  }
  target_invocations_per_instance = 100
  scale_in_cooldown               = 300
  scale_out_cooldown              = 60
  tags                            = { team = "ml" }
}
