locals {
  create = var.create

  # Every scaling variant, of every kind, as one scalable target and one target-tracking policy:
  # real-time variants hold invocations per instance, serverless variants their provisioned
  # concurrency's utilization, asynchronous variants the endpoint's backlog per instance.
  scaling = local.create ? merge(
    { for k, v in var.variants : k => {
      dimension     = "DesiredInstanceCount"
      min_capacity  = v.min_capacity
      max_capacity  = v.max_capacity
      policy_suffix = "invocations-per-instance"
      target_value  = var.target_invocations_per_instance
      predefined    = "SageMakerVariantInvocationsPerInstance"
    } },
    { for k, v in var.provisioned_concurrency : k => {
      dimension     = "DesiredProvisionedConcurrency"
      min_capacity  = v.min_capacity
      max_capacity  = v.max_capacity
      policy_suffix = "provisioned-concurrency"
      target_value  = v.target_utilization
      predefined    = "SageMakerVariantProvisionedConcurrencyUtilization"
    } },
    { for k, v in var.async_backlog : k => {
      dimension     = "DesiredInstanceCount"
      min_capacity  = v.min_capacity
      max_capacity  = v.max_capacity
      policy_suffix = "backlog-per-instance"
      target_value  = v.target_backlog_per_instance
      predefined    = null
    } },
  ) : {}

  scale_out_from_zero = local.create ? { for k, v in var.async_backlog : k => v if v.scale_out_from_zero } : {}
}

resource "aws_appautoscaling_target" "this" {
  for_each = local.scaling

  service_namespace  = "sagemaker"
  resource_id        = "endpoint/${var.endpoint_name}/variant/${each.key}"
  scalable_dimension = "sagemaker:variant:${each.value.dimension}"
  min_capacity       = each.value.min_capacity
  max_capacity       = each.value.max_capacity

  tags = merge({ Name = "${var.endpoint_name}-${each.key}" }, var.tags)
}

resource "aws_appautoscaling_policy" "this" {
  for_each = local.scaling

  name               = "${var.endpoint_name}-${each.key}-${each.value.policy_suffix}"
  policy_type        = "TargetTrackingScaling"
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

  target_tracking_scaling_policy_configuration {
    target_value       = each.value.target_value
    scale_in_cooldown  = var.scale_in_cooldown
    scale_out_cooldown = var.scale_out_cooldown
    disable_scale_in   = var.disable_scale_in

    dynamic "predefined_metric_specification" {
      for_each = each.value.predefined == null ? [] : [each.value.predefined]
      content {
        predefined_metric_type = predefined_metric_specification.value
      }
    }

    # The backlog is the endpoint's (dimension EndpointName only), not a variant's.
    dynamic "customized_metric_specification" {
      for_each = each.value.predefined == null ? [var.endpoint_name] : []
      content {
        metric_name = "ApproximateBacklogSizePerInstance"
        namespace   = "AWS/SageMaker"
        statistic   = "Average"

        dimensions {
          name  = "EndpointName"
          value = customized_metric_specification.value
        }
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
  service_namespace  = aws_appautoscaling_target.this[each.key].service_namespace
  resource_id        = aws_appautoscaling_target.this[each.key].resource_id
  scalable_dimension = aws_appautoscaling_target.this[each.key].scalable_dimension

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
