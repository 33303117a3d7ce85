output "trail_name" {
  description = "The trail."
  value       = module.audit.trail_name
}

output "log_group" {
  description = "The trail's log group (`byo audit` reads it)."
  value       = module.audit.log_group
}

output "alarm_names" {
  description = "The alarm per kind of change (endpoint, traffic, registry)."
  value       = module.audit.alarm_names
}
