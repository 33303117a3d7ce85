mock_provider "aws" {
  mock_resource "aws_appautoscaling_target" {
    defaults = { arn = "arn:aws:application-autoscaling:eu-west-1:111122223333:scalable-target/mock" }
  }
  mock_resource "aws_appautoscaling_policy" {
    defaults = { arn = "arn:aws:autoscaling:eu-west-1:111122223333:scalingPolicy:mock" }
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

run "create_false_creates_nothing" {
  command = plan

  variables {
    create = false
  }

  assert {
    condition     = length(aws_appautoscaling_target.this) + length(aws_appautoscaling_policy.this) == 0
    error_message = "create = false creates no resources"
  }
  assert {
    condition     = output.resource_ids == null && output.scalable_target_arns == null && output.policy_arns == null && output.policy_names == null
    error_message = "outputs are null when nothing is created"
  }
}

run "rejects_min_capacity_0" {
  command = plan
  variables {
    variants = { champion = { min_capacity = 0, max_capacity = 2 } }
  }
  expect_failures = [var.variants]
}

run "rejects_max_below_min" {
  command = plan
  variables {
    variants = { champion = { min_capacity = 3, max_capacity = 2 } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_fractional_capacity" {
  command = plan
  variables {
    variants = { champion = { min_capacity = 1, max_capacity = 2.5 } }
  }
  expect_failures = [var.variants]
}

run "rejects_a_bad_variant_name" {
  command = plan
  variables {
    variants = { "bad_name" = { min_capacity = 1, max_capacity = 2 } }
  }
  expect_failures = [var.variants]
}

run "rejects_target_0" {
  command = plan
  variables {
    target_invocations_per_instance = 0
  }
  expect_failures = [var.target_invocations_per_instance]
}

run "rejects_a_negative_scale_in_cooldown" {
  command = plan
  variables {
    scale_in_cooldown = -1
  }
  expect_failures = [var.scale_in_cooldown]
}

run "rejects_a_negative_scale_out_cooldown" {
  command = plan
  variables {
    scale_out_cooldown = -60
  }
  expect_failures = [var.scale_out_cooldown]
}

run "rejects_a_bad_endpoint_name" {
  command = plan
  variables {
    endpoint_name = "byo_endpoint"
  }
  expect_failures = [var.endpoint_name]
}
