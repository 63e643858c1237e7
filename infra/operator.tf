# ---------------------------------------------------------------------------
# On-call operators: the least privilege `webhook-ops` (shared/ops) needs.
# One managed policy (output operator_policy_arn) to attach to the on-call
# group or SSO permission set; and, when operator_trusted_principals is set,
# a role on-call assumes (with MFA) that carries exactly this policy.
#
# Per command (infra/README.md, "On-call CLI permissions"):
#   every command  dynamodb:DescribeTable, sqs:GetQueueAttributes (checks
#                  that the table/queues exist before changing anything);
#                  sts:GetCallerIdentity (who acted) needs no permission
#   trace, stats   dynamodb:GetItem, dynamodb:Scan; trace also
#                  sqs:ReceiveMessage + sqs:ChangeMessageVisibility on the
#                  two DLQs (it looks, then makes the messages visible again)
#   replay         dynamodb:Scan, GetItem, PutItem, UpdateItem; sqs:SendMessage
#   redrive        sqs:ReceiveMessage, ChangeMessageVisibility, DeleteMessage
#                  on the callback DLQ; sqs:SendMessage on the callback queue;
#                  dynamodb:GetItem, Scan, UpdateItem
#   resolve        dynamodb:Scan, GetItem, UpdateItem; sqs:SendMessage
# KMS through SQS only (the queues are encrypted with the stack's key;
# DynamoDB uses its own grant on the key). No DeleteItem, no PurgeQueue, no
# access to the callback queue's messages (reading them would count towards
# its redrive policy), no SSM: the replay never reads the webhook tokens.
# ---------------------------------------------------------------------------

locals {
  operator_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ReadAndSettleEventRecords"
        Effect   = "Allow"
        Action   = ["dynamodb:DescribeTable", "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:PutItem", "dynamodb:UpdateItem"]
        Resource = aws_dynamodb_table.events.arn
      },
      {
        Sid      = "SendCallbackTasks"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueAttributes", "sqs:SendMessage"]
        Resource = aws_sqs_queue.callback.arn
      },
      {
        Sid      = "InspectAndRedriveDeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]
        Resource = aws_sqs_queue.callback_dlq.arn
      },
      {
        Sid      = "InspectCampaignDeadLetters"
        Effect   = "Allow"
        Action   = ["sqs:GetQueueAttributes", "sqs:ReceiveMessage", "sqs:ChangeMessageVisibility"]
        Resource = aws_sqs_queue.campaign_dlq.arn
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

resource "aws_iam_policy" "operator" {
  name        = "${var.name_prefix}-webhook-ops"
  description = "What the on-call CLI webhook-ops needs: trace, replay, redrive, resolve, stats (infra/README.md)."
  policy      = local.operator_policy
}

data "aws_iam_policy_document" "operator_assume" {
  count = length(var.operator_trusted_principals) > 0 ? 1 : 0

  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "AWS"
      identifiers = var.operator_trusted_principals
    }
    condition {
      test     = "Bool"
      variable = "aws:MultiFactorAuthPresent"
      values   = ["true"]
    }
  }
}

resource "aws_iam_role" "operator" {
  count = length(var.operator_trusted_principals) > 0 ? 1 : 0

  name                 = "${var.name_prefix}-webhook-ops"
  description          = "On-call operators running webhook-ops (assumed with MFA)."
  assume_role_policy   = data.aws_iam_policy_document.operator_assume[0].json
  max_session_duration = 3600
}

resource "aws_iam_role_policy_attachment" "operator" {
  count = length(var.operator_trusted_principals) > 0 ? 1 : 0

  role       = aws_iam_role.operator[0].name
  policy_arn = aws_iam_policy.operator.arn
}
