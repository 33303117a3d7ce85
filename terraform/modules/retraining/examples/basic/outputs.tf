output "state_machine_arns" {
  description = "The retraining and deploy state machines."
  value       = module.retraining.state_machine_arns
}

output "rule_names" {
  description = "The triggers' rules (schedule, new-data, alarm, approval)."
  value       = module.retraining.rule_names
}
