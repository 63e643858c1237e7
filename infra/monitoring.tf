# ---------------------------------------------------------------------------
# Alarm topic
# ---------------------------------------------------------------------------

resource "aws_sns_topic" "alarms" {
  name              = "${var.name_prefix}-alarms"
  kms_master_key_id = aws_kms_key.main.arn
}

resource "aws_sns_topic_subscription" "alarm_email" {
  for_each = toset(var.alarm_emails)

  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = each.value
}

locals {
  alarm_actions  = [aws_sns_topic.alarms.arn]
  api_stage_name = aws_apigatewayv2_stage.default.name
}

# ---------------------------------------------------------------------------
# Stack-wide alarms (function alarms live in the webhook_function module)
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "api_5xx_rate" {
  alarm_name          = "${var.name_prefix}-api-5xx-rate"
  alarm_description   = "More than ${var.alarm_api_5xx_percent}% of webhook deliveries answered 5xx over 5 minutes (2 of 3 periods). Providers are retrying; deliveries are not lost yet but will be once the providers give up. Look at DependencyFailures and the functions' errors."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.alarm_api_5xx_percent
  evaluation_periods  = 3
  datapoints_to_alarm = 2
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions

  metric_query {
    id          = "rate"
    expression  = "IF(requests >= 10, 100 * errors / requests, 0)"
    label       = "5xx percent"
    return_data = true
  }

  metric_query {
    id = "errors"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "5xx"
      dimensions  = { ApiId = aws_apigatewayv2_api.webhooks.id, Stage = local.api_stage_name }
      stat        = "Sum"
      period      = 300
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApiGateway"
      metric_name = "Count"
      dimensions  = { ApiId = aws_apigatewayv2_api.webhooks.id, Stage = local.api_stage_name }
      stat        = "Sum"
      period      = 300
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "auth_failures" {
  for_each = local.providers

  alarm_name          = "${var.name_prefix}-${each.key}-auth-failures"
  alarm_description   = "More than ${var.alarm_auth_failures} ${each.key} deliveries with a missing or wrong token in 5 minutes. Either the provider's configured token no longer matches ours (rotation gone wrong: real events are being refused) or someone is probing the endpoint. Run the saved query 'auth failures by source IP'."
  namespace           = local.metrics_namespace
  metric_name         = "AuthFailures"
  dimensions          = { Provider = each.key }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.alarm_auth_failures
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "unreachable_callbacks" {
  for_each = local.providers

  alarm_name          = "${var.name_prefix}-${each.key}-unreachable-callbacks"
  alarm_description   = "A ${each.key} event asked for a callback but carried no reachable phone number, so no task was queued: a customer is waiting for a call nobody will make. Find the event with the saved query and hand it to the callback team."
  namespace           = local.metrics_namespace
  metric_name         = "UnreachableCallbacks"
  dimensions          = { Provider = each.key }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "dlq_not_empty" {
  alarm_name          = "${var.name_prefix}-callback-dlq-not-empty"
  alarm_description   = "Callback tasks failed processing 5 times and moved to the dead-letter queue: those customers will not be called back until someone inspects the messages and redrives them (console 'Start DLQ redrive')."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.callback_dlq.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "oldest_task_age" {
  alarm_name          = "${var.name_prefix}-callback-oldest-task-age"
  alarm_description   = "The oldest callback task has waited more than ${var.alarm_oldest_task_age_seconds}s on the queue: the consumer is down or falling behind, and callback windows are being missed. Page the consuming team; tasks are kept 4 days."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateAgeOfOldestMessage"
  dimensions          = { QueueName = aws_sqs_queue.callback.name }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 3
  threshold           = var.alarm_oldest_task_age_seconds
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
  ok_actions          = local.alarm_actions
}

# ---------------------------------------------------------------------------
# Dashboards: one per provider, each with the shared queue at the bottom.
# ---------------------------------------------------------------------------

locals {
  queue_widgets = [
    {
      type = "metric", x = 0, y = 18, width = 12, height = 6
      properties = {
        title  = "Callback queue depth"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = 60
        metrics = [
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.callback.name, { label = "queued" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesNotVisible", "QueueName", aws_sqs_queue.callback.name, { label = "in flight" }],
          ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", aws_sqs_queue.callback_dlq.name, { label = "dead-letter" }],
        ]
      }
    },
    {
      type = "metric", x = 12, y = 18, width = 12, height = 6
      properties = {
        title  = "Age of oldest callback task (s)"
        region = local.region
        view   = "timeSeries"
        stat   = "Maximum"
        period = 60
        metrics = [
          ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", aws_sqs_queue.callback.name, { label = "oldest task" }],
        ]
        annotations = {
          horizontal = [{ label = "alarm", value = var.alarm_oldest_task_age_seconds }]
        }
      }
    },
  ]

  dashboard_names = { for p in keys(local.providers) : p => "${var.name_prefix}-${p}" }
}

resource "aws_cloudwatch_dashboard" "provider" {
  for_each = local.providers

  dashboard_name = local.dashboard_names[each.key]
  dashboard_body = jsonencode({
    widgets = concat([
      {
        type = "metric", x = 0, y = 0, width = 12, height = 6
        properties = {
          title  = "${each.key}: deliveries"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            [local.metrics_namespace, "EventsReceived", "Provider", each.key, { label = "received" }],
            [local.metrics_namespace, "EventsStored", "Provider", each.key, { label = "stored" }],
            [local.metrics_namespace, "Duplicates", "Provider", each.key, { label = "duplicates" }],
            [local.metrics_namespace, "Rejected", "Provider", each.key, { label = "rejected" }],
            [local.metrics_namespace, "AuthFailures", "Provider", each.key, { label = "auth failures" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 0, width = 12, height = 6
        properties = {
          title  = "${each.key}: rejected by reason"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 300
          metrics = [
            [{ expression = "SEARCH('{${local.metrics_namespace},Provider,Reason} MetricName=\"Rejected\" Provider=\"${each.key}\"', 'Sum', 300)", id = "byreason", label = "" }],
          ]
        }
      },
      {
        type = "metric", x = 0, y = 6, width = 12, height = 6
        properties = {
          title  = "${each.key}: callback tasks"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            [local.metrics_namespace, "TasksEnqueued", "Provider", each.key, { label = "enqueued" }],
            [local.metrics_namespace, "UnreachableCallbacks", "Provider", each.key, { label = "unreachable" }],
            [local.metrics_namespace, "PayloadConflicts", "Provider", each.key, { label = "payload conflicts" }],
            [local.metrics_namespace, "DependencyFailures", "Provider", each.key, { label = "dependency failures" }],
          ]
        }
      },
      {
        type = "metric", x = 12, y = 6, width = 12, height = 6
        properties = {
          title  = "${each.key}: latency (ms)"
          region = local.region
          view   = "timeSeries"
          period = 60
          metrics = [
            ["AWS/Lambda", "Duration", "FunctionName", module.webhook_function[each.key].function_name, { stat = "p50", label = "function p50" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.webhook_function[each.key].function_name, { stat = "p99", label = "function p99" }],
            ["AWS/Lambda", "Duration", "FunctionName", module.webhook_function[each.key].function_name, { stat = "Maximum", label = "function max" }],
          ]
          annotations = {
            horizontal = [{ label = "timeout", value = var.timeout_seconds * 1000 }]
          }
        }
      },
      {
        type = "metric", x = 0, y = 12, width = 12, height = 6
        properties = {
          title  = "${each.key}: invocations, errors, throttles"
          region = local.region
          view   = "timeSeries"
          stat   = "Sum"
          period = 60
          metrics = [
            ["AWS/Lambda", "Invocations", "FunctionName", module.webhook_function[each.key].function_name],
            ["AWS/Lambda", "Errors", "FunctionName", module.webhook_function[each.key].function_name],
            ["AWS/Lambda", "Throttles", "FunctionName", module.webhook_function[each.key].function_name],
            ["AWS/Lambda", "ConcurrentExecutions", "FunctionName", module.webhook_function[each.key].function_name, { stat = "Maximum" }],
          ]
        }
      },
      {
        type = "log", x = 12, y = 12, width = 12, height = 6
        properties = {
          title  = "${each.key}: latest rejections"
          region = local.region
          view   = "table"
          query  = "SOURCE '${module.webhook_function[each.key].log_group_name}' | fields @timestamp, event_key, status, reason, request_id | filter outcome = 'rejected' or status >= 400 | sort @timestamp desc | limit 50"
        }
      },
    ], local.queue_widgets)
  })
}

# ---------------------------------------------------------------------------
# Saved Logs Insights queries (CloudWatch > Logs Insights > Saved queries)
# ---------------------------------------------------------------------------

locals {
  function_log_groups = [for m in module.webhook_function : m.log_group_name]
}

resource "aws_cloudwatch_query_definition" "follow_event" {
  count = var.create_saved_queries ? 1 : 0

  name            = "${var.name_prefix}/follow one event key"
  log_group_names = local.function_log_groups
  # Replace the event key (or use a request_id from an access log line).
  query_string = <<-EOT
    fields @timestamp, provider, event_key, outcome, status, reason, request_id, @message
    | filter event_key = "REPLACE-WITH-EVENT-KEY"
    | sort @timestamp asc
    | limit 200
  EOT
}

resource "aws_cloudwatch_query_definition" "rejections_by_reason" {
  count = var.create_saved_queries ? 1 : 0

  name            = "${var.name_prefix}/rejections by reason"
  log_group_names = local.function_log_groups
  query_string    = <<-EOT
    fields provider, reason, status
    | filter outcome = "rejected" or status >= 400
    | stats count(*) as deliveries by provider, status, reason
    | sort deliveries desc
  EOT
}

# The functions' logs do not carry the caller's address; the API access log
# does (status 401 = missing or wrong token).
resource "aws_cloudwatch_query_definition" "auth_failures_by_ip" {
  count = var.create_saved_queries ? 1 : 0

  name            = "${var.name_prefix}/auth failures by source IP"
  log_group_names = [aws_cloudwatch_log_group.api_access.name]
  query_string    = <<-EOT
    fields ip, routeKey, status, userAgent
    | filter status = 401
    | stats count(*) as failures, earliest(requestTime) as first, latest(requestTime) as last by ip, routeKey, userAgent
    | sort failures desc
  EOT
}

resource "aws_cloudwatch_metric_alarm" "tasks_stuck" {
  alarm_name          = "${var.name_prefix}-callback-tasks-stuck"
  alarm_description   = "A callback task stayed task_pending past SQS FIFO's 5-minute deduplication window, so it is not re-sent automatically (it might already be on the queue). Check the dialer for its task_id, then webhook-ops resolve <task id> --send or --cancel --reason TEXT. See infra/README.md, runbook."
  namespace           = local.metrics_namespace
  metric_name         = "TasksStuck"
  dimensions          = { Provider = "reconciler" }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}
