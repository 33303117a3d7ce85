locals {
  create   = var.create
  variants = local.create ? var.variants : {}

  resource_ids = { for k, _ in var.variants : k => "endpoint/${var.endpoint_name}/variant/${k}" }
}

# ---------------------------------------------------------------------------------------------
# Scalable targets: each variant's instance count range
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
