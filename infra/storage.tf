# ---------------------------------------------------------------------------
# Events table (storage contract: docs in /DESIGN.md "Storage contract")
# ---------------------------------------------------------------------------

resource "aws_dynamodb_table" "events" {
  name                        = "${var.name_prefix}-events"
  billing_mode                = "PAY_PER_REQUEST" # webhook traffic is bursty and unpredictable
  hash_key                    = "pk"
  deletion_protection_enabled = var.deletion_protection

  # NEW_AND_OLD_IMAGES: a later consumer reacts to status transitions
  # (task_pending -> task_enqueued), which needs both images.
  stream_enabled   = true
  stream_view_type = "NEW_AND_OLD_IMAGES"

  attribute {
    name = "pk"
    type = "S"
  }

  attribute {
    name = "pending_shard"
    type = "S"
  }

  attribute {
    name = "pending_since"
    type = "S"
  }

  # Sparse index of callback tasks not yet confirmed on the queue: only items
  # carrying pending_shard appear in it, and the functions remove that
  # attribute once the send is confirmed, so the reconciler Queries a handful
  # of items instead of scanning the table. Projection ALL: the reconciler
  # needs the `task` attribute, the index stays tiny (pending items are rare
  # and short-lived), and ALL saves a GetItem per pending task.
  global_secondary_index {
    name            = "pending-tasks"
    hash_key        = "pending_shard"
    range_key       = "pending_since"
    projection_type = "ALL"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }

  point_in_time_recovery {
    enabled = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.main.arn
  }
}

# ---------------------------------------------------------------------------
# Callback-request queue (queue contract: /DESIGN.md "Queue contract")
# ---------------------------------------------------------------------------

resource "aws_sqs_queue" "callback" {
  name       = "${var.name_prefix}-callback-requests.fifo"
  fifo_queue = true

  # The functions send MessageDeduplicationId = task_id, so content-based
  # deduplication stays off (two tasks may legitimately carry equal bodies).
  content_based_deduplication = false

  # High-throughput FIFO: ordering and dedup per customer (message group),
  # which is all the contract promises, without the 300 TPS per-queue cap.
  deduplication_scope   = "messageGroup"
  fifo_throughput_limit = "perMessageGroupId"

  # 4 days: a callback request is only useful for hours (windows are tens of
  # minutes to a day), but the consuming team must be able to survive an
  # outage over a long weekend without losing requests; anything older is
  # still recorded in the events table (task attribute) for manual follow-up.
  message_retention_seconds  = 345600
  visibility_timeout_seconds = var.callback_visibility_timeout_seconds

  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300

  # maxReceiveCount 5: a poison task blocks its message group (that customer's
  # later callbacks) until it leaves the queue, so retries are bounded to
  # ~5 visibility timeouts (5 min by default) while still riding out a few
  # transient consumer failures.
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.callback_dlq.arn
    maxReceiveCount     = 5
  })
}

resource "aws_sqs_queue" "callback_dlq" {
  name                        = "${var.name_prefix}-callback-requests-dlq.fifo"
  fifo_queue                  = true
  content_based_deduplication = false

  # 14 days (the SQS maximum): the DLQ is where on-call inspects tasks the
  # consumer could not process; give them the longest time to redrive.
  message_retention_seconds = 1209600

  kms_master_key_id                 = aws_kms_key.main.arn
  kms_data_key_reuse_period_seconds = 300
}

# No aws_sqs_queue_redrive_allow_policy on the DLQ: only this account's
# queues can name it as a DLQ anyway, and moto does not implement the
# attribute (the resource waits forever there).

# ---------------------------------------------------------------------------
# Webhook tokens (SSM SecureString), one parameter per provider.
#
# Terraform does NOT create these parameters. Any aws_ssm_parameter resource,
# even with a placeholder value and lifecycle { ignore_changes = [value] },
# reads the live value back into the state on every refresh, so real tokens
# would end up in terraform.tfstate. Terraform only knows their names
# (local.token_param_names) to grant ssm:GetParameter on exactly one
# parameter per function and pass the name in WEBHOOK_TOKENS_PARAM. Operators
# create/rotate them with `aws ssm put-parameter` (README.md); a function
# whose parameter is missing refuses to start (fail closed).
# ---------------------------------------------------------------------------
