# ---------------------------------------------------------------------------
# Reconciler (optional, var.enable_reconciler): every minute, re-sends the
# callback tasks whose send was never confirmed (items in the sparse
# pending-tasks index). Same module as the webhook functions, without routes.
# ---------------------------------------------------------------------------

locals {
  reconciler_enabled = var.enable_reconciler ? { reconciler = true } : {}

  reconciler_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Query the sparse index only: no Scan, no access to other indexes.
        Sid      = "FindPendingTasks"
        Effect   = "Allow"
        Action   = "dynamodb:Query"
        Resource = "${aws_dynamodb_table.events.arn}/index/pending-tasks"
      },
      {
        # Mark a task enqueued once its send is confirmed.
        Sid      = "ConfirmTasks"
        Effect   = "Allow"
        Action   = "dynamodb:UpdateItem"
        Resource = aws_dynamodb_table.events.arn
      },
      {
        Sid      = "EnqueueCallbackTasks"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = aws_sqs_queue.callback.arn
      },
      {
        Sid      = "UseKeyThroughSqsOnly"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = aws_kms_key.main.arn
        Condition = {
          StringEquals = { "kms:ViaService" = "sqs.${local.region}.amazonaws.com" }
        }
      },
    ]
  })
}

module "reconciler" {
  source   = "./modules/webhook_function"
  for_each = local.reconciler_enabled

  function_name        = "${var.name_prefix}-reconciler"
  package_file         = "${var.package_dir}/reconciler/bootstrap.zip"
  architecture         = var.architecture
  memory_mb            = var.memory_mb
  timeout_seconds      = 30
  reserved_concurrency = 1 # one pass at a time: overlapping passes would only race each other
  log_retention_days   = var.log_retention_days
  kms_key_arn          = aws_kms_key.main.arn
  policy_json          = local.reconciler_policy
  alarm_topic_arn      = aws_sns_topic.alarms.arn

  environment = {
    EVENTS_TABLE       = aws_dynamodb_table.events.name
    CALLBACK_QUEUE_URL = aws_sqs_queue.callback.url
    RUST_LOG           = var.rust_log
  }
}

resource "aws_cloudwatch_event_rule" "reconciler" {
  for_each = local.reconciler_enabled

  name                = "${var.name_prefix}-reconciler"
  description         = "Runs the callback-task reconciler"
  schedule_expression = var.reconciler_schedule
}

resource "aws_cloudwatch_event_target" "reconciler" {
  for_each = local.reconciler_enabled

  rule = aws_cloudwatch_event_rule.reconciler[each.key].name
  arn  = module.reconciler[each.key].function_arn
}

resource "aws_lambda_permission" "reconciler_schedule" {
  for_each = local.reconciler_enabled

  statement_id  = "AllowSchedule"
  action        = "lambda:InvokeFunction"
  function_name = module.reconciler[each.key].function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.reconciler[each.key].arn
}
