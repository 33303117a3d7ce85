mock_provider "aws" {
  mock_resource "aws_appautoscaling_target" {
    defaults = { arn = "arn:aws:application-autoscaling:eu-west-1:111122223333:scalable-target/mock" }
  }
  mock_resource "aws_appautoscaling_policy" {
    defaults = { arn = "arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:mock" }
  }
  mock_resource "aws_cloudwatch_metric_alarm" {
    defaults = { arn = "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:mock" }
  }
}

variables {
  endpoint_name = "byo"
  variants = {
    champion   = { min_capacity = 1, max_capacity = 4 }
    challenger = { min_capacity = 2, max_capacity = 2 }
  }
  tags = { team = "ml" }
}

run "each_variant_gets_a_scalable_target_and_a_target_tracking_policy" {
  command = plan

  assert {
    condition     = length(aws_appautoscaling_target.this) == 2 && length(aws_appautoscaling_policy.this) == 2
    error_message = "two variants give two targets and two policies"
  }
  assert {
    condition     = aws_appautoscaling_target.this["champion"].resource_id == "endpoint/byo/variant/champion" && aws_appautoscaling_target.this["challenger"].resource_id == "endpoint/byo/variant/challenger"
    error_message = "resource ids are endpoint/<endpoint>/variant/<variant>"
  }
  assert {
    condition     = alltrue([for t in aws_appautoscaling_target.this : t.service_namespace == "sagemaker" && t.scalable_dimension == "sagemaker:variant:DesiredInstanceCount"])
    error_message = "targets scale the variants' desired instance count"
  }
  assert {
    condition     = aws_appautoscaling_target.this["champion"].min_capacity == 1 && aws_appautoscaling_target.this["champion"].max_capacity == 4
    error_message = "champion scales between 1 and 4 instances"
  }
  assert {
    condition     = aws_appautoscaling_target.this["challenger"].min_capacity == 2 && aws_appautoscaling_target.this["challenger"].max_capacity == 2
    error_message = "challenger stays at 2 instances"
  }
  assert {
    condition     = aws_appautoscaling_target.this["champion"].tags["Name"] == "byo-champion" && aws_appautoscaling_target.this["champion"].tags["team"] == "ml"
    error_message = "targets carry the given tags plus their Name"
  }
  assert {
    condition     = aws_appautoscaling_policy.this["champion"].policy_type == "TargetTrackingScaling" && aws_appautoscaling_policy.this["champion"].resource_id == "endpoint/byo/variant/champion"
    error_message = "the champion policy tracks a target on the champion variant"
  }
  assert {
    condition     = aws_appautoscaling_policy.this["champion"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantInvocationsPerInstance"
    error_message = "policies track invocations per instance"
  }
  assert {
    condition = alltrue([for p in aws_appautoscaling_policy.this :
      p.target_tracking_scaling_policy_configuration[0].target_value == 100
      && p.target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 300
      && p.target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 60
      && !p.target_tracking_scaling_policy_configuration[0].disable_scale_in
    ])
    error_message = "defaults: target 100 invocations per instance, scale-in cooldown 300 s, scale-out 60 s, scale-in allowed"
  }
  assert {
    condition     = output.resource_ids == { challenger = "endpoint/byo/variant/challenger", champion = "endpoint/byo/variant/champion" }
    error_message = "resource ids are exported per variant"
  }
  assert {
    condition     = output.policy_names["champion"] == "byo-champion-invocations-per-instance"
    error_message = "policy names are exported per variant"
  }
}

run "given_target_and_cooldowns_are_used" {
  command = plan

  variables {
    target_invocations_per_instance = 250
    scale_in_cooldown               = 600
    scale_out_cooldown              = 0
    disable_scale_in                = true
  }

  assert {
    condition = alltrue([for p in aws_appautoscaling_policy.this :
      p.target_tracking_scaling_policy_configuration[0].target_value == 250
      && p.target_tracking_scaling_policy_configuration[0].scale_in_cooldown == 600
      && p.target_tracking_scaling_policy_configuration[0].scale_out_cooldown == 0
      && p.target_tracking_scaling_policy_configuration[0].disable_scale_in
    ])
    error_message = "target, cooldowns and disable_scale_in land in every policy"
  }
}

run "outputs_are_set_after_apply" {
  command = apply

  assert {
    condition     = keys(output.scalable_target_arns) == ["challenger", "champion"] && output.scalable_target_arns["champion"] == "arn:aws:application-autoscaling:eu-west-1:111122223333:scalable-target/mock"
    error_message = "scalable target ARNs are exported per variant"
  }
  assert {
    condition     = keys(output.policy_arns) == ["challenger", "champion"] && output.policy_arns["champion"] == "arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:mock"
    error_message = "policy ARNs are exported per variant"
  }
}

run "no_variants_scale_nothing" {
  command = plan

  variables {
    variants = {}
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) == 0 && output.resource_ids == {}
    error_message = "an empty variants map creates no targets"
  }
}

run "example_basic_plans" {
  command = plan

  module {
    source = "./examples/basic"
  }

  assert {
    condition     = output.resource_ids["champion"] == "endpoint/byo/variant/champion" && output.resource_ids["challenger"] == "endpoint/byo/variant/challenger"
    error_message = "the example scales both variants of the endpoint"
  }
  assert {
    condition     = output.policy_names["champion"] == "byo-champion-invocations-per-instance"
    error_message = "each variant gets its target-tracking policy"
  }
}

run "a_serverless_variant_tracks_provisioned_concurrency_utilization" {
  command = plan

  variables {
    endpoint_name           = "byo-serverless"
    variants                = {}
    provisioned_concurrency = { serverless = { min_capacity = 1, max_capacity = 5, target_utilization = 0.7 } }
  }

  assert {
    condition     = aws_appautoscaling_target.this["serverless"].scalable_dimension == "sagemaker:variant:DesiredProvisionedConcurrency" && aws_appautoscaling_target.this["serverless"].resource_id == "endpoint/byo-serverless/variant/serverless"
    error_message = "the serverless variant's provisioned concurrency is the scalable dimension"
  }
  assert {
    condition     = aws_appautoscaling_target.this["serverless"].min_capacity == 1 && aws_appautoscaling_target.this["serverless"].max_capacity == 5
    error_message = "provisioned concurrency scales between the given bounds"
  }
  assert {
    condition     = aws_appautoscaling_policy.this["serverless"].target_tracking_scaling_policy_configuration[0].predefined_metric_specification[0].predefined_metric_type == "SageMakerVariantProvisionedConcurrencyUtilization" && aws_appautoscaling_policy.this["serverless"].target_tracking_scaling_policy_configuration[0].target_value == 0.7
    error_message = "the policy holds provisioned concurrency utilization at the target"
  }
  assert {
    condition     = length(aws_appautoscaling_target.this) == 1 && output.policy_names == { serverless = "byo-serverless-serverless-provisioned-concurrency" }
    error_message = "only the provisioned-concurrency target and policy are made"
  }
  assert {
    condition     = output.resource_ids == { serverless = "endpoint/byo-serverless/variant/serverless" }
    error_message = "the serverless variant's resource id is exported"
  }
}

run "an_async_variant_scales_on_backlog_to_zero_and_out_from_zero_on_the_alarm" {
  command = plan

  variables {
    endpoint_name = "byo-async"
    variants      = {}
    async_backlog = { async = { max_capacity = 2 } }
  }

  assert {
    condition     = aws_appautoscaling_target.this["async"].min_capacity == 0 && aws_appautoscaling_target.this["async"].max_capacity == 2 && aws_appautoscaling_target.this["async"].scalable_dimension == "sagemaker:variant:DesiredInstanceCount"
    error_message = "the async variant's instance count scales from 0 (scale to zero) to 2"
  }
  assert {
    condition = (
      aws_appautoscaling_policy.this["async"].target_tracking_scaling_policy_configuration[0].target_value == 5
      && aws_appautoscaling_policy.this["async"].target_tracking_scaling_policy_configuration[0].customized_metric_specification[0].metric_name == "ApproximateBacklogSizePerInstance"
      && aws_appautoscaling_policy.this["async"].target_tracking_scaling_policy_configuration[0].customized_metric_specification[0].namespace == "AWS/SageMaker"
      && aws_appautoscaling_policy.this["async"].target_tracking_scaling_policy_configuration[0].customized_metric_specification[0].statistic == "Average"
    )
    error_message = "target tracking holds the endpoint's average backlog per instance at 5"
  }
  assert {
    condition     = [for d in aws_appautoscaling_policy.this["async"].target_tracking_scaling_policy_configuration[0].customized_metric_specification[0].dimensions : [d.name, d.value]] == [["EndpointName", "byo-async"]]
    error_message = "the backlog metric is the endpoint's (dimension EndpointName only)"
  }
  assert {
    condition = (
      aws_appautoscaling_policy.scale_out_from_zero["async"].policy_type == "StepScaling"
      && aws_appautoscaling_policy.scale_out_from_zero["async"].step_scaling_policy_configuration[0].adjustment_type == "ChangeInCapacity"
      && [for s in aws_appautoscaling_policy.scale_out_from_zero["async"].step_scaling_policy_configuration[0].step_adjustment : [s.metric_interval_lower_bound, s.scaling_adjustment]] == [["0", 1]]
    )
    error_message = "the step policy adds one instance"
  }
  assert {
    condition = (
      aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].metric_name == "HasBacklogWithoutCapacity"
      && aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].namespace == "AWS/SageMaker"
      && aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].dimensions == tomap({ EndpointName = "byo-async" })
      && aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].threshold == 1
      && aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].comparison_operator == "GreaterThanOrEqualToThreshold"
      && aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].evaluation_periods == 2
    )
    error_message = "the alarm fires when requests wait with no instance"
  }
  assert {
    condition     = output.policy_names == { async = "byo-async-async-backlog-per-instance" } && output.scale_out_from_zero_alarm_names == { async = "byo-async-async-has-backlog-without-capacity" }
    error_message = "the backlog policy and the alarm are exported"
  }
}

run "the_alarm_triggers_the_step_policy" {
  command = apply

  variables {
    variants      = {}
    async_backlog = { async = { min_capacity = 1, max_capacity = 3, target_backlog_per_instance = 2 } }
  }

  assert {
    condition     = aws_cloudwatch_metric_alarm.scale_out_from_zero["async"].alarm_actions == toset([aws_appautoscaling_policy.scale_out_from_zero["async"].arn])
    error_message = "the alarm's action is the step policy"
  }
  assert {
    condition     = aws_appautoscaling_target.this["async"].min_capacity == 1 && aws_appautoscaling_policy.this["async"].target_tracking_scaling_policy_configuration[0].target_value == 2
    error_message = "given bounds and target are used"
  }
}

run "without_scale_out_from_zero_no_step_policy_or_alarm" {
  command = plan

  variables {
    variants      = {}
    async_backlog = { async = { max_capacity = 2, scale_out_from_zero = false } }
  }

  assert {
    condition     = length(aws_appautoscaling_policy.scale_out_from_zero) == 0 && length(aws_cloudwatch_metric_alarm.scale_out_from_zero) == 0 && length(aws_appautoscaling_policy.this) == 1
    error_message = "only target tracking on the backlog"
  }
}

run "create_false_creates_nothing" {
  command = plan

  variables {
    create                  = false
    provisioned_concurrency = { serverless = { min_capacity = 1, max_capacity = 5 } }
    async_backlog           = { async = { max_capacity = 2 } }
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) + length(aws_appautoscaling_policy.this) + length(aws_appautoscaling_policy.scale_out_from_zero) + length(aws_cloudwatch_metric_alarm.scale_out_from_zero) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition     = output.resource_ids == null && output.scalable_target_arns == null && output.policy_arns == null && output.policy_names == null
    error_message = "outputs are null when nothing is created"
  }
}

# rejects_bad_inputs_1: one bad value per variable, each must be rejected:
#   rejects_min_capacity_0 (var.variants)
#   rejects_target_0 (var.target_invocations_per_instance)
#   rejects_a_negative_scale_in_cooldown (var.scale_in_cooldown)
#   rejects_a_negative_scale_out_cooldown (var.scale_out_cooldown)
#   rejects_a_bad_endpoint_name (var.endpoint_name)
#   rejects_provisioned_concurrency_0 (var.provisioned_concurrency)
run "rejects_bad_inputs_1" {
  command = plan
  variables {
    # rejects_min_capacity_0
    variants = { champion = { min_capacity = 0, max_capacity = 2 } }
    # rejects_target_0
    target_invocations_per_instance = 0
    # rejects_a_negative_scale_in_cooldown
    scale_in_cooldown = -1
    # rejects_a_negative_scale_out_cooldown
    scale_out_cooldown = -60
    # rejects_a_bad_endpoint_name
    endpoint_name = "byo_endpoint"
    # rejects_provisioned_concurrency_0
    provisioned_concurrency = { serverless = { min_capacity = 0, max_capacity = 2 } }
  }
  expect_failures = [
    var.variants,
    var.target_invocations_per_instance,
    var.scale_in_cooldown,
    var.scale_out_cooldown,
    var.endpoint_name,
    var.provisioned_concurrency,
  ]
}

# rejects_bad_inputs_2: one bad value per variable, each must be rejected:
#   rejects_max_below_min (var.variants)
#   rejects_provisioned_concurrency_above_200 (var.provisioned_concurrency)
run "rejects_bad_inputs_2" {
  command = plan
  variables {
    # rejects_max_below_min
    variants = { champion = { min_capacity = 3, max_capacity = 2 } }
    # rejects_provisioned_concurrency_above_200
    provisioned_concurrency = { serverless = { min_capacity = 1, max_capacity = 201 } }
  }
  expect_failures = [
    var.variants,
    var.provisioned_concurrency,
  ]
}

# rejects_bad_inputs_3: one bad value per variable, each must be rejected:
#   rejects_a_fractional_capacity (var.variants)
#   rejects_a_utilization_above_1 (var.provisioned_concurrency)
run "rejects_bad_inputs_3" {
  command = plan
  variables {
    # rejects_a_fractional_capacity
    variants = { champion = { min_capacity = 1, max_capacity = 2.5 } }
    # rejects_a_utilization_above_1
    provisioned_concurrency = { serverless = { min_capacity = 1, max_capacity = 2, target_utilization = 70 } }
  }
  expect_failures = [
    var.variants,
    var.provisioned_concurrency,
  ]
}

# rejects_bad_inputs_4: one bad value per variable, each must be rejected:
#   rejects_a_bad_variant_name (var.variants)
run "rejects_bad_inputs_4" {
  command = plan
  variables {
    # rejects_a_bad_variant_name
    variants = { "bad_name" = { min_capacity = 1, max_capacity = 2 } }
  }
  expect_failures = [
    var.variants,
  ]
}

# rejects_bad_inputs_5: one bad value per variable, each must be rejected:
#   rejects_an_async_max_of_0 (var.async_backlog)
run "rejects_bad_inputs_5" {
  command = plan
  variables {
    # rejects_an_async_max_of_0
    async_backlog = { async = { max_capacity = 0 } }
  }
  expect_failures = [
    var.async_backlog,
  ]
}

# rejects_bad_inputs_6: one bad value per variable, each must be rejected:
#   rejects_a_backlog_target_of_0 (var.async_backlog)
run "rejects_bad_inputs_6" {
  command = plan
  variables {
    # rejects_a_backlog_target_of_0
    async_backlog = { async = { max_capacity = 2, target_backlog_per_instance = 0 } }
  }
  expect_failures = [
    var.async_backlog,
  ]
}

# rejects_bad_inputs_7: one bad value per variable, each must be rejected:
#   rejects_a_variant_in_both_policy_sets (var.async_backlog)
run "rejects_bad_inputs_7" {
  command = plan
  variables {
    # rejects_a_variant_in_both_policy_sets
    async_backlog = { champion = { max_capacity = 2 } }
  }
  expect_failures = [
    var.async_backlog,
  ]
}

# rejects_bad_inputs_8: one bad value per variable, each must be rejected:
#   rejects_a_serverless_variant_also_listed_as_real_time (var.async_backlog)
run "rejects_bad_inputs_8" {
  command = plan
  variables {
    # rejects_a_serverless_variant_also_listed_as_real_time
    provisioned_concurrency = { champion = { min_capacity = 1, max_capacity = 2 } }
  }
  expect_failures = [
    var.async_backlog,
  ]
}
