locals {
  # Decided by the (static) route list only: api_id is unknown until the API
  # exists, and for_each/count must be known at plan time.
  http = length(var.routes) > 0

  # "POST /webhooks/smartflo/{trigger}" -> "POST/webhooks/smartflo/*", the
  # method/path part of an execute-api source ARN.
  route_arn_suffix = {
    for r in var.routes :
    r => replace(replace(r, " ", ""), "/\\{[^}]+\\}/", "*")
  }
}

# ---------------------------------------------------------------------------
# Logs
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_log_group" "this" {
  #checkov:skip=CKV_AWS_338:Retention is a variable (default 30 days): these logs carry request metadata, not the record of events (that is the DynamoDB table, kept 90 days); a year of them would keep personal data longer than needed.
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_days
  kms_key_id        = var.kms_key_arn
}

# ---------------------------------------------------------------------------
# Execution role: one per function, only what this function does.
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${var.function_name}-lambda"
  description        = "Execution role of the ${var.function_name} function"
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

data "aws_iam_policy_document" "runtime" {
  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.this.arn}:*"]
  }

  statement {
    #checkov:skip=CKV_AWS_356:X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions; "*" is the only valid resource.
    sid       = "WriteTraces"
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "runtime" {
  name   = "logs-and-traces"
  role   = aws_iam_role.this.id
  policy = data.aws_iam_policy_document.runtime.json
}

resource "aws_iam_role_policy" "data" {
  name   = "data-access"
  role   = aws_iam_role.this.id
  policy = var.policy_json
}

# ---------------------------------------------------------------------------
# Function
# ---------------------------------------------------------------------------

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_116:Invoked synchronously (API Gateway, EventBridge retries itself); a Lambda DLQ only applies to asynchronous invocations. Failed deliveries are retried by the provider (5xx).
  #checkov:skip=CKV_AWS_117:Talks only to AWS public endpoints (DynamoDB, SQS, SSM); a VPC would add NAT or endpoint cost and cold-start latency without reducing exposure.
  #checkov:skip=CKV_AWS_115:Reserved concurrency is optional (var.reserved_concurrency); reserving it for every function would carve up the account pool. The stage's throttling limits bound concurrency instead.
  #checkov:skip=CKV_AWS_173:The environment holds no secret (tokens live in SSM SecureString, encrypted with the customer key); Lambda's default encryption at rest is enough for names and URLs.
  #checkov:skip=CKV_AWS_272:Packages are built and deployed from the repository by CI; code signing would need an AWS Signer profile outside this stack.
  function_name = var.function_name
  role          = aws_iam_role.this.arn
  filename      = var.package_file
  # Redeploy exactly when the package changes.
  source_code_hash = filebase64sha256(var.package_file)
  runtime          = "provided.al2023"
  handler          = "bootstrap"
  architectures    = [var.architecture]
  memory_size      = var.memory_mb
  timeout          = var.timeout_seconds

  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency

  environment {
    variables = var.environment
  }

  # The functions already log one JSON object per line; JSON format makes the
  # platform's own START/END/REPORT lines JSON too, so Logs Insights parses
  # every line of the group the same way.
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  tracing_config {
    mode = "Active"
  }

  depends_on = [
    aws_iam_role_policy.runtime,
    aws_iam_role_policy.data,
  ]
}

# ---------------------------------------------------------------------------
# HTTP API routes (only for HTTP functions)
# ---------------------------------------------------------------------------

resource "aws_apigatewayv2_integration" "this" {
  count = local.http ? 1 : 0

  api_id                 = var.api_id
  integration_type       = "AWS_PROXY"
  integration_method     = "POST"
  integration_uri        = aws_lambda_function.this.invoke_arn
  payload_format_version = "2.0"
  timeout_milliseconds   = var.integration_timeout_ms
}

resource "aws_apigatewayv2_route" "this" {
  for_each = local.http ? toset(var.routes) : toset([])
  #checkov:skip=CKV_AWS_309:Providers authenticate with a shared-secret token (query parameter `key` or header X-Webhook-Token) that the function checks in constant time; none of them can sign requests (IAM) or obtain JWTs.

  api_id             = var.api_id
  route_key          = each.value
  target             = "integrations/${aws_apigatewayv2_integration.this[0].id}"
  authorization_type = "NONE"
}

resource "aws_lambda_permission" "api" {
  for_each = local.http ? toset(var.routes) : toset([])

  statement_id  = "AllowApi-${substr(sha1(each.value), 0, 12)}"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "apigateway.amazonaws.com"
  # Any stage, exactly this route's method and path.
  source_arn = "${var.api_execution_arn}/*/${local.route_arn_suffix[each.value]}"
}

# ---------------------------------------------------------------------------
# Function alarms
# ---------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${var.function_name}-errors"
  alarm_description   = "${var.function_name} failed invocations (crash, panic, timeout, or init failure such as a missing token parameter). Providers get 5xx and retry. Check the function's log group for the error."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 60
  evaluation_periods  = 5
  datapoints_to_alarm = 2
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "throttles" {
  alarm_name          = "${var.function_name}-throttles"
  alarm_description   = "${var.function_name} invocations throttled by Lambda (account or reserved concurrency exhausted). Providers get 5xx/429 and retry; raise the concurrency or find the surge."
  namespace           = "AWS/Lambda"
  metric_name         = "Throttles"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}

resource "aws_cloudwatch_metric_alarm" "duration" {
  alarm_name          = "${var.function_name}-duration-near-timeout"
  alarm_description   = "${var.function_name} p99 duration above ${floor(var.duration_alarm_fraction * 100)}% of its ${var.timeout_seconds}s timeout: a dependency (DynamoDB, SQS, SSM) is slow or retrying; timeouts and provider retries follow."
  namespace           = "AWS/Lambda"
  metric_name         = "Duration"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  extended_statistic  = "p99"
  period              = 300
  evaluation_periods  = 1
  threshold           = var.timeout_seconds * 1000 * var.duration_alarm_fraction
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
}
