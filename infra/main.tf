data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition
  region     = data.aws_region.current.name

  # One entry per provider. Adding a provider = one entry here plus its
  # package; the module does the rest (role, log group, function, routes,
  # function alarms), and monitoring.tf adds its dashboard and EMF alarms.
  providers = {
    truecaller = {
      routes    = ["POST /webhooks/truecaller"]
      url_path  = "/webhooks/truecaller"
      extra_env = {}
    }
    curious-thing = {
      routes    = ["POST /webhooks/curious-thing"]
      url_path  = "/webhooks/curious-thing"
      extra_env = {}
    }
    smartflo = {
      routes    = ["GET /webhooks/smartflo/{trigger}", "POST /webhooks/smartflo/{trigger}"]
      url_path  = "/webhooks/smartflo/{trigger}"
      extra_env = { SMARTFLO_UTC_OFFSET = var.smartflo_utc_offset }
    }
    wavix = {
      routes    = ["POST /webhooks/wavix"]
      url_path  = "/webhooks/wavix"
      extra_env = {}
    }
  }

  # SSM SecureString parameter holding each provider's comma-separated tokens.
  # Deliberately NOT managed by Terraform (see ssm.tf / README.md).
  token_param_names = { for p in keys(local.providers) : p => "/${var.name_prefix}/${p}/webhook-tokens" }
  token_param_arns = {
    for p, name in local.token_param_names :
    p => "arn:${local.partition}:ssm:${local.region}:${local.account_id}:parameter${name}"
  }

  common_env = {
    EVENTS_TABLE         = aws_dynamodb_table.events.name
    CALLBACK_QUEUE_URL   = aws_sqs_queue.callback.url
    MAX_BODY_BYTES       = tostring(var.max_body_bytes)
    EVENT_RETENTION_DAYS = tostring(var.event_retention_days)
    DEFAULT_PHONE_REGION = var.default_phone_region
    RUST_LOG             = var.rust_log
  }

  metrics_namespace = "WebhookReceivers"
}

# ---------------------------------------------------------------------------
# Encryption key: one customer-managed key for the table, the queues, the
# token parameters, the log groups and the alarm topic. Split it per purpose
# if different teams must administer different data.
# ---------------------------------------------------------------------------

data "aws_iam_policy_document" "kms" {
  #checkov:skip=CKV_AWS_109:A key policy's Resource "*" means "this key"; administration is delegated to the account's IAM, which is the AWS-recommended default.
  #checkov:skip=CKV_AWS_111:A key policy's Resource "*" means "this key"; write access is limited to the account root (IAM delegation) and the conditioned service principals below.
  #checkov:skip=CKV_AWS_356:A key policy's Resource "*" means "this key"; it cannot name anything else.
  statement {
    sid       = "AccountAdministersViaIAM"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }

  statement {
    sid = "CloudWatchLogsEncryptsThisAccountsLogGroups"
    actions = [
      "kms:Encrypt*",
      "kms:Decrypt*",
      "kms:ReEncrypt*",
      "kms:GenerateDataKey*",
      "kms:Describe*",
    ]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    condition {
      test     = "ArnLike"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account_id}:log-group:*"]
    }
  }

  statement {
    sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["cloudwatch.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_kms_key" "main" {
  description             = "${var.name_prefix}: webhook events, callback queue, tokens, logs, alarms"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.kms.json
}

resource "aws_kms_alias" "main" {
  name          = "alias/${var.name_prefix}"
  target_key_id = aws_kms_key.main.key_id
}
