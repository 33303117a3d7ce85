output "monitor_job_definition_name" {
  description = "Name of the monitoring job's definition (byo-monitor)."
  value       = module.batch.job_definition_names["monitor"]
}

output "monitoring_rule_name" {
  description = "Name of the rule that submits the job on its schedule."
  value       = module.monitoring.rule_name
}

output "alarm_names" {
  description = "The monitoring alarms by key (monitoring/<check>)."
  value       = module.monitoring.alarm_names
}
