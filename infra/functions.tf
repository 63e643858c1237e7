# ---------------------------------------------------------------------------
# One function per provider, all from the same module.
# ---------------------------------------------------------------------------

# Data permissions of each provider's function. Built with jsonencode rather
# than an aws_iam_policy_document data source on purpose: a data source that
# depends on a resource with any pending change is re-read at apply time,
# which turns every role policy into "known after apply" and hides whether the
# policy itself would change.
locals {
  provider_data_policies = {
    for p in keys(local.providers) : p => jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          # PutItem (conditional insert) and UpdateItem (status transitions)
          # only. No GetItem: a duplicate is detected by the failed condition,
          # which returns the stored item
          # (ReturnValuesOnConditionCheckFailure=ALL_OLD).
          Sid      = "WriteEvents"
          Effect   = "Allow"
          Action   = ["dynamodb:PutItem", "dynamodb:UpdateItem"]
          Resource = aws_dynamodb_table.events.arn
        },
        {
          # Metadata reads made once at cold start to open the TLS
          # connections the first delivery uses (bootstrap::warm_connections).
          Sid      = "WarmUpTableConnection"
          Effect   = "Allow"
          Action   = "dynamodb:DescribeTable"
          Resource = aws_dynamodb_table.events.arn
        },
        {
          Sid      = "EnqueueCallbackTasks"
          Effect   = "Allow"
          Action   = ["sqs:SendMessage", "sqs:GetQueueAttributes"]
          Resource = aws_sqs_queue.callback.arn
        },
        {
          Sid      = "ReadOwnTokens"
          Effect   = "Allow"
          Action   = "ssm:GetParameter"
          Resource = local.token_param_arns[p]
        },
        {
          # SendMessage to a KMS-encrypted queue needs GenerateDataKey and
          # Decrypt; a SecureString read needs Decrypt. DynamoDB uses its own
          # grant on the key, so the table needs no KMS permission here.
          Sid      = "UseKeyThroughSqsAndSsmOnly"
          Effect   = "Allow"
          Action   = ["kms:Decrypt", "kms:GenerateDataKey"]
          Resource = aws_kms_key.main.arn
          Condition = {
            StringEquals = {
              "kms:ViaService" = [
                "sqs.${local.region}.amazonaws.com",
                "ssm.${local.region}.amazonaws.com",
              ]
            }
          }
        },
      ]
    })
  }
}

module "webhook_function" {
  source   = "./modules/webhook_function"
  for_each = local.providers

  function_name        = "${var.name_prefix}-${each.key}"
  package_file         = "${var.package_dir}/${each.key}/bootstrap.zip"
  architecture         = var.architecture
  memory_mb            = var.memory_mb
  timeout_seconds      = var.timeout_seconds
  reserved_concurrency = lookup(var.reserved_concurrency, each.key, null)
  log_retention_days   = var.log_retention_days
  kms_key_arn          = aws_kms_key.main.arn
  policy_json          = local.provider_data_policies[each.key]
  alarm_topic_arn      = aws_sns_topic.alarms.arn

  environment = merge(local.common_env, each.value.extra_env, {
    WEBHOOK_TOKENS_PARAM = local.token_param_names[each.key]
  })

  api_id            = aws_apigatewayv2_api.webhooks.id
  api_execution_arn = aws_apigatewayv2_api.webhooks.execution_arn
  routes            = each.value.routes
  # A little above the function timeout so the function's own timeout, not
  # the gateway's, ends a slow request.
  integration_timeout_ms = min(30000, var.timeout_seconds * 1000 + 1000)
}
