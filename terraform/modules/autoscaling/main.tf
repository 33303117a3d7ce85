locals {
  create   = var.create
  variants = local.create ? var.variants : {}

  provisioned_concurrency = local.create ? var.provisioned_concurrency : {}
  async_backlog           = local.create ? var.async_backlog : {}
  scale_out_from_zero     = { for k, v in local.async_backlog : k => v if v.scale_out_from_zero }

  resource_ids = {
    for k in concat(keys(var.variants), keys(var.provisioned_concurrency), keys(var.async_backlog)) :
    k => "endpoint/${var.endpoint_name}/variant/${k}"
  }
}

# ---------------------------------------------------------------------------------------------
# Real-time variants: each variant's instance count range
# ---------------------------------------------------------------------------------------------
resource "aws_appautoscaling_target" "this" {
  for_each = local.variants

  service_namespace  = "sagemaker"
  resource_id        = local.resource_ids[each.key]
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = each.value.min_capacity
  max_capacity       = each.value.max_capacity

  tags = merge({ Name = "${var.endpoint_name}-${each.key}" }, var.tags)
}

# ---------------------------------------------------------------------------------------------
# Target-tracking policies: hold invocations per instance at the target
# ---------------------------------------------------------------------------------------------
resource "aws_appautoscaling_policy" "this" {
  for_each = local.variants

  name               = "${var.endpoint_name}-${each.key}-invocations-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = var.target_invocations_per_instance
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown
    disable_scale_in   = var.disable_scale_in

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantInvocationsPerInstance"
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Serverless variants: provisioned concurrency held at a target utilization
# ---------------------------------------------------------------------------------------------
resource "aws_appautoscaling_target" "provisioned_concurrency" {
  for_each = local.provisioned_concurrency

  service_namespace  = "sagemaker"
  resource_id        = local.resource_ids[each.key]
  scalable_dimension = "sagemaker:variant:DesiredProvisionedConcurrency"
  min_capacity       = each.value.min_capacity
  max_capacity       = each.value.max_capacity

  tags = merge({ Name = "${var.endpoint_name}-${each.key}" }, var.tags)
}

resource "aws_appautoscaling_policy" "provisioned_concurrency" {
  for_each = local.provisioned_concurrency

  name               = "${var.endpoint_name}-${each.key}-provisioned-concurrency"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.provisioned_concurrency[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.provisioned_concurrency[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.provisioned_concurrency[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target_utilization
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown
    disable_scale_in   = var.disable_scale_in

    predefined_metric_specification {
      predefined_metric_type = "SageMakerVariantProvisionedConcurrencyUtilization"
    }
  }
}

# ---------------------------------------------------------------------------------------------
# Asynchronous endpoints: instances follow the queue's backlog, down to zero and back
# ---------------------------------------------------------------------------------------------
resource "aws_appautoscaling_target" "async_backlog" {
  for_each = local.async_backlog

  service_namespace  = "sagemaker"
  resource_id        = local.resource_ids[each.key]
  scalable_dimension = "sagemaker:variant:DesiredInstanceCount"
  min_capacity       = each.value.min_capacity
  max_capacity       = each.value.max_capacity

  tags = merge({ Name = "${var.endpoint_name}-${each.key}" }, var.tags)
}

resource "aws_appautoscaling_policy" "async_backlog" {
  for_each = local.async_backlog

  name               = "${var.endpoint_name}-${each.key}-backlog-per-instance"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.async_backlog[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.async_backlog[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.async_backlog[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target_backlog_per_instance
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown
    disable_scale_in   = var.disable_scale_in

    # The backlog is the endpoint's (dimension EndpointName only), not a variant's.
    customized_metric_specification {
      metric_name = "ApproximateBacklogSizePerInstance"
      namespace   = "AWS/SageMaker"
      statistic   = "Average"

      dimensions {
        name  = "EndpointName"
        value = var.endpoint_name
      }
    }
  }
}

# At zero instances the backlog per instance is not a signal target tracking acts on quickly:
# AWS's docs add this step policy on HasBacklogWithoutCapacity to start one instance.
resource "aws_appautoscaling_policy" "scale_out_from_zero" {
  for_each = local.scale_out_from_zero

  name               = "${var.endpoint_name}-${each.key}-has-backlog-without-capacity"
  policy_type        = "StepScaling"
  service_namespace  = aws_appautoscaling_target.async_backlog[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.async_backlog[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.async_backlog[each.key].scalable_dimension

  step_scaling_policy_configuration {
    adjustment_type         = "ChangeInCapacity"
    metric_aggregation_type = "Average"
    cooldown                = var.scale_out_cooldown

    step_adjustment {
      metric_interval_lower_bound = 0
      scaling_adjustment          = 1
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "scale_out_from_zero" {
  for_each = local.scale_out_from_zero

  alarm_name          = "${var.endpoint_name}-${each.key}-has-backlog-without-capacity"
  alarm_description   = "Requests wait on ${var.endpoint_name} with no instance running: start one (scale out from zero)."
  namespace           = "AWS/SageMaker"
  metric_name         = "HasBacklogWithoutCapacity"
  dimensions          = { EndpointName = var.endpoint_name }
  statistic           = "Average"
  period              = 60
  evaluation_periods  = 2
  datapoints_to_alarm = 2
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "missing"
  alarm_actions       = [aws_appautoscaling_policy.scale_out_from_zero[each.key].arn]

  tags = merge({ Name = "${var.endpoint_name}-${each.key}-has-backlog-without-capacity" }, var.tags)
}
