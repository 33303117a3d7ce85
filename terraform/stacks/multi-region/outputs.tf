output "primary_region" {
  description = "The primary region: `byo` commands act there unless --region says otherwise."
  value       = var.primary_region
}

output "stack_regions" {
  description = "The regions of the platform, primary first (the order `byo deploy --regions all` rolls out in and clients fail over in)."
  value       = [var.primary_region, var.secondary_region]
}

output "regions" {
  description = "Each region's platform outputs (the platform stack's outputs), by region: `byo --region R` reads R's."
  value = {
    (var.primary_region)   = module.primary
    (var.secondary_region) = module.secondary
  }
}

output "replication" {
  description = "The S3 replication of model artifacts: source and destination buckets, prefixes, the role."
  value = {
    source_bucket      = module.primary.data_bucket
    destination_bucket = module.secondary.data_bucket
    prefixes           = var.replicated_prefixes
    role_arn           = aws_iam_role.replication.arn
  }
}
