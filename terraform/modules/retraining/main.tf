data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  create     = var.create
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  partition  = data.aws_partition.current.partition
  tags       = merge({ Name = var.name }, var.tags)

  retraining_name = "${var.name}-retraining"
  deploy_name     = "${var.name}-deploy"
  retrain_job     = "${var.name}-retrain"
  deploy_job      = "${var.name}-deploy"
  log_group_names = {
    jobs       = "/aws/batch/${var.name}-loops"
    retraining = "/aws/vendedlogs/states/${local.retraining_name}"
    deploy     = "/aws/vendedlogs/states/${local.deploy_name}"
  }
  # The machines exist once the batch module made their job definitions (a second pass of the
  # same apply: the definitions come from this module's job_definitions output).
  machines = local.create && var.job_definition_arns != null

  data_prefixes = merge({
    datasets = "datasets/", models = "models/", pipelines = "pipelines/", monitoring = "monitoring/"
  }, var.data_prefixes)
  training_data_uri = coalesce(var.training_data_uri, "s3://${var.data_bucket_name}/${local.data_prefixes.datasets}")

  # The job table items of the loops: a lock per loop and a record per execution, all under
  # loops/ (the machines' and jobs' DynamoDB permissions are held to those keys).
  lock_key = { retraining = "loops/retraining/lock", deploy = "loops/deploy/lock" }

  state_machine_arns = {
    retraining = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.retraining_name}"
    deploy     = "arn:${local.partition}:states:${local.region}:${local.account_id}:stateMachine:${local.deploy_name}"
  }
  pipeline_name = coalesce(var.pipeline_name, "${var.name}-pipeline")
  pipeline_arn  = "arn:${local.partition}:sagemaker:${local.region}:${local.account_id}:pipeline/${lower(local.pipeline_name)}"
}

# ---------------------------------------------------------------------------------------------
# Logs: the jobs' and each state machine's
# ---------------------------------------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  for_each = local.create ? local.log_group_names : {}

  name              = each.value
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn

  tags = merge(local.tags, { Name = each.value })
}

# ---------------------------------------------------------------------------------------------
# The retraining machine
#
# Input: {"reason": "schedule" | "new-data" | "alarm" | "manual", "data": "s3://…", "alarm": …,
# "cooldown_seconds": N}; missing keys take the defaults below. One execution holds the loop at a
# time (a conditional write of loops/retraining/lock); a trigger that finds it held is recorded
# as skipped (one whose holder releases it as the trigger reads who holds it tries again, 3 times
# at most). The training job records its outcome (registered, condition-failed) with the
# notification's subject and text; the machine publishes them, holds the loop for the cool-down,
# and releases it, on every path.
# ---------------------------------------------------------------------------------------------
locals {
  retraining_defaults = {
    reason           = "manual"
    data             = local.training_data_uri
    alarm            = ""
    cooldown_seconds = 0
  }

  # The record of this execution: loops/retraining/<execution name>.
  retraining_record_key = { FileName = { "S.$" = "States.Format('loops/retraining/{}', $$.Execution.Name)" } }

  # The record's fields every execution writes first: started, or skipped.
  retraining_record = merge(local.retraining_record_key, {
    Loop      = { S = "retraining" }
    Execution = { "S.$" = "$$.Execution.Name" }
    Reason    = { "S.$" = "$.reason" }
    Data      = { "S.$" = "$.data" }
    Alarm     = { "S.$" = "$.alarm" }
    StartedAt = { "S.$" = "$$.Execution.StartTime" }
  })

  # A trigger that does not get the loop is recorded as skipped, by the state that found out
  # why, with this Message.
  skipped_messages = {
    RecordSkipped   = "States.Format('Skipped: retraining {} holds the loop since {} (running or cooling down).', $.lock.Item.Holder.S, $.lock.Item.HeldSince.S)"
    RecordContended = "States.Format('Skipped: the loop was held at each of {} tries, and released before its holder could be read (the lock kept changing hands).', $.lock_tries.try)"
  }
  skipped_states = {
    for state, message in local.skipped_messages : state => {
      Type       = "Task"
      Resource   = "arn:${local.partition}:states:::dynamodb:putItem"
      Parameters = { TableName = var.job_table_name, Item = merge(local.retraining_record, { Outcome = { S = "skipped" }, Message = { "S.$" = message } }) }
      ResultPath = null
      End        = true
    }
  }

  # Acquire is tried again when the loop's holder released it between the refused Acquire and
  # the read of the holder (the loop is free); this many tries, then the trigger is skipped.
  lock_tries = 3

  train_with_batch = {
    Train = {
      Type     = "Task"
      Comment  = "byo loops retrain: the pipeline (split, train, evaluate, AUC condition, register) in the operators image; it records the outcome."
      Resource = "arn:${local.partition}:states:::batch:submitJob.sync"
      Parameters = {
        "JobName.$"   = "States.Format('${local.retrain_job}-{}', $$.Execution.Name)"
        JobQueue      = var.job_queue_arn
        JobDefinition = try(var.job_definition_arns.retrain, "")
        Parameters = {
          "reason.$" = "$.reason"
          "data.$"   = "$.data"
          "record.$" = "States.Format('loops/retraining/{}', $$.Execution.Name)"
        }
      }
      ResultSelector = { "JobId.$" = "$.JobId", "Status.$" = "$.Status" }
      ResultPath     = "$.job"
      # Batch API errors (throttling, a service error) are transient: retried with backoff. A job
      # whose container fails is retried by the job definition's own retry strategy.
      Retry = local.batch_api_retry
      Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "RecordFailed" }]
      Next  = "ReadOutcome"
    }
  }

  # pipeline_backend = "sagemaker": the SageMaker pipeline runs the same steps; polled once a
  # minute until it ends. Its outcome is the execution's status (no job writes the record).
  train_with_sagemaker = {
    Train = {
      Type     = "Task"
      Comment  = "Start the SageMaker Pipelines definition (byo pipeline upsert made it) on the data."
      Resource = "arn:${local.partition}:states:::aws-sdk:sagemaker:startPipelineExecution"
      Parameters = {
        PipelineName                     = local.pipeline_name
        "PipelineExecutionDisplayName.$" = "$$.Execution.Name"
        PipelineParameters = [
          { Name = "InputData", "Value.$" = "$.data" },
          { Name = "AucThreshold", Value = tostring(var.auc_threshold) },
          { Name = "ModelApprovalStatus", Value = "PendingManualApproval" },
        ]
      }
      ResultSelector = { "PipelineExecutionArn.$" = "$.PipelineExecutionArn" }
      ResultPath     = "$.pipeline"
      Retry = [{
        ErrorEquals     = ["SageMaker.ThrottlingException", "SageMaker.InternalFailure"]
        IntervalSeconds = 10
        MaxAttempts     = 3
        BackoffRate     = 2
      }]
      Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "RecordFailed" }]
      Next  = "WaitForPipeline"
    }
    WaitForPipeline = { Type = "Wait", Seconds = 60, Next = "DescribePipeline" }
    DescribePipeline = {
      Type           = "Task"
      Resource       = "arn:${local.partition}:states:::aws-sdk:sagemaker:describePipelineExecution"
      Parameters     = { "PipelineExecutionArn.$" = "$.pipeline.PipelineExecutionArn" }
      ResultSelector = { "PipelineExecutionArn.$" = "$.PipelineExecutionArn", "Status.$" = "$.PipelineExecutionStatus" }
      ResultPath     = "$.pipeline"
      Catch          = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "RecordFailed" }]
      Next           = "PipelineDone"
    }
    PipelineDone = {
      Type = "Choice"
      Choices = [
        { Variable = "$.pipeline.Status", StringEquals = "Executing", Next = "WaitForPipeline" },
        { Variable = "$.pipeline.Status", StringEquals = "Stopping", Next = "WaitForPipeline" },
        { Variable = "$.pipeline.Status", StringEquals = "Succeeded", Next = "RecordPipelineOutcome" },
      ]
      Default = "RecordPipelineFailed"
    }
    RecordPipelineOutcome = {
      Type     = "Task"
      Resource = "arn:${local.partition}:states:::dynamodb:updateItem"
      Parameters = {
        TableName        = var.job_table_name
        Key              = local.retraining_record_key
        UpdateExpression = "SET Outcome = :o, Subject = :s, Message = :m"
        ExpressionAttributeValues = {
          ":o" = { S = "pipeline-succeeded" }
          ":s" = { S = "${var.name}: retraining finished (SageMaker pipeline)" }
          ":m" = { "S.$" = "States.Format('Retraining ({}) ran SageMaker pipeline execution {}: Succeeded. byo model list shows what it registered.', $.reason, $.pipeline.PipelineExecutionArn)" }
        }
      }
      ResultPath = null
      Next       = "ReadOutcome"
    }
    RecordPipelineFailed = {
      Type     = "Task"
      Resource = "arn:${local.partition}:states:::dynamodb:updateItem"
      Parameters = {
        TableName        = var.job_table_name
        Key              = local.retraining_record_key
        UpdateExpression = "SET Outcome = :o, Subject = :s, Message = :m"
        ExpressionAttributeValues = {
          ":o" = { S = "failed" }
          ":s" = { S = "${var.name}: retraining failed (SageMaker pipeline)" }
          ":m" = { "S.$" = "States.Format('Retraining ({}) ran SageMaker pipeline execution {}: {}. Nothing was registered if the AUC condition failed; its steps say why.', $.reason, $.pipeline.PipelineExecutionArn, $.pipeline.Status)" }
        }
      }
      ResultPath = null
      Next       = "ReadOutcome"
    }
  }

  retraining_definition = {
    Comment = "${var.name}: retrain (the pipeline, then a version pending approval), notify, one execution at a time."
    StartAt = "Defaults"
    States = merge({
      Defaults = {
        Type       = "Pass"
        Comment    = "Missing input keys take their defaults."
        Parameters = { "args.$" = "States.JsonMerge(States.StringToJson('${jsonencode(local.retraining_defaults)}'), $, false)" }
        OutputPath = "$.args"
        Next       = "FirstTry"
      }
      FirstTry = {
        Type       = "Pass"
        Comment    = "Counts the tries at the loop (Held? gives up after ${local.lock_tries})."
        Result     = { try = 1 }
        ResultPath = "$.lock_tries"
        Next       = "Acquire"
      }
      Acquire = {
        Type     = "Task"
        Comment  = "Hold the loop: one retraining at a time."
        Resource = "arn:${local.partition}:states:::dynamodb:updateItem"
        Parameters = {
          TableName           = var.job_table_name
          Key                 = { FileName = { S = local.lock_key.retraining } }
          UpdateExpression    = "SET Holder = :holder, HeldSince = :since, HolderReason = :reason"
          ConditionExpression = "attribute_not_exists(Holder)"
          ExpressionAttributeValues = {
            ":holder" = { "S.$" = "$$.Execution.Name" }
            ":since"  = { "S.$" = "$$.Execution.StartTime" }
            ":reason" = { "S.$" = "$.reason" }
          }
        }
        ResultPath = null
        Catch      = [{ ErrorEquals = ["DynamoDB.ConditionalCheckFailedException"], ResultPath = "$.error", Next = "ReadHolder" }]
        Next       = "RecordStarted"
      }
      # The holder may release the loop between the refused Acquire and this read: the item then
      # has no Holder, or there is no item at all (getItem's answer has no Item). So the answer
      # is kept whole — a ResultSelector path that is not there fails the execution
      # (States.Runtime, with no record) — and Held? tests it with IsPresent, the one Choice
      # test a missing path does not fail.
      ReadHolder = {
        Type       = "Task"
        Resource   = "arn:${local.partition}:states:::dynamodb:getItem"
        Parameters = { TableName = var.job_table_name, Key = { FileName = { S = local.lock_key.retraining } }, ConsistentRead = true }
        ResultPath = "$.lock"
        Next       = "Held?"
      }
      "Held?" = {
        Type = "Choice"
        Choices = [
          {
            And = [
              { Variable = "$.lock.Item.Holder.S", IsPresent = true },
              { Variable = "$.lock.Item.HeldSince.S", IsPresent = true },
            ]
            Next = "RecordSkipped"
          },
          # Released as we read it, lock_tries times: the loop keeps changing hands.
          { Variable = "$.lock_tries.try", NumericGreaterThanEquals = local.lock_tries, Next = "RecordContended" },
        ]
        # Released as we read it: the loop is free, take it.
        Default = "TryAgain"
      }
      TryAgain = {
        Type       = "Pass"
        Parameters = { "try.$" = "States.MathAdd($.lock_tries.try, 1)" }
        ResultPath = "$.lock_tries"
        Next       = "Acquire"
      }
      RecordStarted = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::dynamodb:putItem"
        Parameters = {
          TableName = var.job_table_name
          Item = merge(local.retraining_record, {
            Outcome = { S = "running" }
            # Replaced by the job's outcome; kept if the job ends without writing one.
            Subject = { S = "${var.name}: retraining ended without an outcome" }
            Message = { "S.$" = "States.Format('Retraining {} ({}) ended without recording an outcome: see its job log.', $$.Execution.Name, $.reason)" }
          })
        }
        ResultPath = null
        Next       = "Train"
      }
      RecordFailed = {
        Type     = "Task"
        Comment  = "The job died without saying why (it records its own failures): the error is the reason."
        Resource = "arn:${local.partition}:states:::dynamodb:updateItem"
        Parameters = {
          TableName           = var.job_table_name
          Key                 = local.retraining_record_key
          UpdateExpression    = "SET Outcome = :o, Subject = :s, Message = :m"
          ConditionExpression = "Outcome = :running"
          ExpressionAttributeValues = {
            ":o"       = { S = "failed" }
            ":running" = { S = "running" }
            ":s"       = { S = "${var.name}: retraining failed" }
            ":m"       = { "S.$" = "States.Format('Retraining {} ({}) failed, nothing registered: {}: {}', $$.Execution.Name, $.reason, $.error.Error, $.error.Cause)" }
          }
        }
        ResultPath = null
        Catch      = [{ ErrorEquals = ["DynamoDB.ConditionalCheckFailedException"], ResultPath = null, Next = "ReadOutcome" }]
        Next       = "ReadOutcome"
      }
      CoolDown = {
        Type        = "Wait"
        Comment     = "An alarm's retraining holds the loop a while longer: one drift episode, one retraining."
        SecondsPath = "$.cooldown_seconds"
        Next        = "Release"
      }
      Release = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::dynamodb:updateItem"
        Parameters = {
          TableName                 = var.job_table_name
          Key                       = { FileName = { S = local.lock_key.retraining } }
          UpdateExpression          = "REMOVE Holder, HeldSince, HolderReason"
          ConditionExpression       = "Holder = :holder"
          ExpressionAttributeValues = { ":holder" = { "S.$" = "$$.Execution.Name" } }
        }
        ResultPath = null
        # Someone broke the lock: it is not ours to release any more.
        Catch = [{ ErrorEquals = ["DynamoDB.ConditionalCheckFailedException"], ResultPath = null, Next = "Failed?" }]
        Next  = "Failed?"
      }
      # A failed job fails the execution (after notifying and releasing): Step Functions'
      # ExecutionsFailed counts it. A failed AUC condition is an outcome, not a failure.
      "Failed?" = {
        Type    = "Choice"
        Choices = [{ Variable = "$.outcome.Outcome", StringEquals = "failed", Next = "RetrainingFailed" }]
        Default = "Done"
      }
      RetrainingFailed = { Type = "Fail", Error = "RetrainingFailed", CausePath = "$.outcome.Message" }
      Done             = { Type = "Succeed" }
    }, local.skipped_states, local.outcome_states.retraining, { batch = local.train_with_batch, sagemaker = local.train_with_sagemaker }[var.pipeline_backend])
  }
}

# ---------------------------------------------------------------------------------------------
# What both machines do with their job's outcome: read the record the job wrote, publish its
# subject and message (a notification that cannot be sent does not stop the machine); and the
# retry of transient Batch API errors (throttling, a service error) of their .sync task — a job
# whose container fails is retried by the job definition's own retry strategy.
# ---------------------------------------------------------------------------------------------
locals {
  batch_api_retry = [{
    ErrorEquals     = ["Batch.AWSBatchException", "Batch.ServerException", "Batch.TooManyRequestsException"]
    IntervalSeconds = 10
    MaxAttempts     = 3
    BackoffRate     = 2
  }]

  outcome_states = { for machine, m in {
    retraining = { key = local.retraining_record_key, next = "CoolDown" }
    deploy     = { key = local.deploy_record_key, next = "Deployed?" }
    } : machine => {
    ReadOutcome = {
      Type           = "Task"
      Resource       = "arn:${local.partition}:states:::dynamodb:getItem"
      Parameters     = { TableName = var.job_table_name, Key = m.key, ConsistentRead = true }
      ResultSelector = { "Outcome.$" = "$.Item.Outcome.S", "Subject.$" = "$.Item.Subject.S", "Message.$" = "$.Item.Message.S" }
      ResultPath     = "$.outcome"
      Next           = "Notify"
    }
    Notify = {
      Type     = "Task"
      Resource = "arn:${local.partition}:states:::sns:publish"
      Parameters = {
        TopicArn    = var.sns_topic_arn
        "Subject.$" = "$.outcome.Subject"
        "Message.$" = "$.outcome.Message"
      }
      ResultPath = null
      Catch      = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.notify_error", Next = m.next }]
      Next       = m.next
    }
  } }
}

# ---------------------------------------------------------------------------------------------
# The deploy machine
#
# Input: the "SageMaker Model Package State Change" event of an approval (or, by hand,
# {"detail": {"ModelPackageVersion": N}}). byo loops deploy rolls the version out blue/green
# with a canary, rolled back by the variant's alarms, under the endpoint's rollout lock, and
# records the outcome (deployed, rolled-back, refused); the machine notifies it and fails
# unless the version was deployed.
# ---------------------------------------------------------------------------------------------
locals {
  deploy_record_key = { FileName = { "S.$" = "States.Format('loops/deploy/{}', $$.Execution.Name)" } }

  deploy_definition = {
    Comment = "${var.name}: roll an approved version out (canary, alarms, rollback) and notify."
    StartAt = "Version"
    States = merge(local.outcome_states.deploy, {
      Version = {
        Type = "Pass"
        Parameters = {
          "version.$" = "States.Format('{}', $.detail.ModelPackageVersion)"
        }
        Next = "RecordStarted"
      }
      RecordStarted = {
        Type     = "Task"
        Resource = "arn:${local.partition}:states:::dynamodb:putItem"
        Parameters = {
          TableName = var.job_table_name
          Item = merge(local.deploy_record_key, {
            Loop      = { S = "deploy" }
            Execution = { "S.$" = "$$.Execution.Name" }
            Reason    = { S = "approval" }
            Version   = { "S.$" = "$.version" }
            StartedAt = { "S.$" = "$$.Execution.StartTime" }
            Outcome   = { S = "running" }
            Subject   = { S = "${var.name}: deploy ended without an outcome" }
            Message   = { "S.$" = "States.Format('Deploy {} of version {} ended without recording an outcome: see its job log.', $$.Execution.Name, $.version)" }
          })
        }
        ResultPath = null
        Next       = "Deploy"
      }
      Deploy = {
        Type     = "Task"
        Comment  = "byo loops deploy: blue/green with a canary under the endpoint's rollout lock; it records the outcome."
        Resource = "arn:${local.partition}:states:::batch:submitJob.sync"
        Parameters = {
          "JobName.$"   = "States.Format('${local.deploy_job}-{}', $$.Execution.Name)"
          JobQueue      = var.job_queue_arn
          JobDefinition = try(var.job_definition_arns.deploy, "")
          Parameters = {
            "version.$" = "$.version"
            "record.$"  = "States.Format('loops/deploy/{}', $$.Execution.Name)"
          }
        }
        ResultSelector = { "JobId.$" = "$.JobId", "Status.$" = "$.Status" }
        ResultPath     = "$.job"
        Retry          = local.batch_api_retry
        # A rollback or a refusal fails the job: its record says which.
        Catch = [{ ErrorEquals = ["States.ALL"], ResultPath = "$.error", Next = "ReadOutcome" }]
        Next  = "ReadOutcome"
      }
      "Deployed?" = {
        Type    = "Choice"
        Choices = [{ Variable = "$.outcome.Outcome", StringEquals = "deployed", Next = "Done" }]
        Default = "NotDeployed"
      }
      NotDeployed = {
        Type      = "Fail"
        Error     = "NotDeployed"
        CausePath = "$.outcome.Message"
      }
      Done = { Type = "Succeed" }
    })
  }
}

# ---------------------------------------------------------------------------------------------
# The two machines, each logged (execution data included) and traced
# ---------------------------------------------------------------------------------------------
resource "aws_sfn_state_machine" "this" {
  for_each = { for machine, m in {
    retraining = { name = local.retraining_name, definition = local.retraining_definition }
    deploy     = { name = local.deploy_name, definition = local.deploy_definition }
  } : machine => m if local.machines }

  name       = each.value.name
  role_arn   = aws_iam_role.machine[each.key].arn
  definition = jsonencode(each.value.definition)

  logging_configuration {
    log_destination        = "${aws_cloudwatch_log_group.this[each.key].arn}:*"
    include_execution_data = true
    level                  = "ALL"
  }

  tracing_configuration {
    enabled = true
  }

  tags = merge(local.tags, { Name = each.value.name })
}

# ---------------------------------------------------------------------------------------------
# Triggers: EventBridge rules, each switchable
# ---------------------------------------------------------------------------------------------
locals {
  triggers = { for k, t in merge(
    var.retrain_schedule == null ? {} : {
      schedule = {
        description         = "${var.name}: retrain on ${var.retrain_schedule}"
        schedule_expression = var.retrain_schedule
        event_pattern       = null
        machine             = "retraining"
        input               = jsonencode({ reason = "schedule", data = local.training_data_uri, alarm = "", cooldown_seconds = 0 })
        input_paths         = null
        input_template      = null
      }
    },
    !var.retrain_on_new_data ? {} : {
      new-data = {
        description         = "${var.name}: retrain when a dataset lands under s3://${var.data_bucket_name}/${local.data_prefixes.datasets}"
        schedule_expression = null
        event_pattern = jsonencode({
          source        = ["aws.s3"]
          "detail-type" = ["Object Created"]
          detail = {
            bucket = { name = [var.data_bucket_name] }
            object = { key = [{ prefix = local.data_prefixes.datasets }] }
          }
        })
        machine        = "retraining"
        input          = null
        input_paths    = { bucket = "$.detail.bucket.name", key = "$.detail.object.key" }
        input_template = "{\"reason\": \"new-data\", \"data\": \"s3://<bucket>/<key>\", \"alarm\": \"\", \"cooldown_seconds\": 0}"
      }
    },
    length(var.retrain_on_alarms) == 0 ? {} : {
      alarm = {
        description         = "${var.name}: retrain when ${join(", ", var.retrain_on_alarms)} goes to ALARM"
        schedule_expression = null
        event_pattern = jsonencode({
          source        = ["aws.cloudwatch"]
          "detail-type" = ["CloudWatch Alarm State Change"]
          detail = {
            alarmName = var.retrain_on_alarms
            state     = { value = ["ALARM"] }
          }
        })
        machine        = "retraining"
        input          = null
        input_paths    = { alarm = "$.detail.alarmName" }
        input_template = "{\"reason\": \"alarm\", \"data\": \"${local.training_data_uri}\", \"alarm\": \"<alarm>\", \"cooldown_seconds\": ${var.alarm_cooldown_seconds}}"
      }
    },
    !var.deploy_on_approval ? {} : {
      approval = {
        description         = "${var.name}: deploy a version of ${var.model_package_group_name} when it is approved"
        schedule_expression = null
        event_pattern = jsonencode({
          source        = ["aws.sagemaker"]
          "detail-type" = ["SageMaker Model Package State Change"]
          detail = {
            ModelPackageGroupName = [var.model_package_group_name]
            ModelApprovalStatus   = ["Approved"]
          }
        })
        machine        = "deploy"
        input          = null
        input_paths    = null
        input_template = null
      }
    },
  ) : k => t if local.machines }
}

resource "aws_cloudwatch_event_rule" "this" {
  for_each = local.triggers

  name                = "${var.name}-loops-${each.key}"
  description         = each.value.description
  schedule_expression = each.value.schedule_expression
  event_pattern       = each.value.event_pattern

  tags = merge(local.tags, { Name = "${var.name}-loops-${each.key}" })

  # Whether a trigger is on is the operators' (byo loops pause / resume): an apply does not
  # resume a paused trigger.
  lifecycle {
    ignore_changes = [state]
  }
}

resource "aws_cloudwatch_event_target" "this" {
  for_each = local.triggers

  rule      = aws_cloudwatch_event_rule.this[each.key].name
  target_id = "${each.value.machine}-machine"
  arn       = aws_sfn_state_machine.this[each.value.machine].arn
  role_arn  = aws_iam_role.events[0].arn
  input     = each.value.input

  dynamic "input_transformer" {
    for_each = each.value.input_template == null ? [] : [each.value]
    content {
      input_paths    = input_transformer.value.input_paths
      input_template = input_transformer.value.input_template
    }
  }
}
