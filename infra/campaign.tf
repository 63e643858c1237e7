# ---------------------------------------------------------------------------
# Truecaller Verified Campaign push (issue 7; docs/campaign.md). Fed by the
# events table's stream, so the receivers' hot path is untouched: for each
# callback task that became enqueued, one validated campaign is pushed to
# Truecaller. Off until the business has its Org ID, endpoint and templates.
# ---------------------------------------------------------------------------

locals {
  campaign_enabled         = var.enable_campaign ? { truecaller-campaign = true } : {}
  campaign_token_param     = "/${var.name_prefix}/truecaller-campaign/org-token"
  campaign_token_param_arn = "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${local.campaign_token_param}"

  campaign_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadTableStream"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:ListStreams"]
        Resource = aws_dynamodb_table.events.stream_arn
      },
      {
        # Its own idempotency records only (campaign#{task_id}).
        Sid      = "RecordPushes"
        Effect   = "Allow"
        Action   = ["dynamodb:UpdateItem", "dynamodb:GetItem"]
        Resource = aws_dynamodb_table.events.arn
        Condition = {
          "ForAllValues:StringLike" = { "dynamodb:LeadingKeys" = ["campaign#*"] }
        }
      },
      {
        Sid      = "WarmUpTableConnection"
        Effect   = "Allow"
        Action   = "dynamodb:DescribeTable"
        Resource = aws_dynamodb_table.events.arn
      },
      {
        Sid      = "DeadLetterCampaigns"
        Effect   = "Allow"
        Action   = "sqs:SendMessage"
        Resource = [aws_sqs_queue.campaign_dlq.arn, aws_sqs_queue.campaign_stream_failures.arn]
      },
      {
        Sid      = "ReadOrgToken"
        Effect   = "Allow"
        Action   = "ssm:GetParameter"
        Resource = local.campaign_token_param_arn
      },
      {
        Sid      = "UseKeyThroughSqsAndSsmOnly"
        Effect   = "Allow"
        Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource = aws_kms_key.main.arn
        Condition = {
          StringEquals = {
            "kms:ViaService" = ["sqs.${local.region}.amazonaws.com", "ssm.${local.region}.amazonaws.com"]
          }
        }
      },
    ]
  })
}

# Campaigns that failed validation or that Truecaller refused (4xx), with
# their reason: never silently dropped. 14 days to inspect and replay.
resource "aws_sqs_queue" "campaign_dlq" {
  name                              = "${var.name_prefix}-truecaller-campaign-dlq"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

# Stream batches the function could not process after the mapping's
# retries (the on-failure destination).
resource "aws_sqs_queue" "campaign_stream_failures" {
  name                              = "${var.name_prefix}-truecaller-campaign-stream-failures"
  message_retention_seconds         = 1209600
  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

module "campaign" {
  source   = "./modules/webhook_function"
  for_each = local.campaign_enabled

  function_name        = "${var.name_prefix}-truecaller-campaign"
  package_file         = "${var.package_dir}/truecaller-campaign/bootstrap.zip"
  architecture         = var.architecture
  memory_mb            = var.memory_mb
  timeout_seconds      = 300 # up to 5 stream records, each with bounded retries and backoff
  reserved_concurrency = null
  log_retention_days   = var.log_retention_days
  kms_key_arn          = aws_kms_key.main.arn
  policy_json          = local.campaign_policy
  alarm_topic_arn      = aws_sns_topic.alarms.arn

  environment = {
    EVENTS_TABLE               = aws_dynamodb_table.events.name
    CAMPAIGN_DLQ_URL           = aws_sqs_queue.campaign_dlq.url
    TRUECALLER_CAMPAIGN_URL    = var.truecaller_campaign_url
    TRUECALLER_ORG_ID          = var.truecaller_org_id
    TRUECALLER_ORG_TOKEN_PARAM = local.campaign_token_param
    CAMPAIGN_TEMPLATES         = var.campaign_templates_json
    RUST_LOG                   = var.rust_log
  }
}

resource "aws_lambda_event_source_mapping" "campaign" {
  for_each = local.campaign_enabled

  event_source_arn  = aws_dynamodb_table.events.stream_arn
  function_name     = module.campaign[each.key].function_arn
  starting_position = "LATEST" # TRIM_HORIZON on first deploy would push campaigns for a day of old tasks

  batch_size                         = 5
  maximum_batching_window_in_seconds = 1
  bisect_batch_on_function_error     = true
  maximum_retry_attempts             = 10
  maximum_record_age_in_seconds      = 3600
  function_response_types            = ["ReportBatchItemFailures"]

  # Only records whose new image is task_enqueued reach the function; it
  # compares old and new images itself (filters cannot).
  filter_criteria {
    filter {
      pattern = jsonencode({
        eventName = ["INSERT", "MODIFY"]
        dynamodb  = { NewImage = { status = { S = ["task_enqueued"] } } }
      })
    }
  }

  destination_config {
    on_failure {
      destination_arn = aws_sqs_queue.campaign_stream_failures.arn
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "campaign_dead_letters" {
  for_each = { dlq = aws_sqs_queue.campaign_dlq.name, stream-failures = aws_sqs_queue.campaign_stream_failures.name }

  alarm_name          = "${var.name_prefix}-truecaller-campaign-${each.key}-not-empty"
  alarm_description   = "Truecaller campaigns that were not pushed: invalid for the task, refused by Truecaller (4xx), or stream batches that exhausted their retries. Each message carries its task_id and reason; fix the template or config, then replay."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = each.value }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}

resource "aws_cloudwatch_metric_alarm" "campaign_iterator_age" {
  for_each = local.campaign_enabled

  alarm_name          = "${var.name_prefix}-truecaller-campaign-iterator-age"
  alarm_description   = "The campaign function is more than 5 minutes behind the table's stream: customers get the branded call screen late or not at all. Check the function's errors and Truecaller's endpoint."
  namespace           = "AWS/Lambda"
  metric_name         = "IteratorAge"
  dimensions          = { FunctionName = module.campaign[each.key].function_name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 300000
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = local.alarm_actions
}
