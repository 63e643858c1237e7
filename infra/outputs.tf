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
