output "api_endpoint" {
  description = "Base URL of the HTTP API ($default stage)."
  value       = aws_apigatewayv2_api.webhooks.api_endpoint
}

output "webhook_urls" {
  description = "URL to configure at each provider (append ?key=<token>). Smartflo: replace {trigger} with the trigger's slug, one URL per trigger."
  value       = { for p, cfg in local.providers : p => "${aws_apigatewayv2_api.webhooks.api_endpoint}${cfg.url_path}" }
}

output "callback_queue_url" {
  description = "URL of the callback-request FIFO queue (for the consuming team)."
  value       = aws_sqs_queue.callback.url
}

output "callback_dlq_url" {
  description = "URL of the callback-request dead-letter queue."
  value       = aws_sqs_queue.callback_dlq.url
}

output "events_table_name" {
  description = "Name of the DynamoDB events table."
  value       = aws_dynamodb_table.events.name
}

output "events_table_stream_arn" {
  description = "ARN of the events table's stream (NEW_AND_OLD_IMAGES)."
  value       = aws_dynamodb_table.events.stream_arn
}

output "dashboard_urls" {
  description = "CloudWatch console link of each provider's dashboard."
  value = {
    for p, name in local.dashboard_names :
    p => "https://${local.region}.console.aws.amazon.com/cloudwatch/home?region=${local.region}#dashboards/dashboard/${aws_cloudwatch_dashboard.provider[p].dashboard_name}"
  }
}

output "token_parameter_names" {
  description = "SSM SecureString parameter each function reads its tokens from. Not managed by Terraform: create them with the commands in token_parameter_commands."
  value       = local.token_param_names
}

output "token_parameter_commands" {
  description = "Commands that create or rotate each provider's tokens (comma-separated; keep the old token listed while rotating)."
  value = {
    for p, name in local.token_param_names :
    p => "aws ssm put-parameter --region ${local.region} --name '${name}' --type SecureString --key-id '${aws_kms_alias.main.name}' --overwrite --value 'TOKEN[,OLD_TOKEN]'"
  }
}

output "function_names" {
  description = "Lambda function name per provider (plus reconciler when enabled)."
  value = merge(
    { for p, m in module.webhook_function : p => m.function_name },
    { for k, m in module.reconciler : k => m.function_name },
  )
}

output "alarm_topic_arn" {
  description = "SNS topic all alarms notify; subscribe on-call tooling to it."
  value       = aws_sns_topic.alarms.arn
}

output "operator_policy_arn" {
  description = "Managed policy with exactly what the on-call CLI webhook-ops needs (infra/operator.tf)."
  value       = aws_iam_policy.operator.arn
}

output "operator_role_arn" {
  description = "Role on-call assumes (with MFA) to run webhook-ops; null unless operator_trusted_principals is set."
  value       = length(aws_iam_role.operator) > 0 ? aws_iam_role.operator[0].arn : null
}

output "webhook_ops_env" {
  description = "Environment for webhook-ops against this stack (export these, then run webhook-ops trace/stats/...)."
  value = {
    EVENTS_TABLE       = aws_dynamodb_table.events.name
    CALLBACK_QUEUE_URL = aws_sqs_queue.callback.url
    CALLBACK_DLQ_URL   = aws_sqs_queue.callback_dlq.url
    CAMPAIGN_DLQ_URL   = aws_sqs_queue.campaign_dlq.url
    AWS_REGION         = local.region
  }
}
