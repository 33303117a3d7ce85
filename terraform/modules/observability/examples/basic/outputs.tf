output "sns_topic_arn" {
  description = "The topic the alarms notify (the monitoring module's sns_topic_arn input)."
  value       = module.observability.sns_topic_arn
}

output "alarm_names" {
  description = "The alarms by key."
  value       = module.observability.alarm_names
}

output "dashboard_name" {
  description = "The dashboard."
  value       = module.observability.dashboard_name
}
